/**
 * Conformance runs over real mutual TLS: the reference license server (examples/license-server/)
 * asks the mock for each case's license, the test posts what its client got, and the verdicts are
 * read back as JSON and as JUnit XML (parsed). The correct server passes every case of the
 * bundled plan; planted bugs fail the cases that catch them; unasked and unposted cases are
 * inconclusive; trouble-listener cases are not-run without --trouble-port.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XMLParser } from 'fast-xml-parser';
import { startTestMock, entitlementRequest, eventually, type TestMock } from './helpers/mock.js';
import { closeAfter } from './helpers/cleanup.js';
import { licenseServers, type LicenseServers } from './helpers/license-server.js';
import { slack } from './helpers/slack.js';
import type { BugFlag } from '../examples/license-server/bugs.js';
import type { CaseReport, CaseTicket, RunReport, RunStarted } from '../src/conformance/types.js';
import { ConformanceRuns, GIVE_UP_SLACK_MS, MIN_TIMEOUT_MS } from '../src/conformance/runs.js';
import { SessionStore } from '../src/session/store.js';
import { Journal } from '../src/journal/journal.js';

/** The run's timeout and the license server's budget per license request: a TLS exchange on a busy machine can take a second. */
const TIMEOUT_MS = Math.max(MIN_TIMEOUT_MS, slack(500));
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ownForFile = closeAfter(test.after);
const own = closeAfter(test.after.each);
let mock: TestMock;
/** The reference license servers of the test running, stopped after it. */
let servers: LicenseServers;
test.before(async () => {
  mock = ownForFile(await startTestMock({ troublePort: 0 }));
});
test.before.each(() => {
  servers = own(licenseServers(mock, TIMEOUT_MS));
});

async function startRun(body: Record<string, unknown> = {}): Promise<RunStarted> {
  const started = await mock.admin('POST', '/admin/conformance/runs', { timeout: TIMEOUT_MS, ...body });
  assert.is(started.status, 201, started.text);
  return started.json as RunStarted;
}

/** Asks the reference license server with these bugs (none: the correct one) for the case's license and posts what its client got. */
async function askAndPost(runId: string, ticket: CaseTicket, bugs: readonly BugFlag[] = []): Promise<CaseReport> {
  const outcome = await servers.ask(ticket, bugs);
  const posted = await mock.admin('POST', `/admin/conformance/runs/${runId}/cases/${ticket.id}`, outcome);
  if (posted.status !== 200) console.error(posted.text, mock.logs.filter((line) => Number(line.level) >= 50));
  assert.is(posted.status, 200, posted.text);
  return posted.json as CaseReport;
}

