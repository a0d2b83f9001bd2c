/**
 * --trouble-port N: N+4 (`revoked`) serves a server certificate the dev CA revoked, and N+5
 * publishes the CRL that says so at the certificate's CRL distribution point. Clients that check
 * revocation (openssl fetching the CRL through the distribution point, Java with revocation
 * checking on) refuse it; clients that do not get through and are journaled as `revoked`.
 */
import tls from 'node:tls';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entitlementRequest, eventually, startTestMock, type TestMock } from './helpers/mock.js';
import { freePortBlock } from './helpers/ports.js';
import { sClient } from './helpers/openssl.js';
import { tempDir } from './helpers/temp.js';
import { closeAfter } from './helpers/cleanup.js';
import { testPki } from './helpers/pki.js';
import { x509 } from '../src/pki/x509.js';
import { loadIssuer } from '../src/pki/issue.js';
import { CrlPublisher, revokedSerialNumber } from '../src/pki/revocation.js';
import { crlHost } from '../src/server/trouble-listeners.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const JAVA_PROBE = fileURLToPath(new URL('./fixtures/java/RevocationProbe.java', import.meta.url));

let mock: TestMock;
let base: number;

const ownForFile = closeAfter(test.after);

test.before(async () => {
  base = await freePortBlock(6);
  mock = ownForFile(await startTestMock({ troublePort: base }));
});

/** The certificate a listener presents (not verified: that is the point). */
function peerCertificate(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, cert: mock.pki.client.certPem, key: mock.pki.client.keyPem },
      () => {
        resolve(socket.getPeerCertificate().raw);
        socket.end();
      },
    );
    socket.once('error', reject);
  });
}

async function tlsRefusal(listener: string, reason: RegExp) {
  return eventually(async () =>
    (await mock.admin('GET', '/admin/tls-failures')).json.failures.find(
      (failure: { listener: string; reason: string }) => failure.listener === listener && reason.test(failure.reason),
    ),
  );
}

const crlFetches = () => mock.logs.filter((line) => line.msg === 'CRL fetched: the client checks revocation').length;

test('N+4 is "revoked", N+5 the CRL listener at 127.0.0.1 (the listen address; no --san)', () => {
  assert.is(mock.troublePorts.revoked, base + 4);
  assert.is(mock.crlUrl, `http://127.0.0.1:${base + 5}/ca.crl`);
});

test('its certificate: issued by the dev CA for the server names, within 825 days, naming the CRL listener as its CRL distribution point', async () => {
  const raw = await peerCertificate(base + 4);
  const certificate = new X509Certificate(raw);
  const ca = new X509Certificate(mock.pki.caPem);
  assert.ok(certificate.checkIssued(ca) && certificate.verify(ca.publicKey), 'signed by the dev CA');
  assert.ok(certificate.checkHost('localhost') && certificate.checkIP('127.0.0.1'), 'valid for the server names');
  assert.ok(Date.parse(certificate.validFrom) < Date.now() && Date.parse(certificate.validTo) > Date.now(), 'within its dates');
  assert.ok(Date.parse(certificate.validTo) - Date.parse(certificate.validFrom) + 1000 <= 825 * DAY_MS);
  const points = new x509.X509Certificate(new Uint8Array(raw)).getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints ?? [];
  const urls = points.flatMap((point) => point.distributionPoint?.fullName?.map((name) => name.uniformResourceIdentifier) ?? []);
  assert.equal([...urls], [mock.crlUrl], 'the CRL listener');
  const devCa = await loadIssuer(mock.pki.caPem, readFileSync(join(mock.pki.dir, 'ca.key'), 'utf8'));
  assert.is(certificate.serialNumber, revokedSerialNumber(devCa).toUpperCase(), 'the serial the mock uses for every revoked certificate of this CA');
});

test('the CRL at the distribution point: DER, signed by the dev CA, current, revoking that certificate and no other', async () => {
  const response = await fetch(mock.crlUrl!);
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'application/pkix-crl');
  const der = Buffer.from(await response.arrayBuffer());
  const crl = new x509.X509Crl(der);
  const ca = new x509.X509Certificate(mock.pki.caPem);
  assert.ok(await crl.verify({ publicKey: ca }), 'signature of the dev CA');
  assert.is(crl.issuer, ca.subject);
  assert.ok(crl.thisUpdate.getTime() <= Date.now() && (crl.nextUpdate?.getTime() ?? 0) > Date.now() + DAY_MS, 'current, and for more than a day');
  const revoked = new X509Certificate(await peerCertificate(base + 4));
  const entry = crl.findRevoked(revoked.serialNumber.toLowerCase());
  assert.ok(entry, `serial ${revoked.serialNumber} listed`);
  assert.is(entry.reason, x509.X509CrlReason.keyCompromise);
  assert.is(crl.entries.length, 1);
  assert.is(crl.findRevoked(new X509Certificate(await peerCertificate(mock.port)).serialNumber.toLowerCase()), null, 'the main certificate is not revoked');

  const file = join(tempDir('crl'), 'ca.crl');
  writeFileSync(file, der);
  const openssl = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', file, '-CAfile', join(mock.pki.dir, 'ca.crt'), '-noout'], { encoding: 'utf8' });
  assert.is(openssl.status, 0, openssl.stderr);
  assert.match(openssl.stderr + openssl.stdout, /verify OK/);

  const elsewhere = await fetch(new URL('/other', mock.crlUrl!));
  assert.is(elsewhere.status, 404);
  const post = await fetch(mock.crlUrl!, { method: 'POST' });
  assert.is(post.status, 405);
  assert.is(post.headers.get('allow'), 'GET, HEAD');
});

