/**
 * --tls-min-version, --tls-max-version, --ciphers, --tls13-ciphers: real TLS clients (Node's and
 * openssl s_client) outside the configured versions and suites are refused, and recorded;
 * clients inside them are served. The trouble listeners offer the same.
 */
import tls from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entitlementRequest, eventually, startTestMock, type TestMock } from './helpers/mock.js';
import { freePortBlock } from './helpers/ports.js';
import { sClient } from './helpers/openssl.js';
import { testPki } from './helpers/pki.js';
import { startMock as startRunningMock, StartupError } from '../src/server/mock.js';
import { DEFAULT_OPTIONS } from '../src/server/options.js';
import { createLogger } from '../src/server/logger.js';
import { startMock } from '../src/index.js';
import { tlsOffer, TlsOptionError } from '../src/server/tls-offer.js';

type Handshake = { protocol: string | null; cipher: string } | { error: string };

/** One TLS handshake as a license server makes it (client certificate, server verified), with these client-side limits. */
function handshake(mock: TestMock, port: number, limits: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: mock.pki.caPem,
      cert: mock.pki.client.certPem,
      key: mock.pki.client.keyPem,
      ...limits,
    });
    socket.once('secureConnect', () => {
      resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve({ error: error.code ?? error.message });
      socket.destroy();
    });
  });
}

async function refusal(mock: TestMock, listener: string, reason: string) {
  return eventually(async () =>
    (await mock.admin('GET', '/admin/tls-failures')).json.failures.find(
      (failure: { listener: string; reason: string }) => failure.listener === listener && failure.reason === reason,
    ),
  );
}

