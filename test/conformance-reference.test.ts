/**
 * The proof of the conformance kit: full runs of the bundled plan against the reference license
 * server (examples/license-server/) over real mutual TLS, trouble listeners on. The correct server
 * passes every case; each planted bug fails exactly the cases that catch it (CAUGHT_BY), and the
 * JUnit XML parses and carries the same verdicts. The variants run at once, each in its own run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XMLParser } from 'fast-xml-parser';
import { startMock, type StartedMock } from '../src/index.js';
import { runConformance, type RunReport } from '../src/client/index.js';
import { GIVE_UP_SLACK_MS } from '../src/conformance/runs.js';
import { BUG_FLAGS, type BugFlag } from '../examples/license-server/bugs.js';
import { startLicenseServer } from '../examples/license-server/license-server.js';
import { askForLicense } from '../examples/license-server/license-client.js';
import { closeAfter } from './helpers/cleanup.js';
import { pooled } from './helpers/pool.js';
import { slack } from './helpers/slack.js';

/**
 * The license server's budget and the run's timeout: the plan's slow case takes 400 ms, and on a
 * busy machine a TLS exchange alone can take a second.
 */
const TIMEOUT_MS = slack(500);

/** The cases of the bundled plan each planted bug fails; every other case passes. */
const CAUGHT_BY: Record<BugFlag, string[]> = {
  'grant-on-mismatched-message-id': ['message-id-mismatched', 'message-id-empty'],
  'ignore-version': ['version-above-request', 'version-missing', 'version-string'],
  'drop-error-text': ['refused-with-error-and-text', 'device-bound-before-registration'],
  'fail-open-on-5xx': ['http-500', 'http-503', 'retries-bounded-on-503'],
  'retry-without-bound': ['retries-bounded-on-503'],
  'reuse-message-id-on-retry': ['http-500', 'http-503', 'reset-before-answer', 'close-before-answer', 'partial-body', 'retries-bounded-on-503'],
  'no-timeout': ['hang-gives-up'],
  'trust-any-certificate': ['server-cert-expired', 'server-cert-wrong-host', 'server-cert-untrusted'],
  'truthy-is-allowed': ['is-allowed-string-true', 'is-allowed-number-one'],
  'skip-host-check': ['server-cert-wrong-host'],
  'no-token-url-check': ['token-url-missing-on-allow'],
};

const ownForFile = closeAfter(test.after);
let mock: StartedMock;
test.before(async () => {
  mock = ownForFile(await startMock({ troublePort: 0 }));
});

/** A whole run of the bundled plan against a reference license server with these bugs, driven by the typed client's helper. */
async function conformanceRun(bugs: BugFlag[]): Promise<{ report: RunReport; junit: string }> {
  const server = await startLicenseServer({
    entitlementUrl: mock.entitlementUrl,
    cert: mock.clientCert.pem,
    key: mock.clientKey.pem,
    ca: mock.ca.pem,
    timeoutMs: TIMEOUT_MS,
    maxRetries: 1,
    bugs,
  });
  let runId: string | null = null;
  try {
        // Past the run's givesUpWithin the client gives up: by then the mock has seen whether the license server did.
    const patienceMs = TIMEOUT_MS + GIVE_UP_SLACK_MS + 500;
    const report = await runConformance(mock.client, { timeout: TIMEOUT_MS }, (testCase) => askForLicense(server.url, testCase, patienceMs));
    runId = report.id;
    return { report, junit: await mock.client.getConformanceRunJunit(report.id) };
  } finally {
    await server.stop();
    if (runId !== null) await mock.client.deleteConformanceRun(runId);
  }
}

const failing = (report: RunReport) => report.cases.filter((testCase) => testCase.verdict === 'fail').map((testCase) => testCase.id);
const explain = (report: RunReport) => report.cases.map((testCase) => `\n  ${testCase.id}: ${testCase.verdict}: ${testCase.reason}`).join('');

