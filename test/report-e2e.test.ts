/**
 * The report card over real mTLS: a deliberately sloppy license server (scripted here)
 * gets a finding for each thing it does wrong; a clean one gets none. Also the CLI's
 * exit codes, which a CI job uses.
 */
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run as reportCli } from '../src/cli/report.js';
import { entitlementRequest, eventually, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';
import { freePortBlock } from './helpers/ports.js';
import { runCaptured } from './helpers/cli.js';
import { checkedFetch } from './helpers/openapi.js';
import { AdminClient } from '../src/client/index.js';

const CONTENT = '0f8fad5b-d9cb-469f-a165-70867728950e';
let mock: TestMock;
let troubleBase: number;

test.before(async () => {
  troubleBase = await freePortBlock(6);
  const scenarios = await scenarioFolder({
    'default.yaml': [
      'rules:',
      '  - name: flaky',
      '    match: { customerCookie: flaky }',
      '    sequence: [{ fault: reset }, { isAllowed: true }]',
      '  - name: stuck',
      '    match: { customerCookie: stuck }',
      '    times: 1',
      '    respond: { fault: hang }',
      '  - name: allow',
      '    respond: { isAllowed: true }',
    ].join('\n'),
  });
  mock = await startTestMock({ scenarios, troublePort: troubleBase, logLevel: 'silent' });
});
test.after(async () => {
  await mock.close(0);
});

async function report() {
  const reply = await mock.admin('GET', '/admin/report');
  assert.is(reply.status, 200);
  return reply.json;
}

test('a clean license server: no findings, and the CLI exits 0 even with --fail-on warn', async () => {
  await mock.admin('POST', '/admin/reset');
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
  try {
    for (let index = 0; index < 4; index++) {
      const reply = await mock.entitle(entitlementRequest({ contentID: CONTENT, requestType: 1 }), { agent });
      assert.is(reply.status, 200);
    }
  } finally {
    agent.destroy();
  }
  const card = await report();
  assert.equal(card.findings, []);
  assert.is(card.requests, 4);
  assert.is(card.profile.connections, 1, 'one keep-alive connection');
  assert.ok(card.profile.tlsVersions['TLSv1.3'] === 1, JSON.stringify(card.profile.tlsVersions));
  const cli = await runCaptured(reportCli, ['--admin-url', mock.adminUrl, '--fail-on', 'warn']);
  assert.is(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /No findings/);
});

test("refusing a trouble listener's certificate is what a license server should do: no finding", async () => {
  await mock.admin('POST', '/admin/reset');
  // Verifies its peer: the expired-certificate listener is refused by the client (a TLS alert).
  const refusal = await mock.entitle(entitlementRequest({ contentID: CONTENT }), { port: troubleBase }).then(
    () => 'served',
    (error: Error) => error.message,
  );
  assert.match(refusal, /expired/);
  await eventually(async () => (await mock.admin('GET', '/admin/tls-failures')).json.total === 1, { what: 'the refusal recorded' });
  const failures = (await mock.admin('GET', '/admin/tls-failures')).json.failures;
  // An alert, or (Node's client under TLS 1.3) a reset once it has judged the certificate.
  assert.match(failures[0].reason, /^(client refused the server certificate|connection reset during handshake)/);
  const card = await report();
  assert.is(card.refusedHandshakes, 1);
  assert.equal(card.findings, []);
});

test('a report per test: ?session= and ?since= (entry id or time) cover only those requests; handshakes are left out', async () => {
  await mock.admin('POST', '/admin/reset');
  await mock.entitle(entitlementRequest({ customerCookie: 'c'.repeat(40) }), { client: null }).catch(() => undefined);
  assert.is((await mock.admin('POST', '/admin/sessions', { id: 'test-one', key: { contentID: 'one-*' } })).status, 201);
  await mock.entitle({ messageID: 'not-a-guid', version: 1, contentID: 'one-1' });
  const before = (await mock.admin('GET', '/admin/requests?limit=1')).json.requests[0].id as number;
  const middle = new Date().toISOString();
  await mock.entitle(entitlementRequest({ contentID: CONTENT }), { headers: { 'content-type': 'text/plain' } });

  const whole = await report();
  assert.equal(whole.scope, { session: null, since: null });
  assert.equal(
    whole.findings.map((found: any) => found.id).sort(),
    ['client-cert-missing', 'content-id-not-guid', 'content-type-wrong', 'message-id-not-guid'],
  );
  const session = (await mock.admin('GET', '/admin/report?session=test-one')).json;
  assert.equal(session.scope, { session: 'test-one', since: null });
  assert.is(session.requests, 1);
  assert.is(session.refusedHandshakes, 0);
  assert.equal(session.findings.map((found: any) => found.id).sort(), ['content-id-not-guid', 'message-id-not-guid']);
  for (const since of [String(before), middle]) {
    const after = (await mock.admin('GET', `/admin/report?since=${encodeURIComponent(since)}`)).json;
    assert.is(after.requests, 1, since);
    assert.equal(after.findings.map((found: any) => found.id), ['content-type-wrong'], since);
  }
  const client = await new AdminClient(mock.adminUrl, { fetch: checkedFetch }).report({ session: 'test-one', since: before, accept: ['message-id-not-guid'] });
  assert.is(client.requests, 0);
  assert.equal(client.scope, { session: 'test-one', since: String(before) });

  const badSince = await mock.admin('GET', '/admin/report?since=last-tuesday');
  assert.is(badSince.status, 400);
  assert.is(badSince.json.field, 'since');
  assert.match(badSince.json.message, /must be a journal entry id or an ISO 8601 time, got "last-tuesday"/);
});

test('accepted findings: ?accept= marks them; the CLI exits 0 with --fail-on once every failing finding is accepted', async () => {
  await mock.admin('POST', '/admin/reset');
  await mock.entitle(entitlementRequest({ contentID: CONTENT }), { port: troubleBase, verifyServer: false });
  await mock.entitle({ messageID: randomUUID(), version: 1, contentID: CONTENT }, { headers: { 'content-type': 'text/json' } });

  const accepted = (await mock.admin('GET', '/admin/report?accept=trouble-listener-expired')).json;
  assert.equal(
    accepted.findings.map((found: any) => [found.id, found.accepted]),
    [
      ['content-type-wrong', false],
      ['trouble-listener-expired', true],
    ],
  );
  const unknown = await mock.admin('GET', '/admin/report?accept=trouble-listener:expired');
  assert.is(unknown.status, 400);
  assert.is(unknown.json.field, 'accept');
  assert.match(unknown.json.message, /unknown finding id "trouble-listener:expired"/);

  const url = ['--admin-url', mock.adminUrl];
  const failing = await runCaptured(reportCli, [...url, '--fail-on', 'error']);
  assert.is(failing.code, 1, failing.stdout);
  const acceptedError = await runCaptured(reportCli, [...url, '--fail-on', 'error', '--accept', 'trouble-listener-expired']);
  assert.is(acceptedError.code, 0, acceptedError.stdout + acceptedError.stderr);
  assert.match(acceptedError.stdout, /✓ accepted {2}sent 1 request over a server certificate that has expired .*\[trouble-listener-expired, error\]/);
  const stillWarn = await runCaptured(reportCli, [...url, '--fail-on', 'warn', '--accept', 'trouble-listener-expired']);
  assert.is(stillWarn.code, 1, 'the warning is not accepted');
  const both = await runCaptured(reportCli, [...url, '--fail-on', 'warn', '--accept', 'trouble-listener-expired', '--accept', 'content-type-wrong']);
  assert.is(both.code, 0, both.stdout + both.stderr);
  const fromEnv = await runCaptured(reportCli, [...url, '--fail-on', 'warn'], { EM_REPORT_ACCEPT: 'trouble-listener-expired,content-type-wrong' });
  assert.is(fromEnv.code, 0, fromEnv.stdout + fromEnv.stderr);

  const folder = await scenarioFolder({ 'accept.yaml': 'accept:\n  - trouble-listener-expired  # we test TLS elsewhere\n  - content-type-wrong\n', 'typo.yaml': 'accept:\n  - content-type\n' });
  const fromFile = await runCaptured(reportCli, [...url, '--fail-on', 'warn', '--accept-file', `${folder}/accept.yaml`]);
  assert.is(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
  const json = JSON.parse((await runCaptured(reportCli, [...url, '--json', '--accept-file', `${folder}/accept.yaml`])).stdout);
  assert.ok(json.findings.every((found: any) => found.accepted));
  const typo = await runCaptured(reportCli, [...url, '--fail-on', 'warn', '--accept-file', `${folder}/typo.yaml`]);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, /--accept-file: .*typo\.yaml:2:5: accept: unknown finding id "content-type"/);
  const badFlag = await runCaptured(reportCli, [...url, '--accept', 'content-type:with a Content-Type other than application/json']);
  assert.is(badFlag.code, 2);
  assert.match(badFlag.stderr, /--accept: unknown finding id/);
});

test('a sloppy license server: each thing it did wrong is a finding with example entries', async () => {
  await mock.admin('POST', '/admin/reset');
  const duplicate = randomUUID();
  await mock.entitle({ messageID: duplicate, version: 1, contentID: CONTENT });
  await mock.entitle({ messageID: duplicate, version: 1, contentID: CONTENT });
  await mock.entitle({ messageID: 'msg-1', version: '1', contentID: 'movie-1', deviceName: 'tv' }, { headers: { 'content-type': 'text/plain' } });
  await mock.entitle(entitlementRequest({ customerCookie: 'c'.repeat(40) }));
  // It skips server certificate verification: the expired-certificate trouble listener serves it.
  await mock.entitle(entitlementRequest({ contentID: CONTENT }), { port: troubleBase, verifyServer: false });
  // It forgot its client certificate once.
  await mock.entitle(entitlementRequest(), { client: null }).catch(() => undefined);
  // A reset, then a retry; a held answer abandoned after 300 ms, then a retry.
  const flaky = entitlementRequest({ contentID: CONTENT, customerCookie: 'flaky' });
  await mock.entitle(flaky).catch(() => undefined);
  await mock.entitle({ ...flaky, messageID: randomUUID() });
  const stuck = entitlementRequest({ contentID: CONTENT, customerCookie: 'stuck' });
  await mock.entitle(stuck, { timeoutMs: 300 }).catch(() => undefined);
  await eventually(async () => (await mock.admin('GET', '/admin/requests?rule=stuck')).json.requests[0]?.durationMs !== null);
  await mock.entitle({ ...stuck, messageID: randomUUID() });

  const card = await report();
  const byId = Object.fromEntries(card.findings.map((found: any) => [found.id, found]));
  const journal = (await mock.admin('GET', '/admin/requests')).json.requests;
  const idOf = (predicate: (entry: any) => boolean) => journal.filter(predicate).map((entry: any) => entry.id);

  assert.equal(byId['trouble-listener-expired'].examples, idOf((entry) => entry.listener === 'expired'));
  assert.is(byId['trouble-listener-expired'].severity, 'error');
  assert.equal(byId['duplicate-message-id'].examples, idOf((entry) => entry.request?.messageID === duplicate).slice(1));
  assert.is(byId['message-id-not-guid'].count, 1);
  assert.is(byId['content-id-not-guid'].count, 1);
  assert.is(byId['content-type-wrong'].count, 1);
  assert.is(byId['version-as-string'].count, 1);
  assert.match(byId['unknown-fields'].title, /deviceName/);
  assert.is(byId['cookie-too-long'].severity, 'error');
  assert.is(byId['client-cert-missing'].count, 1);
  for (const found of card.findings) assert.match(found.advice, /^A license server /, found.id);

  const reactions = Object.fromEntries(card.profile.faultReactions.map((reaction: any) => [reaction.failure, reaction]));
  assert.is(reactions.reset.retried, 1);
  assert.is(reactions.hang.retried, 1);
  assert.ok(reactions.hang.gaveUpAfterMs.max >= 250 && reactions.hang.gaveUpAfterMs.max < 2000, JSON.stringify(reactions.hang));

  const failing = await runCaptured(reportCli, ['--admin-url', mock.adminUrl, '--fail-on', 'error']);
  assert.is(failing.code, 1);
  assert.match(failing.stdout, /✗ error .*expired/);
  assert.match(failing.stdout, /After hang: retried 1 of 1, gave up after \d+ ms/);
  const reportOnly = await runCaptured(reportCli, ['--admin-url', mock.adminUrl, '--json']);
  assert.is(reportOnly.code, 0);
  assert.equal(JSON.parse(reportOnly.stdout).findings.map((found: any) => found.id), card.findings.map((found: any) => found.id));
});

test('the CLI: a bad --fail-on is a usage error (2); an unreachable admin API is exit 3', async () => {
  const usage = await runCaptured(reportCli, ['--fail-on', 'fatal']);
  assert.is(usage.code, 2);
  assert.match(usage.stderr, /--fail-on: expected warn or error, got "fatal"/);
  const port = await freePortBlock(1);
  const unreachable = await runCaptured(reportCli, ['--admin-url', `http://127.0.0.1:${port}`]);
  assert.is(unreachable.code, 3);
  assert.match(unreachable.stderr, /connection refused/);
});

test.run();
