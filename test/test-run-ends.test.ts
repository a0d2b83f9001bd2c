/**
 * The test run ends when a browser is missing: the browser test files (those using
 * helpers/browser.ts), run as `npm test` runs them but with EM_CHROMIUM_PATH at a missing
 * executable, exit within seconds, passing with their tests reported as not run, and failing under
 * CI=true (where the browser must be there).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAfter } from './helpers/cleanup.js';
import { slack } from './helpers/slack.js';

const own = closeAfter(test.after.each);
const uvuBin = fileURLToPath(new URL('../node_modules/uvu/bin.js', import.meta.url));
const testFolder = fileURLToPath(new URL('.', import.meta.url));
const browserTestFiles = readdirSync(testFolder).filter(
  (name) => name.endsWith('.test.ts') && /^import .* from '\.\/helpers\/browser\.js';$/m.test(readFileSync(`${testFolder}/${name}`, 'utf8')),
);

/** Run the browser test files in their own process; resolve with how it ended, or with `hung` when it was still running at `limitMs`. */
async function runBrowserTests(env: Record<string, string>, limitMs: number) {
  const { CI: _ci, ...inherited } = process.env;
  const child = own(
    spawn(process.execPath, [uvuBin, '-r', 'tsx', 'test', `^(${browserTestFiles.join('|').replaceAll('.', '\\.')})$`], {
      env: { ...inherited, EM_CHROMIUM_PATH: '/nonexistent/chromium', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), limitMs)));
  const ended = await Promise.race([once(child, 'exit').then(([code]) => code as number | null), hung]);
  clearTimeout(timer);
  return { ended, ms: Date.now() - startedAt, output: output.replace(/\x1b\[[0-9;]*m/g, '') };
}

// 1.5-3.5 s on an idle machine (tsx compiling the files, with CI=true two mocks started and stopped);
// a hang never ends, so the bound only has to be far from that.
const LIMIT_MS = slack(7500);

test('the browser test files are found', () => {
  assert.ok(browserTestFiles.includes('dashboard-browser.test.ts'), browserTestFiles.join(', '));
  assert.not.ok(browserTestFiles.includes('test-run-ends.test.ts'), 'not this file itself');
});

test('without chromium the browser tests are reported as not run, one line says how to enable them, and the files end passing', async () => {
  const { ended, ms, output } = await runBrowserTests({}, LIMIT_MS);
  assert.is.not(ended, 'hung', `still running after ${LIMIT_MS} ms:\n${output}`);
  assert.is(ended, 0, output);
  console.log(`      ended in ${ms} ms`);
  const notRun = output.split('\n').filter((line) => /not run/.test(line));
  assert.is(notRun.length, 1, `one line says the tests were not run:\n${output}`);
  assert.match(notRun[0]!, /\/nonexistent\/chromium.*apt-get install -y chromium/);
  assert.match(output, /Skipped:\s+[1-9]/);
  assert.match(output, /Passed:\s+0/);
});

test('with CI=true a missing chromium fails the browser tests, and the files still end', async () => {
  const { ended, ms, output } = await runBrowserTests({ CI: 'true' }, LIMIT_MS);
  assert.is.not(ended, 'hung', `still running after ${LIMIT_MS} ms:\n${output}`);
  assert.is(ended, 1, output);
  console.log(`      ended in ${ms} ms`);
  assert.match(output, /chromium at \/nonexistent\/chromium.*apt-get install -y chromium/);
  assert.match(output, /Skipped:\s+0/);
});

test.run();
