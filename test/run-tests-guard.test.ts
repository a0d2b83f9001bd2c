/**
 * `npm test` runs the suite through scripts/run-tests.mjs, which fails a run in which a suite ran
 * fewer tests than it holds without reporting a failure (uvu 0.5 does that when a before hook
 * throws, and exits 0). Both cases run the script on fixture files in their own process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAfter } from './helpers/cleanup.js';

const own = closeAfter(test.after.each);
const runTests = fileURLToPath(new URL('../scripts/run-tests.mjs', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/run-tests', import.meta.url));

async function runOn(pattern: string): Promise<{ code: number | null; output: string }> {
  const child = own(spawn(process.execPath, [runTests, pattern, fixtures], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output: output.replace(/\x1b\[[0-9;]*m/g, '') };
}

test('a suite whose before hook throws fails the run and is named', async () => {
  const { code, output } = await runOn('^before-throws\\.fixture\\.ts$');
  assert.match(output, /\(0 \/ 2\)/, 'uvu itself reports the suite as 0 of 2 with no failure');
  assert.is(code, 1);
  assert.match(output, /before-throws\.fixture\.ts: 0 of 2 tests ran/);
});

test('a run in which every test passed exits 0', async () => {
  const { code, output } = await runOn('^all-pass\\.fixture\\.ts$');
  assert.match(output, /\(1 \/ 1\)/);
  assert.is(code, 0, output);
});

test.run();
