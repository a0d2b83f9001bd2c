/**
 * Debian's chromium driven by playwright-core (which downloads no browser of its own), for the
 * dashboard tests and the screenshot script. .ci/run installs the package; EM_CHROMIUM_PATH
 * points at another chromium (or at a missing one, to see how the tests behave without it).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.EM_CHROMIUM_PATH || '/usr/bin/chromium';

/** How to get the browser, for the messages of the tests that need it. */
export const CHROMIUM_HINT = `install Debian's chromium (apt-get install -y chromium; .ci/run does) or set EM_CHROMIUM_PATH`;

/** Quiet, offline, throwaway: no GPU, no QUIC, no first-run, no background traffic, no sync. Playwright gives it a fresh profile. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let toldWhy = false;

/**
 * Whether the browser tests are skipped here: without chromium they are, except on CI (CI=true),
 * where a missing browser must fail them. The first test file to ask prints the one line saying
 * why and how to run them.
 */
export function skipBrowserTests(): boolean {
  const onCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
  if (existsSync(CHROMIUM_PATH) || onCi) return false;
  if (!toldWhy) console.log(`  browser tests not run: no chromium at ${CHROMIUM_PATH}; to run them, ${CHROMIUM_HINT}`);
  toldWhy = true;
  return true;
}

/** Launch headless chromium; throws (never skips) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`the dashboard browser tests need chromium at ${CHROMIUM_PATH}: ${CHROMIUM_HINT}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
