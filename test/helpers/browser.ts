/**
 * Debian's chromium driven by playwright-core (which downloads no browser of its own), for the
 * dashboard tests and the screenshot script. .ci/run installs the package.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

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

/** Launch headless chromium; throws (never skips) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `the dashboard browser tests need Debian's chromium at ${CHROMIUM_PATH}; install it with ` +
        '`apt-get install -y chromium` (.ci/run does this)',
    );
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
