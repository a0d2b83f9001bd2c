/**
 * The dashboard's conformance panel in a real browser (Debian's chromium through playwright-core):
 * a run started and graded while the page is open shows up with its verdicts, as text.
 */
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium, skipBrowserTests } from './helpers/browser.js';
import { closeAfter } from './helpers/cleanup.js';
import { entitlementRequest, startTestMock, type TestMock } from './helpers/mock.js';
import type { RunStarted } from '../src/conformance/types.js';

const test = skipBrowserTests() ? uvuTest.skip : uvuTest;
const own = closeAfter(uvuTest.after);

test('a run appears with a line per case: its verdict, and for a fail the reason, as text', async () => {
  const mock: TestMock = own(await startTestMock());
  const browser = own(await launchChromium());
  const page = own(await browser.newPage({ viewport: { width: 1400, height: 900 } }));
  page.on('pageerror', (error) => {
    throw new Error(`the dashboard threw: ${error.message}`);
  });
  await page.goto(mock.adminUrl);
  await page.locator('#conformance-summary', { hasText: 'No run.' }).waitFor({ timeout: 5000 });

  const hostile = '<img src=x onerror="window.pwned=1"> grants only on a boolean';
  const plan = {
    kind: 'conformance-plan',
    name: 'panel',
    cases: [
      { id: 'grant', title: 'grant', checks: { basis: 'documented', rule: 'an allowed answer grants' }, respond: { isAllowed: true }, expect: { license: 'granted' } },
      { id: 'truthy', title: 'truthy', checks: { basis: 'recommended', rule: hostile }, respond: { isAllowed: 'yes' }, expect: { license: 'refused' } },
    ],
  };
  const run = (await mock.admin('POST', '/admin/conformance/runs', { plan })).json as RunStarted;
  for (const ticket of run.cases) {
    await mock.entitle(entitlementRequest({ contentID: ticket.contentID }));
    await mock.admin('POST', `/admin/conformance/runs/${run.id}/cases/${ticket.id}`, { license: 'granted' });
  }
  await page.locator('#conformance-summary', { hasText: `Run ${run.id} (panel): fail: 1 pass, 1 fail` }).waitFor({ timeout: 5000 });
  const lines = await page.locator('#conformance-cases li').allTextContents();
  assert.is(lines.length, 2);
  assert.match(lines[0] ?? '', /^pass\s*grant$/);
  assert.match(lines[1] ?? '', /^fail\s*truthyRecommended \(the protocol leaves it open\): /);
  assert.match(lines[1] ?? '', `Recommended (the protocol leaves it open): ${hostile}; seen: the client got granted, where it must be refused`);
  assert.is(await page.locator('#conformance-cases img').count(), 0, 'shown as text, never as HTML');
  assert.is(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
});

uvuTest.run();
