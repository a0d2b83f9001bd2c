/**
 * --trouble-port N: N..N+3 serve the same scenarios behind deliberately bad server
 * certificates. A client that verifies its peer (Node https, curl without -k) refuses
 * each for the right reason; one that does not gets through and is journaled with the
 * listener's name, which is how a test rig catches a license server that skips verification.
 * N+4 (revoked, with its CRL on N+5) has a file of its own: revoked-listener.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entitlementRequest, eventually, startTestMock, type TestMock } from './helpers/mock.js';
import { freePortBlock } from './helpers/ports.js';

const TROUBLE: { listener: string; offset: number; nodeCode: string; curlSays: RegExp }[] = [
  { listener: 'expired', offset: 0, nodeCode: 'CERT_HAS_EXPIRED', curlSays: /certificate has expired/i },
  { listener: 'wrong-host', offset: 1, nodeCode: 'ERR_TLS_CERT_ALTNAME_INVALID', curlSays: /subject name matches target host|does not match target host/i },
  { listener: 'untrusted-ca', offset: 2, nodeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', curlSays: /unable to get local issuer certificate|unable to verify the first certificate/i },
  { listener: 'self-signed', offset: 3, nodeCode: 'DEPTH_ZERO_SELF_SIGNED_CERT', curlSays: /self[- ]signed certificate/i },
];


const hasCurl = !spawnSync('curl', ['--version']).error;

/** POST with curl, verifying the server against the dev CA (no -k), with the client certificate. Asynchronous: the mock runs in this process. */
function curl(mock: TestMock, port: number): Promise<{ status: number | null; stderr: string; stdout: string }> {
  const dir = mock.pki.dir;
  const child = spawn(
    'curl',
    [
      '--silent',
      '--show-error',
      '--max-time',
      '10',
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      '--cacert',
      join(dir, 'ca.crt'),
      '--cert',
      join(dir, 'client.crt'),
      '--key',
      join(dir, 'client.key'),
      '-H',
      'Content-Type: application/json',
      '--data',
      JSON.stringify(entitlementRequest()),
      `https://localhost:${port}/entitlement`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let mock: TestMock;
let base: number;

test.before(async () => {
  base = await freePortBlock(6);
  mock = await startTestMock({ troublePort: base });
});
test.after(async () => {
  await mock.close();
});

test('the five trouble listeners are on N..N+4, named in port order; N+5 publishes the CRL', () => {
  assert.equal(mock.troublePorts, { ...Object.fromEntries(TROUBLE.map(({ listener, offset }) => [listener, base + offset])), revoked: base + 4 });
  assert.is(mock.crlUrl, `http://127.0.0.1:${base + 5}/ca.crl`);
});

for (const { listener, offset, nodeCode } of TROUBLE) {
  test(`${listener} (N+${offset}): Node https verifying normally refuses with ${nodeCode}`, async () => {
    const error = await mock.entitle(entitlementRequest(), { port: base + offset }).then(
      () => null,
      (rejection: NodeJS.ErrnoException) => rejection,
    );
    assert.ok(error, `a verifying client completed a request on ${listener}`);
    assert.is(error.code, nodeCode, error.message);
  });

  test(`${listener} (N+${offset}): a client skipping verification gets through and is journaled as "${listener}"`, async () => {
    const sent = entitlementRequest();
    const reply = await mock.entitle(sent, { port: base + offset, verifyServer: false });
    assert.is(reply.status, 200);
    assert.is(reply.json.messageID, sent.messageID, 'the same scenarios answer');
    const journal = (await mock.admin('GET', '/admin/requests')).json;
    const entry = journal.requests.find((candidate: any) => candidate.request?.messageID === sent.messageID);
    assert.ok(entry, 'journaled');
    assert.is(entry.listener, listener);
    assert.is(entry.clientCN, 'license-server', 'the client certificate is still checked and recorded');
    const filtered = (await mock.admin('GET', `/admin/requests?listener=${listener}`)).json.requests;
    assert.ok(filtered.length >= 1 && filtered.every((candidate: any) => candidate.listener === listener), 'listener filter');
    const metrics = (await mock.admin('GET', '/metrics')).text;
    assert.match(metrics, new RegExp(`entitlement_mock_requests_total\\{[^}]*listener="${listener}"[^}]*\\} [1-9]`));
  });
}

test('trouble listeners still require a trusted client certificate', async () => {
  await mock.entitle(entitlementRequest(), { port: base, verifyServer: false, client: null }).then(
    () => assert.unreachable('no client certificate: refused'),
    () => undefined,
  );
  const failure = await eventually(async () => {
    const log = (await mock.admin('GET', '/admin/tls-failures')).json;
    return log.failures.find((candidate: any) => candidate.listener === 'expired' && /no certificate/i.test(candidate.reason)) ?? null;
  });
  assert.ok(failure, 'recorded as "no certificate" on the expired listener');
});

test('curl without -k: accepts the main listener, refuses every trouble listener', async () => {
  assert.ok(hasCurl, 'curl is needed for this test (Debian package curl; .ci/run installs it)');
  const control = await curl(mock, mock.port);
  assert.is(control.status, 0, `curl against the main listener: ${control.stderr}`);
  assert.match(control.stdout, '"isAllowed":true');
  for (const { listener, offset, curlSays } of TROUBLE) {
    const refused = await curl(mock, base + offset);
    assert.is.not(refused.status, 0, `curl completed a request on ${listener}: ${refused.stdout}`);
    assert.match(refused.stderr, curlSays, `${listener}: ${refused.stderr}`);
  }
  // curl (OpenSSL) sends a TLS alert when it refuses a certificate; the mock records it in words.
  for (const listener of ['expired', 'untrusted-ca', 'self-signed']) {
    const recorded = await eventually(async () =>
      (await mock.admin('GET', '/admin/tls-failures')).json.failures.find(
        (failure: any) => failure.listener === listener && failure.reason.startsWith('client refused the server certificate (TLS alert: '),
      ),
    );
    assert.not.match(recorded.reason, /\n|error:/);
  }
});

test.run();