test('tlsOffer: both cipher lists in the one string Node takes, the other half left at its default', () => {
  const defaults = tls.DEFAULT_CIPHERS.split(':');
  const base = { tlsMinVersion: 'TLSv1.2', tlsMaxVersion: 'TLSv1.3', ciphers: null, tls13Ciphers: null } as const;
  assert.equal(tlsOffer(base), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: undefined });
  assert.is(
    tlsOffer({ ...base, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-RSA-AES256-GCM-SHA384' }).ciphers,
    [...defaults.filter((entry) => entry.startsWith('TLS_')), 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'].join(':'),
  );
  assert.is(
    tlsOffer({ ...base, tls13Ciphers: 'tls_chacha20_poly1305_sha256' }).ciphers,
    ['TLS_CHACHA20_POLY1305_SHA256', ...defaults.filter((entry) => !entry.startsWith('TLS_'))].join(':'),
  );
  assert.throws(() => tlsOffer({ ...base, tlsMinVersion: 'SSLv3' as 'TLSv1.2' }), (error: unknown) => error instanceof TlsOptionError && error.option === 'tlsMinVersion');
});

test('startMock (server and package) refuses a bad TLS option before anything is opened, naming it', async () => {
  const pki = await testPki();
  const bad = { ...DEFAULT_OPTIONS, certs: pki.dir, host: '127.0.0.1', port: 0, adminPort: 0, logLevel: 'silent' as const, tls13Ciphers: 'TLS_AES_128_GCM_SHA256:TLS_NOPE' };
  const error = await startRunningMock(bad, createLogger('silent')).then(() => null, (rejection: unknown) => rejection);
  assert.instance(error, StartupError);
  assert.match((error as StartupError).message, /^cannot start: the TLS 1\.3 cipher suites: "TLS_NOPE" is not a TLS 1\.3 cipher suite \(this OpenSSL knows .*\); choose another value with the tls13Ciphers option$/);
  assert.match(
    (error as StartupError).describe(() => '--tls13-ciphers or EM_TLS13_CIPHERS'),
    /; choose another value with --tls13-ciphers or EM_TLS13_CIPHERS$/,
  );
  const fromPackage = await startMock({ certs: pki.dir, tlsMinVersion: 'TLSv1.3', tlsMaxVersion: 'TLSv1.2' }).then(() => null, (rejection: Error) => rejection);
  assert.match(String(fromPackage?.message), /the lowest TLS version offered: TLSv1\.3 is above the highest version offered, TLSv1\.2; choose another value with the tlsMinVersion option/);
});

test('startMock from the package: tlsMaxVersion and ciphers reach the listener', async () => {
  const mock = await startMock({ tlsMaxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
  try {
    const port = Number(new URL(mock.entitlementUrl).port);
    const agreed = await new Promise<{ protocol: string | null; cipher: string }>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: mock.ca.pem, cert: mock.clientCert.pem, key: mock.clientKey.pem }, () => {
        resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
        socket.destroy();
      });
      socket.once('error', reject);
    });
    assert.equal(agreed, { protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
  } finally {
    await mock.stop();
  }
});

test('--tls-min-version TLSv1.3: TLS 1.2 clients are refused on the main and the trouble listeners, TLS 1.3 ones served', async () => {
  const troublePort = await freePortBlock(6);
  const mock = await startTestMock({ tlsMinVersion: 'TLSv1.3', troublePort });
  try {
    assert.equal(await handshake(mock, mock.port, { maxVersion: 'TLSv1.2' }), { error: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    assert.ok(await refusal(mock, 'main', 'unsupported TLS version'), 'recorded on the main listener');
    const outcome = await handshake(mock, troublePort + 3, { maxVersion: 'TLSv1.2', rejectUnauthorized: false });
    assert.equal(outcome, { error: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, 'the self-signed trouble listener offers the same versions');
    assert.ok(await refusal(mock, 'self-signed', 'unsupported TLS version'));

    const old = await sClient(mock.port, mock.pki.dir, ['-tls1_2']);
    assert.is.not(old.status, 0, old.output);
    assert.match(old.output, /alert protocol version/);
    const current = await sClient(mock.port, mock.pki.dir, ['-tls1_3']);
    assert.is(current.status, 0, current.output);
    assert.match(current.output, /Protocol version: TLSv1\.3/);

    const sent = entitlementRequest();
    const reply = await mock.entitle(sent);
    assert.is(reply.status, 200);
    const entry = (await mock.admin('GET', '/admin/requests')).json.requests.find((candidate: any) => candidate.request?.messageID === sent.messageID);
    assert.is(entry.tls.version, 'TLSv1.3');
  } finally {
    await mock.close();
  }
});

test('--tls-max-version TLSv1.2 with --ciphers: TLS 1.3 and other suites are refused, the configured suite served', async () => {
  const mock = await startTestMock({ tlsMaxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
  try {
    assert.equal(await handshake(mock, mock.port, { minVersion: 'TLSv1.3' }), { error: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    assert.ok(await refusal(mock, 'main', 'unsupported TLS version'));
    const otherSuite = await handshake(mock, mock.port, { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(otherSuite, { error: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' });
    assert.ok(await refusal(mock, 'main', 'no shared cipher'));
    assert.equal(await handshake(mock, mock.port, {}), { protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384' });

    const openssl13 = await sClient(mock.port, mock.pki.dir, ['-tls1_3']);
    assert.is.not(openssl13.status, 0, openssl13.output);
    const opensslOther = await sClient(mock.port, mock.pki.dir, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305']);
    assert.is.not(opensslOther.status, 0, opensslOther.output);
    assert.match(opensslOther.output, /handshake failure/);
    const opensslSame = await sClient(mock.port, mock.pki.dir, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384']);
    assert.is(opensslSame.status, 0, opensslSame.output);
    assert.match(opensslSame.output, /Ciphersuite: ECDHE-ECDSA-AES256-GCM-SHA384/);
  } finally {
    await mock.close();
  }
});

test('--tls13-ciphers: a TLS 1.3 client without the configured suite is refused, one with it served', async () => {
  const mock = await startTestMock({ tls13Ciphers: 'TLS_CHACHA20_POLY1305_SHA256' });
  try {
    const without = await handshake(mock, mock.port, { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256' });
    assert.equal(without, { error: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' });
    assert.ok(await refusal(mock, 'main', 'no shared cipher'));
    assert.equal(await handshake(mock, mock.port, { minVersion: 'TLSv1.3' }), { protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256' });
    const opensslOther = await sClient(mock.port, mock.pki.dir, ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256']);
    assert.is.not(opensslOther.status, 0, opensslOther.output);
    const opensslSame = await sClient(mock.port, mock.pki.dir, ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256']);
    assert.is(opensslSame.status, 0, opensslSame.output);
    assert.match(opensslSame.output, /Ciphersuite: TLS_CHACHA20_POLY1305_SHA256/);
    // TLS 1.2 keeps Node's default suites.
    assert.equal(await handshake(mock, mock.port, { maxVersion: 'TLSv1.2' }), { protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  } finally {
    await mock.close();
  }
});

test.run();
