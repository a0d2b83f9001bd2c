/**
 * `entitlement-mock request`: passes against the mock, and fails — naming the
 * check — against scenarios that answer wrongly on purpose, one per protocol check.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../src/cli/request.js';
import { runCaptured, type CliResult } from './helpers/cli.js';
import { CHECK_NAMES, type CheckName } from '../src/protocol/checks.js';
import { startTestMock, type TestMock } from './helpers/mock.js';
import { slack } from './helpers/slack.js';

const request = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> => runCaptured(run, args, env);

let mock: TestMock;
let credentials: string[];
let scratch: string;

/** `request --json` against the mock with the license-server certificate. */
async function probe(extra: string[] = []): Promise<{ code: number; report: any; result: CliResult }> {
  const result = await request(['--url', mock.entitlementUrl, ...credentials, '--json', ...extra]);
  return { code: result.code, report: result.stdout ? JSON.parse(result.stdout) : null, result };
}

function failedChecks(report: any): CheckName[] {
  return report.checks.filter((check: { ok: boolean }) => !check.ok).map((check: { name: CheckName }) => check.name);
}

/** POST a one-rule scenario answering with `respond` (YAML flow text) and activate it. */
async function answerWith(respond: string): Promise<void> {
  const name = `probe-${randomUUID().slice(0, 8)}`;
  const yaml = `name: ${name}\nrules:\n  - name: the-answer\n    respond: ${respond}\n`;
  const reply = await mock.admin('POST', '/admin/scenarios', yaml, { 'content-type': 'application/yaml' });
  assert.is(reply.status, 201, reply.text);
}

