#!/usr/bin/env node
/**
 * Runs every test/*.test.ts with uvu (through tsx) and fails when a test neither passed nor failed.
 *
 * Why a wrapper: uvu 0.5 runs a suite's `before` hooks inside try/finally and *returns* from the
 * finally, so a before hook that throws ends the suite as "(0 / N)" with no failure, and the run
 * still exits 0. Such a suite tested nothing; this script turns it into a failure that names it.
 * Skipped tests (the browser tests without chromium) are not counted in uvu's total, so
 * "every test counted in the total passed" is the whole rule.
 *
 * Usage: node scripts/run-tests.mjs [pattern] [dir]   (default: every file ending in .test.ts under test/;
 * there a pattern picks among those files, so `'cli'` never runs a fixture or helper whose path says cli)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const uvuBin = fileURLToPath(new URL('../node_modules/uvu/bin.js', import.meta.url));
const TEST_FILE = '\\.test\\.ts$';
const [given, dirGiven] = process.argv.slice(2);
const dir = dirGiven ?? 'test';
// In test/, a pattern picks among the .test.ts files; in another folder it is uvu's pattern as given.
const pattern = given === undefined ? TEST_FILE : dirGiven === undefined ? `^(?=.*(?:${given})).*${TEST_FILE}` : given;

const child = spawn(process.execPath, [uvuBin, '-r', 'tsx', dir, pattern], { stdio: ['inherit', 'pipe', 'inherit'] });

let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString('utf8');
});

child.on('close', (code, signal) => {
  if (signal !== null) {
    console.error(`run-tests: uvu ended by ${signal}`);
    process.exit(1);
  }
  const silent = suitesThatStoppedEarly(output);
  if (silent.length > 0) {
    console.error(`\nrun-tests: ${silent.length} suite(s) ran fewer tests than they hold, with no failure reported (a before hook that threw?):`);
    for (const suite of silent) console.error(`  ${suite}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});

/** Files whose "(passed / total)" line has passed < total although no test of it failed. */
function suitesThatStoppedEarly(text) {
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const stopped = [];
  let file = '(unknown file)';
  for (const line of plain.split('\n')) {
    const header = /^\s*(\S+\.ts)\s*$/.exec(line);
    if (header !== null) file = header[1];
    const counts = /\((\d+) \/ (\d+)\)\s*$/.exec(line);
    if (counts === null) continue;
    const passed = Number(counts[1]);
    const total = Number(counts[2]);
    // A failed test prints ✘ on the same line; such a suite already fails the run.
    if (passed < total && !line.includes('✘')) stopped.push(`${file}: ${passed} of ${total} tests ran`);
  }
  return stopped;
}
