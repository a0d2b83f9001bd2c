/** The development PKI as a user meets it: real files in a fresh folder, real X.509, real TLS handshakes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import tls from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { ensureDevPki, generateDevPki, type PkiOptions } from '../src/pki/generate.js';
import { loadServerTls } from '../src/pki/load.js';
import { ensureTroublePki, TROUBLE_KINDS } from '../src/pki/trouble.js';
import { certificateFingerprint } from '../src/pki/fingerprint.js';
import { parseSan } from '../src/pki/san.js';
import { run as runCerts } from '../src/cli/certs.js';
import { testPki } from './helpers/pki.js';
import { cpuTimeOf, slack } from './helpers/slack.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const SIX_FILES = ['ca.crt', 'ca.key', 'client.crt', 'client.key', 'server.crt', 'server.key'];
const folders: string[] = [];

async function freshFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'em-pki-test-'));
  folders.push(dir);
  return dir;
}

test.after(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function rejects(action: () => Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await action();
  } catch (error) {
    assert.match((error as Error).message, message);
    return;
  }
  assert.unreachable(`expected a rejection matching ${message}`);
}

const cert = async (dir: string, name: string) => new X509Certificate(await readFile(join(dir, name)));
const privateKey = async (dir: string, name: string) => createPrivateKey(await readFile(join(dir, name)));

async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = await Promise.all(SIX_FILES.map(async (name) => [name, (await readFile(join(dir, name))).toString('base64')]));
  return Object.fromEntries(entries);
}

interface HandshakeOutcome {
  serverSawAuthorized: boolean | null;
  clientAuthorized: boolean;
  clientError: string | null;
}

/** One real TLS handshake on 127.0.0.1: the server requests a client certificate and trusts `serverCa`. */
async function handshake(
  server: { cert: string | Buffer; key: string | Buffer; ca: string | Buffer },
  client: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string; maxVersion?: tls.SecureVersion },
): Promise<HandshakeOutcome> {
  let serverSawAuthorized: boolean | null = null;
  const listener = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: false }, (socket) => {
    serverSawAuthorized = socket.authorized;
    socket.end('hello');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    return await new Promise<HandshakeOutcome>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ...client });
      socket.once('secureConnect', () => {
        socket.once('data', () => {
          resolve({ serverSawAuthorized, clientAuthorized: socket.authorized, clientError: null });
          socket.destroy();
        });
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        resolve({ serverSawAuthorized, clientAuthorized: false, clientError: error.code ?? error.message });
        socket.destroy();
      });
    });
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
}

test('an empty folder gets the six files, keys mode 0600, in well under 2 s', async () => {
  const dir = join(await freshFolder(), 'nested', 'certs');
  const { value: result, ms } = await cpuTimeOf(() => generateDevPki({ outDir: dir, sans: ['entitlement-mock'] }));
  console.log(`    full ec PKI generated with ${ms} ms of CPU`);
  assert.ok(ms < slack(500), `took ${ms} ms of CPU`);
  assert.equal((await readdir(dir)).sort(), SIX_FILES);
  assert.equal(result.written.map((path) => path.slice(dir.length + 1)).sort(), SIX_FILES);
  assert.equal(result.kept, []);
  for (const name of ['ca.key', 'server.key', 'client.key']) {
    assert.is(((await stat(join(dir, name))).mode & 0o777).toString(8), '600', name);
  }
  assert.is(((await stat(join(dir, 'server.crt'))).mode & 0o077) !== 0, true, 'certificates are readable by others');
});

test('a second run writes nothing and keeps every byte', async () => {
  const dir = await freshFolder();
  await generateDevPki({ outDir: dir });
  const before = await snapshot(dir);
  const again = await generateDevPki({ outDir: dir, sans: ['added-later'], keyType: 'rsa' });
  assert.equal(again.written, []);
  assert.equal(again.kept.map((path) => path.slice(dir.length + 1)).sort(), SIX_FILES);
  assert.equal(await snapshot(dir), before);
  assert.ok(again.warnings.some((warning) => warning.includes('added-later')), 'warns that the kept server.crt lacks the new --san');
  assert.is(await ensureDevPki({ outDir: dir }), null);
  assert.equal(await snapshot(dir), before);
});

