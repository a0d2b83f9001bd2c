import { availableParallelism } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseServeOptions, UsageError } from '../src/cli/serve-options.js';
import { DEFAULT_OPTIONS } from '../src/server/options.js';

test('no options and no environment give the documented defaults', () => {
  assert.equal(parseServeOptions([], {}), DEFAULT_OPTIONS);
  assert.is(DEFAULT_OPTIONS.port, 8443);
  assert.is(DEFAULT_OPTIONS.adminPort, 8080);
  assert.is(DEFAULT_OPTIONS.path, '/entitlement');
  assert.is(DEFAULT_OPTIONS.clientAuth, 'required');
  assert.is(DEFAULT_OPTIONS.journalSize, 10000);
  assert.is(DEFAULT_OPTIONS.handshakeTimeoutMs, 10_000);
  assert.is(DEFAULT_OPTIONS.headerTimeoutMs, 10_000);
  assert.is(DEFAULT_OPTIONS.bodyTimeoutMs, 30_000);
  assert.is(DEFAULT_OPTIONS.maxConnections, 1000);
});

test('every option has an environment variable; the command line wins', () => {
  const env = {
    EM_SCENARIOS: '/s',
    EM_SCENARIO: 'flaky',
    EM_HOST: '127.0.0.1',
    EM_PORT: '9443',
    EM_PATH: '/ent',
    EM_ADMIN_HOST: '127.0.0.2',
    EM_ADMIN_PORT: '9080',
    EM_ADMIN_TOKEN: 't',
    EM_CERTS: '/c',
    EM_CLIENT_CA: '/ca.pem',
    EM_CLIENT_AUTH: 'optional',
    EM_SAN: 'entitlement-mock, mock.local',
    EM_KEY_TYPE: 'rsa',
    EM_WATCH: 'false',
    EM_JOURNAL_SIZE: '50',
    EM_LOG_LEVEL: 'warn',
    EM_SEED: '7',
    EM_TROUBLE_PORT: '9500',
    EM_HANDSHAKE_TIMEOUT: '5s',
    EM_HEADER_TIMEOUT: '2500ms',
    EM_BODY_TIMEOUT: '1.5s',
    EM_MAX_CONNECTIONS: '20',
    EM_READY_FILE: '/run/mock.json',
    EM_TLS_MIN_VERSION: 'TLSv1.3',
    EM_TLS_MAX_VERSION: 'TLSv1.3',
    EM_CIPHERS: 'ECDHE-ECDSA-AES256-GCM-SHA384',
    EM_TLS13_CIPHERS: 'TLS_CHACHA20_POLY1305_SHA256',
    EM_STORE: 'redis://redis:6379/2',
    EM_WORKERS: '3',
    EM_PEERS: 'entitlement-mock-peers',
  };
  const fromEnv = parseServeOptions([], env);
  assert.equal(fromEnv, {
    scenarios: '/s',
    scenario: 'flaky',
    host: '127.0.0.1',
    port: 9443,
    path: '/ent',
    adminHost: '127.0.0.2',
    adminPort: 9080,
    adminToken: 't',
    certs: '/c',
    clientCa: '/ca.pem',
    clientAuth: 'optional',
    sans: ['entitlement-mock', 'mock.local'],
    keyType: 'rsa',
    watch: false,
    journalSize: 50,
    logLevel: 'warn',
    seed: 7,
    troublePort: 9500,
    handshakeTimeoutMs: 5000,
    headerTimeoutMs: 2500,
    bodyTimeoutMs: 1500,
    maxConnections: 20,
    readyFile: '/run/mock.json',
    tlsMinVersion: 'TLSv1.3',
    tlsMaxVersion: 'TLSv1.3',
    ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
    tls13Ciphers: 'TLS_CHACHA20_POLY1305_SHA256',
    store: 'redis://redis:6379/2',
    workers: 3,
    peers: 'entitlement-mock-peers',
  });
  const fromArgs = parseServeOptions(['--port', '0', '--san', 'a', '--san', 'b,c', '--scenario', 'x'], env);
  assert.is(fromArgs.port, 0);
  assert.equal(fromArgs.sans, ['a', 'b', 'c']);
  assert.is(fromArgs.scenario, 'x');
  assert.is(parseServeOptions(['--no-watch'], {}).watch, false);
  assert.is(parseServeOptions(['--trouble-port', '0'], {}).troublePort, 0, 'each trouble listener on a free port');
  const limits = parseServeOptions(['--header-timeout', '750', '--body-timeout', '2s', '--handshake-timeout', '300ms', '--max-connections', '3'], env);
  assert.equal(
    [limits.headerTimeoutMs, limits.bodyTimeoutMs, limits.handshakeTimeoutMs, limits.maxConnections],
    [750, 2000, 300, 3],
    'a plain number is milliseconds',
  );
});

