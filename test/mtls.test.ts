/** The mTLS listener as a license server meets it: real certificates, real handshakes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import tls from 'node:tls';
import { startTestMock, entitlementRequest, eventually, type TestMock } from './helpers/mock.js';

let mock: TestMock;
let optionalMock: TestMock;

test.before(async () => {
  mock = await startTestMock();
  optionalMock = await startTestMock({ clientAuth: 'optional' });
});
test.after(async () => {
  await mock.close();
  await optionalMock.close();
});

/** Send a request whose handshake must be refused; resolve with the transport error, fail when the handshake was served. */
async function refusal(client: Parameters<TestMock['entitle']>[1], target = mock): Promise<NodeJS.ErrnoException> {
  const outcome = await target.entitle(entitlementRequest(), client).then(
    (reply) => ({ served: reply.status }),
    (error: NodeJS.ErrnoException) => ({ error }),
  );
  if ('served' in outcome) throw new Error(`expected the handshake to be refused, got HTTP ${outcome.served}`);
  return outcome.error;
}

async function lastFailure(): Promise<{ reason: string; listener: string; remote: string; time: string }> {
  const { json } = await mock.admin('GET', '/admin/tls-failures');
  return json.failures.at(-1);
}

test('refusal() fails a test when the handshake is served (here: a listener that takes any client certificate)', async () => {
  const outcome = await refusal({ client: mock.pki.foreignClient }, optionalMock).then(
    (error) => `resolved with "${error.message}"`,
    (error: Error) => error.message,
  );
  assert.match(outcome, /^expected the handshake to be refused, got HTTP 200/, outcome);
});

test('a trusted client certificate gets an answer and is identified in the journal', async () => {
  const sent = entitlementRequest();
  const reply = await mock.entitle(sent);
  assert.is(reply.status, 200);
  const { json } = await mock.admin('GET', `/admin/requests?contentID=${sent.contentID}`);
  assert.is(json.requests.length, 1);
  assert.is(json.requests[0].clientCN, 'license-server');
  assert.is(json.requests[0].clientAuthorized, true);
  assert.match(json.requests[0].clientFingerprint, /^[0-9a-f]{64}$/);
  assert.is(json.requests[0].listener, 'main');
});

test('no client certificate: the connection ends before any HTTP answer, reason recorded', async () => {
  const error = await refusal({ client: null });
  assert.ok(['ECONNRESET', 'EPIPE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'].includes(String(error.code)), String(error.code));
  const failure = await eventually(async () => ((await lastFailure())?.reason === 'no certificate' ? lastFailure() : null));
  assert.is(failure.listener, 'main');
  assert.match(failure.remote, /^127\.0\.0\.1:\d+$/);
});

test('a certificate from another CA is refused as unknown CA', async () => {
  await refusal({ client: mock.pki.foreignClient });
  await eventually(async () => (await lastFailure())?.reason === 'unknown CA');
});

test('an expired certificate from the trusted CA is refused as expired', async () => {
  await refusal({ client: mock.pki.expiredClient });
  await eventually(async () => (await lastFailure())?.reason === 'expired certificate');
});

test('a self-signed client certificate is refused', async () => {
  await refusal({ client: mock.pki.selfSignedClient });
  await eventually(async () => /self-signed/.test((await lastFailure())?.reason ?? ''));
});

test('refusals are counted by reason and never reach the journal', async () => {
  const before = (await mock.admin('GET', '/admin/requests/count')).json.count;
  await refusal({ client: null });
  const { json } = await eventually(async () => {
    const reply = await mock.admin('GET', '/admin/tls-failures');
    return reply.json.counts['no certificate'] >= 2 ? reply : null;
  });
  assert.ok(json.total >= 5);
  assert.is((await mock.admin('GET', '/admin/requests/count')).json.count, before);
});

test('TLS 1.2 and TLS 1.3 are both served', async () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const protocol = await new Promise<string | null>((resolve, reject) => {
      const socket = tls.connect(
        {
          host: '127.0.0.1',
          port: mock.port,
          servername: 'localhost',
          ca: mock.pki.caPem,
          cert: mock.pki.client.certPem,
          key: mock.pki.client.keyPem,
          minVersion: version,
          maxVersion: version,
        },
        () => {
          resolve(socket.getProtocol());
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    assert.is(protocol, version);
  }
});

test('TLS 1.1 is refused', async () => {
  const outcome = await new Promise<string>((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: mock.port, ca: mock.pki.caPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, () =>
      resolve('connected'),
    );
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(String(error.code)));
  });
  assert.is.not(outcome, 'connected');
});

test('optional mode serves a client without a certificate and journals it as unauthenticated', async () => {
  const sent = entitlementRequest();
  const reply = await optionalMock.entitle(sent, { client: null });
  assert.is(reply.status, 200);
  assert.is(reply.json.messageID, sent.messageID);
  const untrusted = entitlementRequest();
  assert.is((await optionalMock.entitle(untrusted, { client: optionalMock.pki.foreignClient })).status, 200);
  const { json } = await optionalMock.admin('GET', '/admin/requests');
  const byContent = (id: unknown) => json.requests.find((entry: any) => entry.request.contentID === id);
  for (const id of [sent.contentID, untrusted.contentID]) {
    assert.is(byContent(id).clientCN, null);
    assert.is(byContent(id).clientAuthorized, false);
  }
  const trusted = entitlementRequest();
  await optionalMock.entitle(trusted);
  const journal = (await optionalMock.admin('GET', '/admin/requests')).json;
  assert.is(journal.requests.find((entry: any) => entry.request.contentID === trusted.contentID).clientAuthorized, true);
  assert.is((await optionalMock.admin('GET', '/admin/tls-failures')).json.total, 0);
});

test.run();