test('a correct license server passes every case of the bundled plan; tickets are GUID-shaped, per run and case', async () => {
  const run = await startRun();
  assert.match(run.id, /^[0-9a-f]{8}$/);
  assert.is(run.plan, 'entitlement-v1');
  assert.is(run.timeoutMs, TIMEOUT_MS);
  assert.ok(run.cases.length >= 33, `${run.cases.length} cases`);
  const contentIds = run.cases.map((ticket) => ticket.contentID);
  for (const contentID of contentIds) {
    assert.match(contentID, GUID);
    assert.ok(contentID.startsWith(`${run.id}-`));
  }
  assert.is(new Set(contentIds).size, contentIds.length);
  const byId = new Map(run.cases.map((ticket) => [ticket.id, ticket]));
  assert.is(byId.get('hang-gives-up')?.givesUpWithinMs, TIMEOUT_MS + GIVE_UP_SLACK_MS);
  assert.is(byId.get('http-500')?.givesUpWithinMs, undefined);
  const untrusted = byId.get('server-cert-untrusted') as CaseTicket;
  assert.is(untrusted.entitlementUrl, `https://127.0.0.1:${mock.troublePorts['untrusted-ca'] ?? mock.troublePorts.untrusted}/entitlement`);
  assert.equal(
    ['device-bound-before-registration', 'device-registration', 'device-bound-after-registration'].map((id) => [byId.get(id)?.requestType, byId.get(id)?.customerCookie]),
    [[3, 'conformance-device'], [2, 'conformance-device'], [3, 'conformance-device']],
  );

  for (const ticket of run.cases) await askAndPost(run.id, ticket);
  const report = (await mock.admin('GET', `/admin/conformance/runs/${run.id}`)).json as RunReport;
  const notPassed = report.cases.filter((testCase) => testCase.verdict !== 'pass').map((testCase) => `${testCase.id}: ${testCase.verdict}: ${testCase.reason}`);
  assert.equal(notPassed, []);
  assert.equal(report.counts, { total: run.cases.length, pass: run.cases.length, fail: 0, inconclusive: 0, notRun: 0 });
  assert.is(report.verdict, 'pass');

  const cases = new Map(report.cases.map((testCase) => [testCase.id, testCase]));
  const hang = cases.get('hang-gives-up') as CaseReport;
  assert.is(hang.givesUpWithinMs, TIMEOUT_MS + GIVE_UP_SLACK_MS);
  assert.is(hang.seen.requests, 1, 'its budget is for all attempts together: none left for a retry');
  for (const held of hang.seen.heldMs) assert.ok(held !== null && held >= TIMEOUT_MS / 2 && held <= TIMEOUT_MS + GIVE_UP_SLACK_MS, `held ${held}`);
  const retried = cases.get('retries-bounded-on-503') as CaseReport;
  assert.is(retried.seen.requests, 2);
  assert.is(new Set(retried.seen.messageIDs).size, 2, 'each attempt has its own messageID');
  assert.is((cases.get('server-cert-expired') as CaseReport).seen.requests, 0);
  assert.equal((cases.get('refused-with-error-and-text') as CaseReport).outcome, {
    license: 'refused',
    code: 1403,
    text: 'subscription expired',
    elapsedMs: (cases.get('refused-with-error-and-text') as CaseReport).outcome?.elapsedMs as number,
  });

  // The run's requests went through its session, and nothing else did.
  const journal = (await mock.admin('GET', `/admin/requests?session=conformance-${run.id}`)).json as { requests: { request: { contentID: string } }[] };
  assert.ok(journal.requests.length >= run.cases.length - 3 && journal.requests.every((entry) => entry.request.contentID.startsWith(`${run.id}-`)));
  assert.is((await mock.admin('DELETE', `/admin/conformance/runs/${run.id}`)).status, 200);
});

