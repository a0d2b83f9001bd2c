/**
 * The dashboard screenshots in docs/: starts a mock (with trouble listeners), plays about
 * a minute of license-server traffic at it (a mix of allowed, denied, unmatched, invalid,
 * slow and failing requests, a sloppy client on a trouble listener and refused
 * handshakes), then photographs the page in Debian's chromium:
 *
 *   docs/dashboard.png        the whole page
 *   docs/dashboard-entry.png  one request opened
 *   docs/report.png           the report card panel (content-type-wrong accepted)
 *
 *   npx tsx scripts/screenshots.ts        (SCREENSHOT_SECONDS=60 sets the length of the traffic)
 */
import https from 'node:https';
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { launchChromium } from '../test/helpers/browser.js';
import { entitlementRequest, scenarioFolder, startTestMock, type EntitleOptions, type TestMock } from '../test/helpers/mock.js';
import { freePortBlock } from '../test/helpers/ports.js';

const SECONDS = Number(process.env.SCREENSHOT_SECONDS ?? 60);
const DOCS = new URL('../docs/', import.meta.url);

const STORE_SCENARIO = `name: video-store
description: A video store — premium titles (a1a1…) need a subscription, live titles (1f1f…) come from a flaky origin, devices are checked
rules:
  - name: premium-needs-subscription
    match: { contentID: "a1a1*", customerCookie: { exists: false } }
    respond: { isAllowed: false, error: 403, errorText: "subscription required for {{contentID}}" }
  - name: premium-subscriber
    match: { contentID: "a1a1*", customerCookie: { regex: "^sub-[0-9]+$" } }
    respond: { isAllowed: true }
  - name: flaky-origin
    match: { contentID: "1f1f*" }
    sequence:
      - fault: reset
      - { status: 503, headers: { Retry-After: "1" }, body: "origin busy" }
      - { isAllowed: true }
    loop: true
  - name: device-check
    match: { requestType: [2, 3], customerCookie: { regex: "^dev-[0-9]+$" } }
    respond: { isAllowed: true, delay: { min: 120ms, max: 380ms } }
  - name: catalogue
    match: { contentID: { regex: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" } }
    respond: { isAllowed: true, delay: { min: 2ms, max: 30ms } }
`;

async function main(): Promise<void> {
  const scenarios = await scenarioFolder({ 'video-store.yaml': STORE_SCENARIO });
  for (const name of await readdir('scenarios')) if (name.endsWith('.yaml')) await copyFile(join('scenarios', name), join(scenarios, name));
  const troublePort = await freePortBlock(4);
  const mock = await startTestMock({ scenarios, scenario: 'video-store', troublePort, logLevel: 'warn' });
  console.log(`mock at ${mock.adminUrl}; sending ${SECONDS} s of traffic`);

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1680, height: 1000 } });
    await page.goto(mock.adminUrl);
    await playTraffic(mock, SECONDS * 1000);
    await page.waitForTimeout(2500); // the chart redraws once a second; the report refreshes at most every 3 s
    await page.screenshot({ path: new URL('dashboard.png', DOCS).pathname });

    await page.locator('input[name=unmatched]').check();
    await page.locator('#request-rows [data-id]', { hasText: 'no rule' }).first().click();
    await page.locator('#entry-detail h2').waitFor();
    await page.mouse.move(1500, 600); // off the list, so its rows flow again
    await page.waitForTimeout(300);
    await page.screenshot({ path: new URL('dashboard-entry.png', DOCS).pathname });
    await page.keyboard.press('Escape');
    await page.locator('input[name=unmatched]').uncheck();

    // A finding the team lives with, to show how accepted findings look.
    await page.locator('#report-accept').fill('content-type-wrong');
    await page.locator('#report-accept').press('Enter');
    await page.locator('#report-body li.finding.accepted').waitFor();
    await page.waitForTimeout(300);
    await page.locator('#report-panel').screenshot({ path: new URL('report.png', DOCS).pathname });
    console.log('saved docs/dashboard.png, docs/dashboard-entry.png, docs/report.png');
  } finally {
    await browser.close();
    await mock.close();
  }
}

/** Requests at a rate that rises and falls, from a license server that is mostly right and sometimes sloppy. */
async function playTraffic(mock: TestMock, durationMs: number): Promise<void> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  const started = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  let tick = 0;
  while (Date.now() - started < durationMs) {
    const phase = (Date.now() - started) / durationMs;
    const perTick = Math.round(2 + 6 * Math.sin(phase * Math.PI * 3) ** 2 + Math.random() * 2);
    for (let i = 0; i < perTick; i++) {
      const sent = sendOne(mock, agent, tick * 10 + i).catch(() => undefined);
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
    }
    if (tick % 40 === 7) await refuseHandshake(mock, tick);
    tick++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await Promise.all(inFlight);
  agent.destroy();
}

/** Titles are GUIDs, as in a real catalogue; premium ones start a1a1, live ones 1f1f (see the scenario). */
const titles = (count: number, prefix = '') => Array.from({ length: count }, () => prefix + randomUUID().slice(prefix.length));
const CATALOGUE = titles(37);
const PREMIUM = titles(9, 'a1a1');
const LIVE = titles(3, '1f1f');
const of = (list: string[], n: number) => list[n % list.length] as string;

function sendOne(mock: TestMock, agent: https.Agent, n: number): Promise<unknown> {
  const options: EntitleOptions = { agent, timeoutMs: 5000 };
  const pick = Math.random();
  if (pick < 0.5) return mock.entitle(entitlementRequest({ contentID: of(CATALOGUE, n), requestType: 1 }), options);
  if (pick < 0.6) return mock.entitle(entitlementRequest({ contentID: of(PREMIUM, n) }), options);
  if (pick < 0.66) return mock.entitle(entitlementRequest({ contentID: of(PREMIUM, n), customerCookie: `sub-${4000 + (n % 50)}` }), options);
  if (pick < 0.74) return mock.entitle(entitlementRequest({ contentID: of(LIVE, n) }), options);
  if (pick < 0.82) return mock.entitle(entitlementRequest({ contentID: randomUUID(), requestType: 2, customerCookie: `dev-${n % 400}` }), options);
  if (pick < 0.87) return mock.entitle(entitlementRequest({ contentID: `trailer-${n % 5}`, requestType: 1 }), options); // no rule: near misses
  if (pick < 0.9) return mock.entitle({ version: 1, contentID: of(CATALOGUE, n) }, options); // no messageID
  if (pick < 0.92) return mock.entitle(entitlementRequest({ contentID: of(CATALOGUE, n), version: 2 }), options);
  if (pick < 0.94) return mock.entitle(entitlementRequest({ contentID: of(CATALOGUE, n) }), { ...options, headers: { 'content-type': 'text/plain' } });
  if (pick < 0.96) {
    const repeated = entitlementRequest({ contentID: of(CATALOGUE, n) });
    return mock.entitle(repeated, options).then(() => mock.entitle(repeated, options)); // duplicate messageID
  }
  // The sloppy client: talks to a trouble listener, whose certificate it should have refused.
  return mock.entitle(entitlementRequest({ contentID: of(CATALOGUE, n) }), { ...options, agent: undefined, port: mock.troublePorts.expired, verifyServer: false });
}

/** A client without a certificate, or with one the mock does not trust. */
async function refuseHandshake(mock: TestMock, tick: number): Promise<void> {
  const client = tick % 3 === 0 ? null : tick % 3 === 1 ? mock.pki.expiredClient : mock.pki.foreignClient;
  await mock.entitle(entitlementRequest(), { client, timeoutMs: 2000 }).catch(() => undefined);
}

await main();
