/**
 * The package's public API as a test project uses it: imported by name (`entitlement-mock`,
 * `entitlement-mock/client`, resolved through package.json `exports` to dist/, which
 * `npm ci` builds; run `npm run build` after changing src/ before running this file alone).
 */
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMock, type StartedMock } from 'entitlement-mock';
import { AdminApiError, AdminClient, type JournalEntry } from 'entitlement-mock/client';
import { checkedFetch } from './helpers/openapi.js';
import { portIsFree } from './helpers/ports.js';
import { entitlementRequest, sendEntitlementRequest, type EntitleOptions, type EntitlementReply } from './helpers/mock.js';
import { closeAfter } from './helpers/cleanup.js';

const own = closeAfter(test.after.each);

/** An Entitlement Request to a started mock with its client certificate, as a license server sends it. */
function entitle(mock: StartedMock, body: unknown, options: EntitleOptions = {}): Promise<EntitlementReply> {
  const url = new URL(mock.entitlementUrl);
  return sendEntitlementRequest(
    { port: Number(url.port), ca: mock.ca.pem, defaultClient: { certPem: mock.clientCert.pem, keyPem: mock.clientKey.pem }, path: url.pathname },
    body,
    options,
  );
}

/** The AdminApiError a call fails with (and a test failure when it does not fail). */
async function failure(call: Promise<unknown>): Promise<AdminApiError> {
  try {
    await call;
  } catch (error) {
    assert.instance(error, AdminApiError);
    return error as AdminApiError;
  }
  assert.unreachable('expected the admin call to fail');
  throw new Error('unreachable');
}

test('startMock() with no options: free loopback ports, a generated PKI, the bundled scenarios; stop() frees it all', async () => {
  const mock = own(await startMock());
  const entitlement = new URL(mock.entitlementUrl);
  const admin = new URL(mock.adminUrl);
  assert.is(entitlement.protocol, 'https:');
  assert.is(entitlement.hostname, '127.0.0.1');
  assert.is(entitlement.pathname, '/entitlement');
  assert.is(admin.protocol, 'http:');
  assert.ok(Number(entitlement.port) > 0 && Number(admin.port) > 0);
  for (const file of [mock.ca, mock.clientCert, mock.clientKey]) assert.ok(existsSync(file.path), file.path);
  assert.match(mock.ca.pem, /^-----BEGIN CERTIFICATE-----/);
  assert.match(mock.clientKey.pem, /PRIVATE KEY-----/);

  const sent = entitlementRequest();
  const reply = await entitle(mock, sent);
  assert.is(reply.status, 200);
  assert.is(reply.json.messageID, sent.messageID);

  const client = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
  assert.is((await client.health()).status, 'ok');
  assert.ok((await client.listScenarios()).scenarios.some((scenario) => scenario.name === 'showcase'), 'the bundled scenarios');
  const { requests } = await client.listRequests({ messageID: String(sent.messageID) });
  assert.is(requests.length, 1);
  const entry: JournalEntry = requests[0] as JournalEntry;
  assert.is(entry.clientCN, 'license-server');

  const folder = mock.ca.path.replace(/\/certs\/ca\.crt$/, '');
  await mock.stop();
  await mock.stop();
  assert.ok(await portIsFree(Number(entitlement.port)), 'entitlement port freed');
  assert.ok(await portIsFree(Number(admin.port)), 'admin port freed');
  assert.not.ok(existsSync(folder), 'temporary folder removed');
});