test('server SANs: localhost, 127.0.0.1, ::1, the host name and every --san; client CN license-server', async () => {
  const dir = await freshFolder();
  await generateDevPki({ outDir: dir, sans: ['entitlement-mock', 'Mock.Example.TEST,10.1.2.3', '[fd00::5]'] });
  const server = await cert(dir, 'server.crt');
  const sans = (server.subjectAltName ?? '').split(', ');
  for (const expected of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:entitlement-mock', 'DNS:mock.example.test', 'IP Address:10.1.2.3', 'IP Address:FD00:0:0:0:0:0:0:5']) {
    assert.ok(sans.includes(expected), `${expected} missing from ${server.subjectAltName}`);
  }
  if (parseSan(hostname()).type === 'dns') assert.ok(sans.includes(`DNS:${hostname().toLowerCase()}`), 'host name');
  assert.equal(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const client = await cert(dir, 'client.crt');
  assert.match(client.subject, /^CN=license-server$/m);
  assert.equal(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
});

test('a bad --san fails before anything is written', async () => {
  const dir = await freshFolder();
  await rejects(() => generateDevPki({ outDir: dir, sans: ['not a name'] }), /not a name/);
  assert.equal(await readdir(dir), []);
});

test('ec keys are P-256, rsa keys are 2048-bit', async () => {
  const ecDir = await freshFolder();
  await generateDevPki({ outDir: ecDir });
  const rsaDir = await freshFolder();
  const started = performance.now();
  await generateDevPki({ outDir: rsaDir, keyType: 'rsa' });
  console.log(`    full rsa PKI generated in ${(performance.now() - started).toFixed(0)} ms`);
  for (const name of ['ca', 'server', 'client']) {
    const ecKey = await privateKey(ecDir, `${name}.key`);
    assert.is(ecKey.asymmetricKeyType, 'ec');
    assert.is(ecKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.is((await cert(ecDir, `${name}.crt`)).publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const rsaKey = await privateKey(rsaDir, `${name}.key`);
    assert.is(rsaKey.asymmetricKeyType, 'rsa');
    assert.is(rsaKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok((await cert(rsaDir, `${name}.crt`)).checkPrivateKey(rsaKey), `${name}.crt matches ${name}.key`);
  }
});

test('the chain verifies: the CA issued and signed server and client', async () => {
  const { dir } = await testPki();
  const ca = await cert(dir, 'ca.crt');
  assert.ok(ca.ca, 'ca.crt is a CA');
  assert.ok(ca.verify(ca.publicKey), 'ca.crt is self-signed');
  for (const name of ['server.crt', 'client.crt']) {
    const leaf = await cert(dir, name);
    assert.not.ok(leaf.ca, `${name} is not a CA`);
    assert.ok(leaf.checkIssued(ca), `${name} issued by ca.crt`);
    assert.ok(leaf.verify(ca.publicKey), `${name} signed by ca.key`);
    assert.ok(new Date(leaf.validTo) > new Date(), `${name} still valid`);
  }
  const foreign = new X509Certificate((await testPki()).foreignClient.certPem);
  assert.not.ok(foreign.verify(ca.publicKey), 'a foreign certificate does not verify: the check can fail');
});

test('validity, on the certificates themselves: server and client at most 825 days, the CA ten years, counted from the backdated notBefore', async () => {
  // RFC 5280 counts notAfter as a valid second, so the whole validity is notAfter - notBefore + 1 s.
  const wholeDays = (certificate: X509Certificate) => (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom) + 1000) / DAY_MS;
  const dir = await freshFolder();
  await generateDevPki({ outDir: dir });
  await ensureTroublePki({ outDir: dir });
  for (const name of ['server.crt', 'client.crt', 'trouble/wrong-host.crt', 'trouble/untrusted-ca.crt', 'trouble/self-signed.crt']) {
    const leaf = await cert(dir, name);
    assert.ok(wholeDays(leaf) <= 825, `${name}: ${leaf.validFrom} to ${leaf.validTo} is ${wholeDays(leaf)} days`);
    assert.ok(wholeDays(leaf) > 824.99, `${name}: still the full 825 days less a second, not shortened elsewhere`);
    assert.ok(Date.parse(leaf.validFrom) < Date.now() - 60_000, `${name}: notBefore is backdated (clock skew between containers)`);
  }
  const ca = await cert(dir, 'ca.crt');
  assert.ok(wholeDays(ca) <= 3650, `ca.crt: ${ca.validFrom} to ${ca.validTo} is ${wholeDays(ca)} days`);
  const openssl = spawnSync('openssl', ['x509', '-noout', '-startdate', '-enddate', '-in', join(dir, 'server.crt')], { encoding: 'utf8' });
  const [start, end] = [/notBefore=(.*)/, /notAfter=(.*)/].map((pattern) => Date.parse(pattern.exec(openssl.stdout)?.[1] ?? ''));
  assert.ok(end! - start! + 1000 <= 825 * DAY_MS, `openssl reads the same: ${openssl.stdout}`);
});

test('real mTLS handshake on 127.0.0.1: both sides authorized (TLS 1.3 and 1.2, by IP and by --san name)', async () => {
  const dir = await freshFolder();
  await generateDevPki({ outDir: dir, sans: ['entitlement-mock'] });
  const files = Object.fromEntries(await Promise.all(SIX_FILES.map(async (name) => [name, await readFile(join(dir, name))])));
  const server = { cert: files['server.crt'], key: files['server.key'], ca: files['ca.crt'] };
  const client = { ca: files['ca.crt'], cert: files['client.crt'], key: files['client.key'] };
  for (const extra of [{}, { servername: 'entitlement-mock' }, { servername: 'localhost', maxVersion: 'TLSv1.2' as const }]) {
    const outcome = await handshake(server, { ...client, ...extra });
    assert.equal(outcome, { serverSawAuthorized: true, clientAuthorized: true, clientError: null }, JSON.stringify(extra));
  }
  const wrongName = await handshake(server, { ...client, servername: 'somewhere-else' });
  assert.is(wrongName.clientError, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const noClientCert = await handshake(server, { ca: files['ca.crt'] });
  assert.is(noClientCert.serverSawAuthorized, false);
});

test('rsa PKI handshakes too (TLS 1.2)', async () => {
  const dir = await freshFolder();
  await generateDevPki({ outDir: dir, keyType: 'rsa' });
  const read = (name: string) => readFile(join(dir, name));
  const outcome = await handshake(
    { cert: await read('server.crt'), key: await read('server.key'), ca: await read('ca.crt') },
    { ca: await read('ca.crt'), cert: await read('client.crt'), key: await read('client.key'), maxVersion: 'TLSv1.2' },
  );
  assert.equal(outcome, { serverSawAuthorized: true, clientAuthorized: true, clientError: null });
});

test('an existing CA signs new leaves; a half pair is refused, not overwritten', async () => {
  const dir = await freshFolder();
  await generateDevPki({ outDir: dir });
  const caBytes = await readFile(join(dir, 'ca.crt'));
  const oldServer = await readFile(join(dir, 'server.crt'));
  await unlink(join(dir, 'server.crt'));
  await unlink(join(dir, 'server.key'));
  const result = await ensureDevPki({ outDir: dir });
  assert.equal(result?.written.map((path) => path.slice(dir.length + 1)).sort(), ['server.crt', 'server.key']);
  assert.equal(await readFile(join(dir, 'ca.crt')), caBytes);
  const server = await cert(dir, 'server.crt');
  assert.not.equal(Buffer.from(server.raw), oldServer);
  assert.ok(server.checkIssued(new X509Certificate(caBytes)) && server.verify(new X509Certificate(caBytes).publicKey));

  await unlink(join(dir, 'client.key'));
  const clientCert = await readFile(join(dir, 'client.crt'));
  await rejects(() => generateDevPki({ outDir: dir }), /client\.crt exists but .*client\.key does not/);
  assert.equal(await readFile(join(dir, 'client.crt')), clientCert);
});

test('loadServerTls reads the material and names a missing or mismatched file', async () => {
  const { dir } = await testPki();
  const material = loadServerTls(dir);
  assert.equal(material.cert, await readFile(join(dir, 'server.crt')));
  assert.equal(material.clientCa, await readFile(join(dir, 'ca.crt')));
  const other = await freshFolder();
  assert.throws(() => loadServerTls(other), (error: Error) => error.message.includes(join(other, 'server.crt')) && /no such file/.test(error.message));
  await writeFile(join(other, 'server.crt'), await readFile(join(dir, 'server.crt')));
  await writeFile(join(other, 'server.key'), await readFile(join(dir, 'client.key')));
  await writeFile(join(other, 'ca.crt'), await readFile(join(dir, 'ca.crt')));
  assert.throws(() => loadServerTls(other), /server\.key does not belong/);
  assert.throws(() => loadServerTls(dir, join(other, 'nope.pem')), (error: Error) => error.message.includes('nope.pem'));
});

test('certificateFingerprint is the SHA-256 of the DER, lowercase hex, no colons', async () => {
  const { client } = await testPki();
  const parsed = new X509Certificate(client.certPem);
  const fingerprint = certificateFingerprint(Buffer.from(parsed.raw));
  assert.match(fingerprint, /^[0-9a-f]{64}$/);
  assert.is(fingerprint, parsed.fingerprint256.replaceAll(':', '').toLowerCase());
  assert.is(client.fingerprint, fingerprint);
});

test('test fixtures: each client identity is what its name says', async () => {
  const pki = await testPki();
  const ca = new X509Certificate(pki.caPem);
  const parse = (pem: string) => new X509Certificate(pem);
  assert.ok(parse(pki.client.certPem).verify(ca.publicKey));
  const expired = parse(pki.expiredClient.certPem);
  assert.ok(expired.verify(ca.publicKey) && new Date(expired.validTo) < new Date());
  assert.not.ok(parse(pki.foreignClient.certPem).checkIssued(ca));
  const selfSigned = parse(pki.selfSignedClient.certPem);
  assert.ok(selfSigned.verify(selfSigned.publicKey));
  const otherCn = parse(pki.otherCnClient.certPem);
  assert.ok(otherCn.verify(ca.publicKey));
  assert.match(otherCn.subject, /^CN=other-server$/m);
  assert.ok(await testPki() === pki, 'memoized');
});

test('trouble certificates are what they say, and a verifying client refuses each for that reason', async () => {
  const dir = await freshFolder();
  const options: PkiOptions = { outDir: dir, sans: ['entitlement-mock'] };
  await generateDevPki(options);
  const trouble = await ensureTroublePki(options);
  assert.equal(Object.keys(trouble), [...TROUBLE_KINDS]);
  assert.equal(TROUBLE_KINDS, ['expired', 'wrong-host', 'untrusted-ca', 'self-signed']);
  const caPem = await readFile(join(dir, 'ca.crt'));
  const ca = new X509Certificate(caPem);
  const parsed = Object.fromEntries(TROUBLE_KINDS.map((kind) => [kind, new X509Certificate(trouble[kind].cert)]));

  assert.ok(new Date(parsed.expired!.validTo) < new Date(), 'expired notAfter is in the past');
  assert.ok(parsed.expired!.verify(ca.publicKey), 'expired is signed by the dev CA');
  assert.is(parsed['wrong-host']!.subjectAltName, 'DNS:wrong-host.invalid');
  assert.ok(parsed['wrong-host']!.verify(ca.publicKey), 'wrong-host is signed by the dev CA');
  const untrusted = parsed['untrusted-ca']!;
  assert.not.ok(untrusted.checkIssued(ca) || untrusted.verify(ca.publicKey), 'untrusted-ca is not issued by the dev CA');
  const stranger = new X509Certificate(await readFile(join(dir, 'trouble', 'untrusted-ca.ca.crt')));
  assert.ok(untrusted.checkIssued(stranger) && untrusted.verify(stranger.publicKey));
  assert.ok(parsed['self-signed']!.verify(parsed['self-signed']!.publicKey));
  for (const kind of ['expired', 'untrusted-ca', 'self-signed'] as const) {
    assert.ok(parsed[kind]!.subjectAltName?.includes('DNS:entitlement-mock'), `${kind} has the right SANs`);
    assert.ok(parsed[kind]!.checkHost('localhost'), `${kind} names localhost`);
  }

  const client = { ca: caPem, cert: await readFile(join(dir, 'client.crt')), key: await readFile(join(dir, 'client.key')) };
  const expectedErrors = {
    expired: 'CERT_HAS_EXPIRED',
    'wrong-host': 'ERR_TLS_CERT_ALTNAME_INVALID',
    'untrusted-ca': 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'self-signed': 'DEPTH_ZERO_SELF_SIGNED_CERT',
  };
  for (const kind of TROUBLE_KINDS) {
    const outcome = await handshake({ ...trouble[kind], ca: caPem }, client);
    assert.is(outcome.clientError, expectedErrors[kind], kind);
  }

  const before = await Promise.all(TROUBLE_KINDS.map((kind) => readFile(join(dir, 'trouble', `${kind}.key`))));
  await ensureTroublePki(options);
  const after = await Promise.all(TROUBLE_KINDS.map((kind) => readFile(join(dir, 'trouble', `${kind}.key`))));
  assert.equal(after, before, 'trouble files are kept');
});

test('trouble certificates need the dev CA when server.crt came from elsewhere', async () => {
  const dir = await freshFolder();
  await generateDevPki({ outDir: dir });
  await unlink(join(dir, 'ca.key'));
  await rejects(() => ensureTroublePki({ outDir: dir }), /trouble certificates need the dev CA.*ca\.key/);

  const empty = await freshFolder();
  await ensureTroublePki({ outDir: empty });
  assert.equal((await readdir(empty)).filter((name) => name !== 'trouble').sort(), SIX_FILES, 'generates the dev PKI first');
});

test('certs CLI: exit 0 and lists the files; exit 2 with a one-line error on a bad option', async () => {
  const dir = await freshFolder();
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => void out.push(parts.join(' '));
  console.error = (...parts: unknown[]) => void err.push(parts.join(' '));
  try {
    assert.is(await runCerts(['--out', dir, '--san', 'entitlement-mock,10.0.0.7', '--san', 'other'], {}), 0);
    assert.is(out.filter((line) => line.startsWith('wrote ')).length, 6);
    assert.ok((await cert(dir, 'server.crt')).subjectAltName?.includes('DNS:other'));
    out.length = 0;
    assert.is(await runCerts([], { EM_CERTS: dir, EM_SAN: 'entitlement-mock' }), 0);
    assert.is(out.filter((line) => line.startsWith('kept ')).length, 6);

    for (const [args, named] of [
      [['--out', dir, '--bogus'], '--bogus'],
      [['--out', dir, '--key-type', 'dsa'], '--key-type'],
      [['--out', dir, '--san', 'has space'], '--san'],
      [['--out'], '--out'],
    ] as const) {
      err.length = 0;
      assert.is(await runCerts([...args], {}), 2, args.join(' '));
      assert.is(err.length, 1, `one line for ${args.join(' ')}`);
      assert.ok(err[0]!.includes(named) && !err[0]!.includes('\n'), err[0]);
    }
    err.length = 0;
    assert.is(await runCerts([], { EM_CERTS: dir, EM_KEY_TYPE: 'dsa' }), 2);
    assert.ok(err[0]!.includes('EM_KEY_TYPE'), err[0]);
  } finally {
    console.log = log;
    console.error = error;
  }
});

test.run();
