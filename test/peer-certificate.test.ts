/**
 * The client identity read from the TLS session's DER (server/peer-certificate.ts) must say
 * exactly what Node's getPeerCertificate() says, for every kind of client certificate, over
 * TLS 1.2 and 1.3, on full and resumed handshakes; and it must really take the fast way.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { factsFromPeerCertificate, factsFromSession, peerCertificateFacts, type PeerCertificateFacts } from '../src/server/peer-certificate.js';
import { issueCertificate, loadIssuer } from '../src/pki/issue.js';
import { testPki } from './helpers/pki.js';
import { closeAfter } from './helpers/cleanup.js';

const own = closeAfter(test.after.each);

interface Seen {
  fast: PeerCertificateFacts | null | undefined;
  node: PeerCertificateFacts | null;
  chosen: PeerCertificateFacts | null;
  resumed: boolean;
  session: Buffer | undefined;
}

/** A TLS server that asks for a client certificate and records both readings of each connection. */
async function recordingServer(): Promise<{ port: number; seen: Seen[] }> {
  const pki = await testPki();
  const read = (name: string) => readFileSync(join(pki.dir, name));
  const seen: Seen[] = [];
  const server = own(
    tls.createServer({ cert: read('server.crt'), key: read('server.key'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (socket) => socket.end('ok')),
  );
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    seen.push({ fast: factsFromSession(socket.getSession()), node: factsFromPeerCertificate(socket), chosen: peerCertificateFacts(socket), resumed: socket.isSessionReused(), session: socket.getSession() });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, seen };
}

async function connect(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  const pki = await testPki();
  const socket = own(tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.caPem, ...options }));
  socket.on('data', () => {});
  await once(socket, 'end');
  return socket;
}

test('the session says what getPeerCertificate says, for every kind of client certificate, TLS 1.2 and 1.3', async () => {
  const pki = await testPki();
  const devCa = await loadIssuer(pki.caPem, readFileSync(join(pki.dir, 'ca.key'), 'utf8'));
  const [rsaClient, utf8Client, longCnClient] = await Promise.all([
    issueCertificate({ subjectCN: 'license-server-rsa', issuer: devCa, usage: 'client', keyType: 'rsa' }),
    issueCertificate({ subjectCN: 'Lizenzserver Köln – Ω', issuer: devCa, usage: 'client' }),
    issueCertificate({ subjectCN: 'x'.repeat(200), issuer: devCa, usage: 'client' }),
  ]);
  const clients = [pki.client, pki.otherCnClient, pki.expiredClient, pki.foreignClient, pki.selfSignedClient, rsaClient, utf8Client, longCnClient];
  const { port, seen } = await recordingServer();
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    for (const client of clients) await connect(port, { cert: client.certPem, key: client.keyPem, minVersion: version, maxVersion: version });
    await connect(port, { minVersion: version, maxVersion: version }); // no client certificate
  }
  assert.is(seen.length, 2 * (clients.length + 1));
  for (const [i, { fast, node, chosen }] of seen.entries()) {
    assert.equal(fast, node, `connection ${i}: session reading ${JSON.stringify(fast)} vs getPeerCertificate ${JSON.stringify(node)}`);
    assert.equal(chosen, node);
  }
  const withCertificate = seen.filter((s) => s.node !== null);
  assert.is(withCertificate.length, 2 * clients.length);
  assert.ok(withCertificate.every((s) => s.fast !== undefined), 'every certificate was read from the session, none by the fallback');
  assert.ok(seen.some((s) => s.node?.cn === 'Lizenzserver Köln – Ω'));
  assert.ok(seen.some((s) => s.node?.cn === 'license-server' && s.node.fingerprint === pki.client.fingerprint));
  assert.equal(seen.filter((s) => s.node === null).map((s) => s.fast), [null, null], 'no certificate: null both ways');
});

test('a resumed session still carries the client certificate', async () => {
  const pki = await testPki();
  const { port, seen } = await recordingServer();
  const options = { cert: pki.client.certPem, key: pki.client.keyPem, maxVersion: 'TLSv1.2' as const };
  const first = await connect(port, options);
  await connect(port, { ...options, session: first.getSession() });
  assert.equal(seen.map((s) => s.resumed), [false, true]);
  for (const { fast, node } of seen) assert.equal(fast, { cn: 'license-server', fingerprint: pki.client.fingerprint }, `and Node says ${JSON.stringify(node)}`);
});

test('an encoding that is not the expected one is left to the fallback (undefined), never misread', () => {
  assert.is(factsFromSession(undefined), undefined);
  assert.is(factsFromSession(Buffer.from([0x04, 0x02, 0x01, 0x02])), undefined, 'not a SEQUENCE');
  assert.is(factsFromSession(Buffer.from([0x30, 0x05, 0x02, 0x01, 0x01])), undefined, 'length past the end');
  assert.is(factsFromSession(Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0xa4, 0x01, 0x00])), null, 'fields past [3] and no [3]: no certificate');
  assert.is(factsFromSession(Buffer.from([0x30, 0x05, 0xa3, 0x03, 0x02, 0x01, 0x01])), undefined, '[3] that is not a certificate');
});


test('a certificate that ends like one already read is read anew, not taken from the recent ones', async () => {
  const pki = await testPki();
  const { port, seen } = await recordingServer();
  await connect(port, { cert: pki.client.certPem, key: pki.client.keyPem });
  await connect(port, { cert: pki.client.certPem, key: pki.client.keyPem });
  const expected = { cn: 'license-server', fingerprint: pki.client.fingerprint };
  assert.equal(seen.map((s) => s.fast), [expected, expected]);
  assert.ok(seen[0]!.fast === seen[1]!.fast, 'the second connection shares the first one\'s facts');

  // The same session with one letter of the certificate's CN changed: same length, same last bytes.
  const session = Buffer.from(seen[0]!.session!);
  const der = new X509Certificate(pki.client.certPem).raw;
  const certificateAt = session.indexOf(der);
  assert.ok(certificateAt > 0, 'the session holds the certificate');
  const cnAt = session.indexOf('license-server', certificateAt);
  session[cnAt] = 'L'.charCodeAt(0);
  const changed = session.subarray(certificateAt, certificateAt + der.length);
  assert.equal(factsFromSession(session), { cn: 'License-server', fingerprint: createHash('sha256').update(changed).digest('hex') });
  assert.equal(factsFromSession(seen[1]!.session), expected, 'and the original still reads as before');
});

test.run();