test('each planted bug fails the cases that catch it, with what the protocol asks and what was seen', async () => {
  // A server that parses the answer laxly still passes the case its bugs do not touch.
  const lax: BugFlag[] = ['grant-on-mismatched-message-id', 'truthy-is-allowed'];
  const flawed: Record<string, readonly BugFlag[]> = {
    'granted-with-token-url': lax,
    'message-id-mismatched': lax,
    'is-allowed-string-true': lax,
    'refused-with-error-and-text': ['drop-error-text'],
    'server-cert-untrusted': ['trust-any-certificate'],
    'server-cert-wrong-host': [],
    'hang-gives-up': ['no-timeout'],
    'retries-bounded-on-503': ['retry-without-bound'],
  };
  const run = await startRun({ cases: [...Object.keys(flawed), 'http-404', 'body-empty'] });
  assert.equal(run.cases.map((ticket) => ticket.id).slice(0, 3), ['granted-with-token-url', 'refused-with-error-and-text', 'message-id-mismatched'], 'plan order');
  const verdicts: Record<string, string> = {};
  for (const ticket of run.cases) {
    const bugs = flawed[ticket.id];
    if (bugs !== undefined) verdicts[ticket.id] = (await askAndPost(run.id, ticket, bugs)).verdict;
  }
  // http-404: never asked, never posted; body-empty: posted without asking.
  const body = run.cases.find((ticket) => ticket.id === 'body-empty') as CaseTicket;
  const unasked = await mock.admin('POST', `/admin/conformance/runs/${run.id}/cases/${body.id}`, { license: 'refused', code: 502 });
  assert.is(unasked.json.verdict, 'inconclusive');
  assert.match(unasked.json.reason, `no request for contentID ${body.contentID} reached the mock`);

  assert.equal(verdicts, {
    'granted-with-token-url': 'pass',
    'refused-with-error-and-text': 'fail',
    'message-id-mismatched': 'fail',
    'is-allowed-string-true': 'fail',
    'hang-gives-up': 'fail',
    'server-cert-wrong-host': 'pass',
    'server-cert-untrusted': 'fail',
    'retries-bounded-on-503': 'fail',
  });
  const report = (await mock.admin('GET', `/admin/conformance/runs/${run.id}`)).json as RunReport;
  assert.equal(report.counts, { total: 10, pass: 2, fail: 6, inconclusive: 2, notRun: 0 });
  assert.is(report.verdict, 'fail');
  const reason = (id: string) => (report.cases.find((testCase) => testCase.id === id) as CaseReport).reason;
  assert.match(reason('message-id-mismatched'), "The protocol asks: the answer's messageID must match the request's, or the entitlement is denied; seen: the client got granted, where it must be refused");
  assert.match(reason('refused-with-error-and-text'), "seen: the client got code none, where the service's error 1403 must reach it");
  assert.match(reason('server-cert-untrusted'), 'completed the TLS handshake with a certificate from a CA it does not trust and sent 1 request over it');
  // no-timeout still waits when the harness stops waiting and posts its refusal.
  assert.match(reason('hang-gives-up'), new RegExp(`; seen: request \\d+ still held open after \\d+ ms, past ${TIMEOUT_MS + GIVE_UP_SLACK_MS} ms$`));
  // retry-without-bound retries until an attempt times out or 20 attempts: a 503 comes back fast, so many more than 4.
  const retried = (report.cases.find((testCase) => testCase.id === 'retries-bounded-on-503') as CaseReport).seen.requests;
  assert.ok(retried > 4, `${retried} requests`);
  assert.match(reason('retries-bounded-on-503'), `; seen: ${retried} requests for the case, ${retried - 1} retries where at most 3 are expected`);
  assert.is(reason('http-404'), 'no outcome posted and no request seen yet');

  const xml = await mock.admin('GET', `/admin/conformance/runs/${run.id}/junit`);
  assert.is(xml.status, 200);
  assert.match(xml.headers.get('content-type') ?? '', 'application/xml');
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(xml.text);
  const suite = parsed.testsuites.testsuite;
  assert.equal([suite.tests, suite.failures, suite.errors, suite.skipped], ['10', '6', '2', '0']);
  assert.is(suite.testcase.length, 10);
  const junitCase = (id: string) => suite.testcase.find((each: { name: string }) => each.name.startsWith(`${id}: `));
  assert.is(junitCase('message-id-mismatched').failure.message, reason('message-id-mismatched'));
  assert.is(junitCase('message-id-mismatched').failure.type, 'documented');
  assert.is(junitCase('http-404').error.type, 'inconclusive');
  assert.is(junitCase('granted-with-token-url').failure, undefined);
  assert.is((await mock.admin('DELETE', `/admin/conformance/runs/${run.id}`)).status, 200);
});

test('a plan of your own can send a case through the revoked listener: a client that checks no revocation fails it', async () => {
  const plan = {
    kind: 'conformance-plan',
    cases: [{ id: 'revoked', title: 'revoked', checks: { basis: 'recommended', rule: 'a revoked certificate ends the handshake' }, listener: 'revoked', respond: { isAllowed: true }, expect: { license: 'refused' } }],
  };
  const run = await startRun({ plan });
  const ticket = run.cases[0] as CaseTicket;
  assert.is(ticket.entitlementUrl, `https://127.0.0.1:${mock.troublePorts.revoked}/entitlement`);
  const report = await askAndPost(run.id, ticket);
  assert.is(report.verdict, 'fail');
  assert.match(report.reason, 'completed the TLS handshake with a certificate its CA has revoked and sent 1 request over it');
  assert.equal(report.seen.listeners, ['revoked']);
});

test('without --trouble-port the certificate cases are not-run, said in the ticket, skipped in JUnit', async () => {
  const plain = ownForFile(await startTestMock());
  const started = await plain.admin('POST', '/admin/conformance/runs', { cases: ['server-cert-expired', 'granted-with-token-url'] });
  assert.is(started.status, 201, started.text);
  const [granted, expired] = (started.json as RunStarted).cases as [CaseTicket, CaseTicket];
  assert.is(expired.entitlementUrl, undefined);
  assert.match(expired.notRun ?? '', 'start the mock with --trouble-port');
  assert.is(granted.notRun, undefined);
  const report = (await plain.admin('GET', `/admin/conformance/runs/${(started.json as RunStarted).id}`)).json as RunReport;
  assert.equal(report.cases.map((testCase) => [testCase.id, testCase.verdict]), [['granted-with-token-url', 'inconclusive'], ['server-cert-expired', 'not-run']]);
  const xml = (await plain.admin('GET', `/admin/conformance/runs/${(started.json as RunStarted).id}/junit`)).text;
  const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml).testsuites.testsuite;
  assert.is(suite.skipped, '1');
  assert.match(suite.testcase[1].skipped.message, '--trouble-port');
});

