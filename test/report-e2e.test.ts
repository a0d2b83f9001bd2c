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

const CONTENT = '0f8fad5b-d9cb-469f-a165-70867728950e';
let mock: TestMock;
let troubleBase: number;

test.before(async () => {
  troubleBase = await freePortBlock(4);
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

  assert.equal(byId['trouble-listener:expired'].examples, idOf((entry) => entry.listener === 'expired'));
  assert.is(byId['trouble-listener:expired'].severity, 'error');
  assert.equal(byId['duplicate-message-id'].examples, idOf((entry) => entry.request?.messageID === duplicate).slice(1));
  assert.is(byId['message-id-not-guid'].count, 1);
  assert.is(byId['content-id-not-guid'].count, 1);
  assert.is(byId['content-type:with a Content-Type other than application/json'].count, 1);
  assert.is(byId['version-as-string'].count, 1);
  assert.match(byId['unknown-fields'].title, /deviceName/);
  assert.is(byId['cookie-too-long'].severity, 'error');
  assert.is(byId['refused-handshake:no certificate'].count, 1);
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