test('openssl s_client -crl_check -crl_download fetches the CRL and refuses: certificate revoked; recorded on "revoked"', async () => {
  const fetchesBefore = crlFetches();
  const refused = await sClient(base + 4, mock.pki.dir, ['-crl_check', '-crl_download']);
  assert.is.not(refused.status, 0, refused.output);
  assert.match(refused.output, /certificate revoked/);
  assert.ok(crlFetches() > fetchesBefore, 'the CRL fetch is logged');
  const failure = await tlsRefusal('revoked', /^client refused the server certificate \(TLS alert: certificate revoked\)$/);
  assert.ok(failure);
});

test('clients that do not check revocation get through: openssl without -crl_check, Node https; journaled as "revoked"', async () => {
  const accepted = await sClient(base + 4, mock.pki.dir);
  assert.is(accepted.status, 0, accepted.output);
  assert.match(accepted.output, /Verification: OK/);
  const sent = entitlementRequest();
  const reply = await mock.entitle(sent, { port: base + 4 });
  assert.is(reply.status, 200, 'Node verifies chain, dates and host name, not revocation');
  const entry = (await mock.admin('GET', '/admin/requests?listener=revoked')).json.requests.find(
    (candidate: any) => candidate.request?.messageID === sent.messageID,
  );
  assert.is(entry?.listener, 'revoked');
  const report = (await mock.admin('GET', '/admin/report')).json;
  assert.ok(
    report.findings.some((finding: { id: string }) => finding.id === 'trouble-listener-revoked'),
    `the report card names it: ${JSON.stringify(report.findings.map((finding: { id: string }) => finding.id))}`,
  );
});

test('Java (JSSE, PKIX) with revocation checking on refuses it, fetching the CRL; with it off, accepts it', async () => {
  const dir = tempDir('java-stores');
  const trust = join(dir, 'trust.p12');
  const client = join(dir, 'client.p12');
  const keytool = spawnSync('keytool', ['-importcert', '-noprompt', '-alias', 'dev-ca', '-file', join(mock.pki.dir, 'ca.crt'), '-keystore', trust, '-storetype', 'PKCS12', '-storepass', 'changeit'], { encoding: 'utf8' });
  assert.is(keytool.status, 0, `keytool (Java 17; .ci/run installs it): ${keytool.stderr}${keytool.error ?? ''}`);
  const p12 = spawnSync('openssl', ['pkcs12', '-export', '-in', join(mock.pki.dir, 'client.crt'), '-inkey', join(mock.pki.dir, 'client.key'), '-out', client, '-passout', 'pass:changeit'], { encoding: 'utf8' });
  assert.is(p12.status, 0, p12.stderr);

  const fetchesBefore = crlFetches();
  const java = spawn('java', ['-Dcom.sun.security.enableCRLDP=true', JAVA_PROBE, trust, client, 'changeit', 'localhost', String(base + 4)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  java.stdout.on('data', (chunk) => (output += chunk));
  java.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => java.kill(), 90_000);
  const status = await new Promise((resolve, reject) => {
    java.on('error', reject);
    java.on('close', resolve);
  }).finally(() => clearTimeout(timer));
  assert.is(status, 0, output);
  assert.match(output, /^checking REFUSED java\.security\.cert\.CertificateRevokedException: Certificate has been revoked, reason: KEY_COMPROMISE/m);
  assert.match(output, /^not-checking ACCEPTED TLSv1\.3$/m);
  assert.ok(crlFetches() > fetchesBefore, 'Java fetched the CRL from the distribution point');
  assert.ok(await tlsRefusal('revoked', /TLS alert: certificate revoked/));
});

test('the CRL host: the first --san (the name the license server uses in a rig), else a specific listen address, else 127.0.0.1', () => {
  assert.is(crlHost({ sans: ['entitlement-mock', 'other'], host: '0.0.0.0' }), 'entitlement-mock');
  assert.is(crlHost({ sans: [' mock.example , other'], host: '0.0.0.0' }), 'mock.example', 'a comma list, as EM_SAN gives it');
  assert.is(crlHost({ sans: ['fd00::5'], host: '0.0.0.0' }), '[fd00::5]');
  assert.is(crlHost({ sans: ['[fd00::6]'], host: '0.0.0.0' }), '[fd00::6]');
  assert.is(crlHost({ sans: [], host: '0.0.0.0' }), '127.0.0.1');
  assert.is(crlHost({ sans: [], host: '::' }), '127.0.0.1');
  assert.is(crlHost({ sans: [], host: '10.1.2.3' }), '10.1.2.3');
  assert.is(crlHost({ sans: [], host: '::1' }), '[::1]');
});

test('CrlPublisher: one CRL a day, rebuilt after that with a higher CRL number, always revoking the same serial', async () => {
  const { dir } = await testPki();
  const ca = await loadIssuer(readFileSync(join(dir, 'ca.crt'), 'utf8'), readFileSync(join(dir, 'ca.key'), 'utf8'));
  const publisher = new CrlPublisher(ca);
  const now = Date.now();
  const first = await publisher.current(now);
  assert.is(await publisher.current(now + 60_000), first, 'the same within the day');
  const later = await publisher.current(now + DAY_MS + 1000);
  assert.ok(later.thisUpdate > first.thisUpdate);
  const number = (published: { der: Buffer }) => new x509.X509Crl(new Uint8Array(published.der)).getExtension('2.5.29.20');
  assert.not.equal(number(later)?.value, number(first)?.value);
  for (const published of [first, later]) {
    assert.ok(new x509.X509Crl(new Uint8Array(published.der)).findRevoked(revokedSerialNumber(ca)), 'the fixed serial is listed');
  }
});

test.run();