test('bad input gets a clear answer: unknown plan or case, an invalid plan with line and column, a timeout out of range', async () => {
  const unknownPlan = await mock.admin('POST', '/admin/conformance/runs', { plan: 'entitlement-v9' });
  assert.is(unknownPlan.status, 400);
  assert.match(unknownPlan.json.message, 'no bundled plan "entitlement-v9"; bundled: entitlement-v1');
  const unknownCase = await mock.admin('POST', '/admin/conformance/runs', { cases: ['granted-with-token-url', 'nope'] });
  assert.is(unknownCase.status, 400);
  assert.match(unknownCase.json.message, 'no case "nope" in plan entitlement-v1');
  const invalid = await mock.admin('POST', '/admin/conformance/runs', {
    plan: 'kind: conformance-plan\ncases:\n  - id: a\n    title: t\n    checks: {basis: documented, rule: r}\n    respond: {isAllowed: yes}\n    expect: {license: maybe}\n',
  });
  assert.is(invalid.status, 400);
  assert.equal(invalid.json.errors.map((error: { line: number; column: number }) => [error.line, error.column]), [[7, 23]]);
  assert.match(invalid.json.errors[0].message, 'expected granted or refused');
  const tooShort = await mock.admin('POST', '/admin/conformance/runs', { timeout: '10ms' });
  assert.is(tooShort.status, 400);
  assert.is(tooShort.json.field, 'timeout');
  assert.is((await mock.admin('GET', '/admin/conformance/runs/0badc0de')).status, 404);
});

test('a plan given as an object; other traffic is untouched; DELETE and reset end a run; its contentIDs go back to the scenario', async () => {
  const plan = {
    kind: 'conformance-plan',
    name: 'mine',
    cases: [{ id: 'deny', title: 'deny', checks: { basis: 'documented', rule: 'r' }, respond: { isAllowed: false, error: 7 }, expect: { license: 'refused', code: 7 } }],
  };
  const run = await startRun({ plan });
  assert.is(run.plan, 'mine');
  const ticket = run.cases[0] as CaseTicket;
  const inRun = await mock.entitle(entitlementRequest({ contentID: ticket.contentID }));
  assert.equal([inRun.json.isAllowed, inRun.json.error], [false, 7]);
  const other = await mock.entitle(entitlementRequest());
  assert.is(other.json.isAllowed, true);
  const listed = (await mock.admin('GET', '/admin/conformance/runs')).json as { runs: { id: string }[] };
  assert.ok(listed.runs.some((each) => each.id === run.id));

  assert.equal((await mock.admin('DELETE', `/admin/conformance/runs/${run.id}`)).json, { removed: run.id });
  assert.is((await mock.admin('GET', `/admin/conformance/runs/${run.id}`)).status, 404);
  assert.is((await mock.admin('POST', `/admin/conformance/runs/${run.id}/cases/deny`, { license: 'refused' })).status, 404);
  assert.is((await mock.entitle(entitlementRequest({ contentID: ticket.contentID }))).json.isAllowed, true);

  const badHost = await mock.admin('POST', '/admin/conformance/runs', { plan, host: 'evil/path?' });
  assert.is(badHost.status, 400);
  assert.is(badHost.json.field, 'host');

  const second = await startRun({ plan });
  assert.is((await mock.admin('POST', '/admin/reset')).status, 200);
  assert.is((await mock.admin('GET', `/admin/conformance/runs/${second.id}`)).status, 404);
});

test('a run nobody asks about expires after its idle time, with its session', async () => {
  const sessions = new SessionStore(1);
  const runs = new ConformanceRuns({ sessions, journal: new Journal(10), path: '/entitlement', host: 'localhost', troublePorts: {}, idleMs: 50 });
  try {
    const started = runs.start({ cases: ['granted-with-token-url'] });
    assert.is(started.kind, 'started');
    assert.is(sessions.size, 1);
    await eventually(() => runs.size === 0 && sessions.size === 0, { what: 'the idle run ended' });
  } finally {
    runs.close();
    sessions.close();
  }
});

test.run();