test.before(async () => {
  mock = await startTestMock();
  const dir = mock.pki.dir;
  credentials = ['--cert', join(dir, 'client.crt'), '--key', join(dir, 'client.key'), '--ca', join(dir, 'ca.crt')];
  scratch = mkdtempSync(join(tmpdir(), 'em-request-test-'));
});
test.before.each(async () => {
  assert.is((await mock.admin('PUT', '/admin/scenarios/active', { name: 'default' })).status, 200);
});
test.after(async () => {
  await mock.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('against the mock: every check passes, exit 0, and the journal has the request', async () => {
  const { code, report, result } = await probe();
  assert.is(code, 0, result.stdout);
  assert.is(report.ok, true);
  assert.equal(failedChecks(report), []);
  assert.equal(report.checks.map((check: { name: string }) => check.name), [...CHECK_NAMES]);
  assert.is(report.response.status, 200);
  assert.is(report.response.body.messageID, report.request.body.messageID);
  const journal = await mock.admin('GET', '/admin/requests?limit=1');
  assert.equal(journal.json.requests[0].request, report.request.body);
  assert.is(journal.json.requests[0].clientCN, 'license-server');
});

test('text output shows the request, the response and each check with ✓', async () => {
  const result = await request(['--url', mock.entitlementUrl, ...credentials]);
  assert.is(result.code, 0, result.stdout);
  assert.match(result.stdout, `→ POST ${mock.entitlementUrl}`);
  assert.match(result.stdout, /← HTTP 200 OK in \d+ ms/);
  for (const name of CHECK_NAMES) assert.match(result.stdout, `✓ ${name}`);
  assert.match(result.stdout, 'OK: all 10 checks passed');
});

test('the request carries the fields given, as a license server sends them', async () => {
  const messageID = randomUUID();
  const { code } = await probe(['--content-id', 'movie-1', '--request-type', '2', '--cookie', 'dev-7', '--message-id', messageID, '--version', '1']);
  assert.is(code, 0);
  const entry = (await mock.admin('GET', '/admin/requests?limit=1')).json.requests[0];
  assert.equal(entry.request, { messageID, version: 1, contentID: 'movie-1', requestType: 2, customerCookie: 'dev-7' });
  assert.is(entry.method, 'POST');
  assert.match(entry.headers['content-type'], /^application\/json/);
  assert.equal(entry.warnings.filter((warning: string) => !warning.startsWith('contentID')), []);
});

test('defaults: client certificate, key and CA from EM_CERTS', async () => {
  const result = await request(['--url', mock.entitlementUrl], { EM_CERTS: mock.pki.dir });
  assert.is(result.code, 0, result.stdout + result.stderr);
});

test('without --url: the mock serve would start from EM_HOST, EM_PORT and EM_PATH (as health follows EM_ADMIN_PORT)', async () => {
  const env = { EM_CERTS: mock.pki.dir, EM_HOST: '127.0.0.1', EM_PORT: String(mock.port), EM_PATH: '/entitlement' };
  const here = await request(['--json'], env);
  assert.is(here.code, 0, here.stdout + here.stderr);
  assert.is(JSON.parse(here.stdout).request.url, `https://127.0.0.1:${mock.port}/entitlement`);
  const elsewhere = await request(['--json'], { ...env, EM_PATH: '/elsewhere' });
  assert.is(elsewhere.code, 1);
  assert.is(JSON.parse(elsewhere.stdout).request.url, `https://127.0.0.1:${mock.port}/elsewhere`);
  assert.is(JSON.parse(elsewhere.stdout).response.status, 404, 'it went to this mock, at that path');
  const wildcard = await request(['--json'], { ...env, EM_HOST: '0.0.0.0' });
  assert.is(JSON.parse(wildcard.stdout).request.url, `https://localhost:${mock.port}/entitlement`, 'a wildcard address is asked at localhost');
  const help = await request(['--help']);
  for (const name of ['EM_HOST', 'EM_PORT', 'EM_PATH', 'EM_CERTS']) assert.ok(help.stdout.includes(name), name);
});

// One scenario per protocol check, each answering wrongly in exactly that way.
const wrongAnswers: [CheckName, string, CheckName[]?][] = [
  ['HTTP status 200', '{ status: 503 }'],
  ['Content-Type is JSON', '{ headers: { Content-Type: text/plain } }'],
  ['body is a JSON object', '{ body: "<html>busy</html>", headers: { Content-Type: application/json } }', CHECK_NAMES.slice(2)],
  ['messageID echoed', '{ messageID: mismatch }'],
  ["version present, an integer, <= the request's", '{ version: 2 }'],
  ['isAllowed present and a boolean', '{ isAllowed: "yes" }'],
  ['epTokenURL present and a string', '{ isAllowed: false, omit: [epTokenURL] }'],
  ['epTokenURL an absolute http(s) URL when isAllowed is true', '{ epTokenURL: "/hms/fp/rights/?ExpressPlayToken=relative" }'],
  ['error an integer when present', '{ isAllowed: false, error: "403" }'],
  ['errorText a string when present', '{ isAllowed: false, error: 403, errorText: 403 }'],
];
for (const [check, respond, expectedFailures] of wrongAnswers) {
  test(`fails "${check}" against a scenario answering ${respond}`, async () => {
    await answerWith(respond);
    const { code, report } = await probe();
    assert.is(code, 1);
    assert.is(report.ok, false);
    assert.equal(failedChecks(report), expectedFailures ?? [check]);
  });
}

test('a mismatched messageID in text output: ✗ with both IDs', async () => {
  await answerWith('{ messageID: mismatch }');
  const messageID = randomUUID();
  const result = await request(['--url', mock.entitlementUrl, ...credentials, '--message-id', messageID]);
  assert.is(result.code, 1);
  assert.match(result.stdout, `✗ messageID echoed: expected "${messageID}", got "`);
  assert.match(result.stdout, 'FAIL: 1 of 10 checks failed');
});

test('a missing version field fails the version check', async () => {
  await answerWith('{ omit: [version] }');
  const { report } = await probe();
  assert.equal(failedChecks(report), ["version present, an integer, <= the request's"]);
});

// Transport failures: exit 1, and the report says which.
const faults: [string, string, string][] = [
  ['{ fault: reset }', 'reset', 'connection reset'],
  ['{ fault: close }', 'closed', 'connection closed without a response'],
  ['{ fault: partial }', 'cut-short', 'response cut short'],
  ['{ fault: hang }', 'timeout', 'timed out after 300 ms waiting for the response'],
];
for (const [respond, kind, words] of faults) {
  test(`transport failure ${respond}: exit 1, reported as ${kind}`, async () => {
    await answerWith(respond);
    const { code, report, result } = await probe(['--timeout', '300']);
    assert.is(code, 1);
    assert.is(report.response, null);
    assert.is(report.transportFailure.kind, kind, JSON.stringify(report.transportFailure));
    assert.match(report.transportFailure.summary, words);
    assert.ok(result.ms < slack(750), `took ${result.ms} ms`);
    const text = await request(['--url', mock.entitlementUrl, ...credentials, '--timeout', '300']);
    assert.match(text.stdout, `✗ no response after`);
    assert.match(text.stdout, words);
  });
}

test('nothing listening: exit 1, connection refused', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const result = await request(['--url', `https://127.0.0.1:${port}/entitlement`, ...credentials, '--json']);
  assert.is(result.code, 1);
  assert.is(JSON.parse(result.stdout).transportFailure.kind, 'refused');
});

test('a server certificate from another CA: exit 1, refused by this client', async () => {
  const otherCa = join(scratch, 'other-ca.crt');
  writeFileSync(otherCa, mock.pki.foreignClient.certPem);
  const { code, report } = await probe(['--ca', otherCa]);
  assert.is(code, 1);
  assert.is(report.transportFailure.kind, 'tls-server-cert');
  assert.match(report.transportFailure.summary, "the server's certificate was refused by this client");
});

test('a client certificate the mock does not trust: exit 1, the TLS refusal named', async () => {
  const cert = join(scratch, 'foreign.crt');
  const key = join(scratch, 'foreign.key');
  writeFileSync(cert, mock.pki.foreignClient.certPem);
  writeFileSync(key, mock.pki.foreignClient.keyPem);
  const result = await request(['--url', mock.entitlementUrl, '--cert', cert, '--key', key, '--ca', join(mock.pki.dir, 'ca.crt'), '--json']);
  assert.is(result.code, 1);
  const failure = JSON.parse(result.stdout).transportFailure;
  assert.ok(['tls-refused', 'reset', 'closed'].includes(failure.kind), JSON.stringify(failure));
  assert.match(failure.summary, /TLS|handshake|client certificate/);
});

test('bad usage: exit 2 with a message', async () => {
  const cases: string[][] = [
    ['--version', 'one'],
    ['--request-type', '1.5'],
    ['--timeout', '0'],
    ['--url', 'ftp://example.com/'],
    ['--url', 'not a url'],
    ['--bogus'],
    ['--url', mock.entitlementUrl, '--cert', join(scratch, 'missing.crt'), '--key', join(scratch, 'missing.key'), '--ca', join(scratch, 'missing.crt')],
  ];
  for (const args of cases) {
    const result = await request(args, { EM_CERTS: mock.pki.dir });
    assert.is(result.code, 2, args.join(' '));
    assert.match(result.stderr, 'entitlement-mock request: ');
  }
});

test.run();