/** The JUnit XML, parsed back: one testsuite, one testcase per case, a failure element where the verdict is fail. */
function junitVerdicts(xml: string): { tests: number; failures: number; verdicts: Record<string, 'pass' | 'fail' | 'other'>; failureMessages: Record<string, string> } {
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' || name === 'testsuite' }).parse(xml);
  const suites = parsed.testsuites.testsuite as any[];
  assert.is(suites.length, 1, 'one testsuite');
  const suite = suites[0];
  const verdicts: Record<string, 'pass' | 'fail' | 'other'> = {};
  const failureMessages: Record<string, string> = {};
  for (const testCase of suite.testcase as any[]) {
    const id = String(testCase.name).split(':')[0]!;
    verdicts[id] = testCase.failure !== undefined ? 'fail' : testCase.error !== undefined || testCase.skipped !== undefined ? 'other' : 'pass';
    if (testCase.failure !== undefined) failureMessages[id] = testCase.failure.message;
  }
  return { tests: Number(suite.tests), failures: Number(suite.failures), verdicts, failureMessages };
}

test('the correct reference license server passes every case of the bundled plan over mutual TLS; the JUnit XML says so', async () => {
  const { report, junit } = await conformanceRun([]);
  const ids = report.cases.map((testCase) => testCase.id);
  assert.ok(ids.length >= 33, `${ids.length} cases`);
  assert.equal(
    report.cases.filter((testCase) => testCase.verdict !== 'pass').map((testCase) => testCase.id),
    [],
    explain(report),
  );
  assert.equal(report.counts, { total: ids.length, pass: ids.length, fail: 0, inconclusive: 0, notRun: 0 });
  assert.is(report.verdict, 'pass');
  const byId = new Map(report.cases.map((testCase) => [testCase.id, testCase]));
  // What the mock saw of the correct server: one retry on a 503, none over a bad certificate, a hang given up in time.
  assert.is(byId.get('retries-bounded-on-503')?.seen.requests, 2);
  assert.is(byId.get('server-cert-expired')?.seen.requests, 0);
  const held = byId.get('hang-gives-up')?.seen.heldMs ?? [];
  assert.ok(held.length === 1 && held[0] !== null && held[0]! >= TIMEOUT_MS - 50 && held[0]! <= TIMEOUT_MS + GIVE_UP_SLACK_MS, `held ${held}`);

  const xml = junitVerdicts(junit);
  assert.equal([xml.tests, xml.failures], [ids.length, 0]);
  assert.equal(Object.keys(xml.verdicts), ids);
  assert.ok(Object.values(xml.verdicts).every((verdict) => verdict === 'pass'));
});

test('each planted bug fails exactly the cases that catch it (four variants at a time, one run each); the JUnit XML carries the same verdicts', async () => {
  assert.equal(Object.keys(CAUGHT_BY).sort(), Object.keys(BUG_FLAGS).sort(), 'the table covers every flag');
  const flags = Object.keys(CAUGHT_BY) as BugFlag[];
  const results = await pooled(flags.map((flag) => () => conformanceRun([flag])), 4);
  flags.forEach((flag, index) => {
    const { report, junit } = results[index]!;
    assert.equal(failing(report), CAUGHT_BY[flag], `${flag}:${explain(report)}`);
    assert.is(report.counts.inconclusive + report.counts.notRun, 0, `${flag}: every other case passes:${explain(report)}`);
    assert.is(report.verdict, 'fail');
    const xml = junitVerdicts(junit);
    assert.is(xml.failures, CAUGHT_BY[flag].length, flag);
    assert.equal(
      Object.entries(xml.verdicts).filter(([, verdict]) => verdict === 'fail').map(([id]) => id),
      CAUGHT_BY[flag],
      `${flag}: JUnit failures`,
    );
    // The same reason (a hang's "held open after N ms" grows between the two reports).
    const sameReason = (reason: string | undefined) => reason?.replace(/\d+ ms/g, 'N ms');
    for (const id of CAUGHT_BY[flag]) {
      const reason = report.cases.find((testCase) => testCase.id === id)?.reason;
      assert.is(sameReason(xml.failureMessages[id]), sameReason(reason), `${flag}: ${id}'s failure message is the verdict's reason`);
    }
  });
});

test.run();