test('inline scenarios (YAML text or objects), the start scenario, the admin token, and typed errors', async () => {
  const mock = await startMock({
    scenarios: {
      allow: 'rules:\n  - name: everyone\n    respond: { isAllowed: true }\n',
      deny: { rules: [{ name: 'nobody', respond: { isAllowed: false } }] },
    },
    scenario: 'deny',
    adminToken: 'test-token',
  });
  try {
    const denied = await entitle(mock, entitlementRequest());
    assert.is(denied.json.isAllowed, false);
    assert.is((await mock.client.activateScenario('allow')).active, 'allow');
    assert.is((await entitle(mock, entitlementRequest())).json.isAllowed, true);

    const error = await failure(mock.client.activateScenario('gamma'));
    assert.is(error.status, 404);
    assert.is(error.error, 'not found');
    assert.is(error.serverMessage, 'no scenario named "gamma"');
    assert.equal((error.body as { known: string[] }).known.sort(), ['allow', 'deny']);
    assert.match(error.message, /^PUT \/admin\/scenarios\/active answered 404: no scenario named "gamma"$/);

    const anonymous = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
    const refused = await failure(anonymous.listRequests());
    assert.is(refused.status, 401);
    assert.is((await anonymous.health()).status, 'ok', '/health needs no token');
    const withToken = new AdminClient(mock.adminUrl, { token: 'test-token', fetch: checkedFetch });
    assert.is((await withToken.countRequests({ valid: true })).count, 2);
  } finally {
    await mock.stop();
  }
});

test('the client covers every route: scenarios upload/delete, count, clear, TLS failures, report, metrics, openapi, reset', async () => {
  const mock = await startMock();
  const client = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
  try {
    const uploaded = await client.uploadScenario('name: posted\nrules:\n  - name: all\n    respond: { isAllowed: false }\n', { activate: false });
    assert.equal(uploaded, { name: 'posted', replaced: false, active: 'default' });
    const invalid = await failure(client.uploadScenario('name: broken\nrules:\n  - respnd: {}\n'));
    assert.is(invalid.status, 400);
    assert.ok((invalid.body as { errors: { line: number }[] }).errors.length > 0);
    assert.equal(await client.deleteScenario('posted'), { removed: 'posted', active: 'default', fellBackTo: null });
    const badFilter = await failure(client.listRequests({ limit: -1 }));
    assert.is(badFilter.status, 400);
    assert.match(badFilter.serverMessage, /limit/);

    await entitle(mock, entitlementRequest());
    assert.is((await client.countRequests()).count, 1);
    assert.equal(await client.clearRequests(), { cleared: true });
    assert.is((await client.countRequests()).count, 0);
    assert.is((await client.tlsFailures()).total, 0);
    assert.type((await client.report()).findings, 'object');
    assert.match(await client.metrics(), /^# HELP /m);
    assert.is((await client.openapi()).openapi, '3.1.0');
    assert.is((await client.reset()).reset, true);
  } finally {
    await mock.stop();
  }
});

test('troublePort 0: the trouble listeners on free ports, named in troubleUrls, each with its bad server certificate', async () => {
  const mock = await startMock({ troublePort: 0 });
  try {
    const names = Object.keys(mock.troubleUrls).sort();
    assert.equal(names, ['expired', 'revoked', 'self-signed', 'untrusted-ca', 'wrong-host']);
    const ports = Object.values(mock.troubleUrls).map((url) => Number(new URL(url).port));
    const crlPort = Number(new URL(mock.crlUrl ?? '').port);
    assert.is(new Set([...ports, crlPort, Number(new URL(mock.entitlementUrl).port)]).size, 7, 'seven distinct ports');
    assert.is(mock.crlUrl, `http://127.0.0.1:${crlPort}/ca.crl`, 'the CRL of the revoked listener');
    const expired = new URL(mock.troubleUrls.expired!);
    assert.is(expired.pathname, new URL(mock.entitlementUrl).pathname);
    const verifying = await entitle(mock, entitlementRequest(), { port: Number(expired.port) }).then(
      () => null,
      (error: NodeJS.ErrnoException) => error.code,
    );
    assert.is(verifying, 'CERT_HAS_EXPIRED');
    const through = await entitle(mock, entitlementRequest(), { port: Number(expired.port), verifyServer: false });
    assert.is(through.status, 200);
    assert.equal((await mock.client.listRequests()).requests.map((entry) => entry.listener), ['expired']);
  } finally {
    await mock.stop();
  }
});

test.run();