test('bad values get one line naming the option', () => {
  const message = (args: string[], env: Record<string, string> = {}) => {
    try {
      parseServeOptions(args, env);
    } catch (error) {
      assert.instance(error, UsageError);
      return (error as Error).message;
    }
    throw new Error('expected a UsageError');
  };
  assert.is(message(['--port', 'abc']), '--port: expected an integer from 0 to 65535, got "abc"');
  assert.is(message(['--port', '70000']), '--port: expected an integer from 0 to 65535, got "70000"');
  assert.is(message([], { EM_ADMIN_PORT: '-1' }), '--admin-port: expected an integer from 0 to 65535, got "-1"');
  assert.is(message(['--client-auth', 'maybe']), '--client-auth: expected one of required, optional, got "maybe"');
  assert.is(message(['--journal-size', '0']), '--journal-size: expected an integer from 1 to 10000000, got "0"');
  assert.is(message(['--path', 'entitlement']), '--path: expected a path starting with "/", got "entitlement"');
  assert.is(message(['--store', 'localhost:6379']), '--store "localhost:6379": unsupported scheme localhost: expected redis://HOST:PORT[/DB], e.g. redis://localhost:6379/0');
  assert.is(message([], { EM_STORE: 'redis://redis:6379/x' }), '--store "redis://redis:6379/x": database "x" must be a number 0-15: expected redis://HOST:PORT[/DB], e.g. redis://localhost:6379/0');
  assert.is(message(['--peers', 'http://a:8080/admin']), '--peers: "http://a:8080/admin" must be the admin URL itself, without a path');
  assert.is(message(['--peers', 'a,b']), '--peers: "a,b" lists several host names without http://: expected admin URLs separated by commas (http://mock-1:8080,http://mock-2:8080) or one host name that resolves to every replica (entitlement-mock-peers:8080)');
  assert.is(message(['--peers', 'peers', '--admin-port', '0']), '--peers: port 0 is not a port from 1 to 65535');
  assert.is(message(['--store', 'nope']), '--store "nope" is not a URL: expected redis://HOST:PORT[/DB], e.g. redis://localhost:6379/0');
  assert.is(message(['--workers', '0']), '--workers: expected an integer from 1 to 127, got "0"');
  assert.is(message([], { EM_WORKERS: 'many' }), '--workers: expected an integer from 1 to 127, got "many"');
  assert.is(parseServeOptions(['--workers', 'auto'], {}).workers, Math.min(availableParallelism(), 127));
  assert.is(parseServeOptions([], {}).workers, 1);
  assert.is(message(['--log-level', 'loud']), '--log-level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"');
  assert.is(message([], { EM_WATCH: 'sometimes' }), 'EM_WATCH: expected true or false, got "sometimes"');
  assert.is(message(['--san', 'ok.example,bad name!']), '--san: "bad name!" is neither a DNS name nor an IP address');
  assert.is(message(['--header-timeout', 'soon']), '--header-timeout: expected a duration from 1ms to 3600s (e.g. 10s, 500ms), got "soon"');
  assert.is(message(['--body-timeout', '0']), '--body-timeout: expected a duration from 1ms to 3600s (e.g. 10s, 500ms), got "0"');
  assert.is(message([], { EM_HANDSHAKE_TIMEOUT: '2h' }), '--handshake-timeout: expected a duration from 1ms to 3600s (e.g. 10s, 500ms), got "2h"');
  assert.is(message(['--handshake-timeout', '3601s']), '--handshake-timeout: expected a duration from 1ms to 3600s (e.g. 10s, 500ms), got "3601s"');
  assert.is(message(['--max-connections', '0']), '--max-connections: expected an integer from 1 to 1000000, got "0"');
  assert.is(message(['--tls-min-version', 'TLSv1.1']), '--tls-min-version: expected one of TLSv1.2, TLSv1.3, got "TLSv1.1"');
  assert.is(message([], { EM_TLS_MAX_VERSION: '1.3' }), '--tls-max-version: expected one of TLSv1.2, TLSv1.3, got "1.3"');
  assert.is(message(['--tls-min-version', 'TLSv1.3', '--tls-max-version', 'TLSv1.2']), '--tls-min-version: TLSv1.3 is above the highest version offered, TLSv1.2');
  assert.is(message([], { EM_TLS_MIN_VERSION: 'TLSv1.3', EM_TLS_MAX_VERSION: 'TLSv1.2' }), '--tls-min-version: TLSv1.3 is above the highest version offered, TLSv1.2');
  assert.match(message(['--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GMC-SHA256']), /^--ciphers: "ECDHE-ECDSA-AES128-GMC-SHA256" matches no TLS 1\.2 cipher suite this OpenSSL \(3\.[^)]*\) offers$/);
  assert.is(message(['--ciphers', 'HIGH:!HIGH']), '--ciphers: "HIGH:!HIGH" leaves no cipher suite to offer');
  assert.is(message(['--ciphers', 'TLS_AES_128_GCM_SHA256']), '--ciphers: "TLS_AES_128_GCM_SHA256" is a TLS 1.3 suite: TLS 1.3 suites have a list of their own');
  assert.match(message([], { EM_TLS13_CIPHERS: 'TLS_AES_128_GCM_SHA256:TLS_AES_512_GCM_SHA512' }), /^--tls13-ciphers: "TLS_AES_512_GCM_SHA512" is not a TLS 1\.3 cipher suite \(this OpenSSL knows [A-Z0-9_, ]*TLS_AES_128_GCM_SHA256/);
  assert.is(message(['--tls13-ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256']), '--tls13-ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" is not a TLS 1.3 cipher suite (this OpenSSL knows TLS_AES_128_CCM_8_SHA256, TLS_AES_128_CCM_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)');
  assert.is(message(['--tls13-ciphers', ' : ']), '--tls13-ciphers: names no cipher suite');
  assert.match(message(['--bogus']), /bogus/);
  assert.not.match(message(['--bogus']), /\n/);
});

test.run();
