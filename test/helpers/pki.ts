/**
 * Test fixtures: one development PKI per test process (generated once, in a
 * fresh temp folder that can be passed as --certs), plus client identities a
 * license server might present, good and bad.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { certificateFingerprint } from '../../src/pki/fingerprint.js';
import { generateDevPki } from '../../src/pki/generate.js';
import { issueCertificate, loadIssuer, type IssuedCertificate } from '../../src/pki/issue.js';
import { ensureTroublePki, TROUBLE_KINDS, type TroubleKind } from '../../src/pki/trouble.js';

export interface ClientIdentity {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the certificate, lowercase hex: what scenario `clientFingerprint` matches. */
  fingerprint: string;
}

export interface TestPki {
  /** Holds ca.crt/ca.key, server.crt/server.key, client.crt/client.key: pass it as --certs. */
  dir: string;
  caPem: string;
  /** client.crt/client.key from the folder: CN license-server, issued by the dev CA. */
  client: ClientIdentity;
  /** Issued by the dev CA, expired yesterday. */
  expiredClient: ClientIdentity;
  /** Issued by a CA the mock does not trust. */
  foreignClient: ClientIdentity;
  selfSignedClient: ClientIdentity;
  /** Issued by the dev CA, CN other-server. */
  otherCnClient: ClientIdentity;
}

export interface TroubleTestPki {
  dir: string;
  /** PEM certificate and key of each trouble listener. */
  certificates: Record<TroubleKind, { certPem: string; keyPem: string }>;
  /** The stranger CA that issued the untrusted-ca certificate. */
  untrustedCaPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
let testPkiPromise: Promise<TestPki> | null = null;
let troublePkiPromise: Promise<TroubleTestPki> | null = null;

/** The shared test PKI, generated on first call (memoized per process); its folder is removed at exit. */
export function testPki(): Promise<TestPki> {
  return (testPkiPromise ??= createTestPki());
}

/** Trouble certificates (DIR/trouble/…) for the testPki() folder, generated on first call. */
export function troublePki(): Promise<TroubleTestPki> {
  return (troublePkiPromise ??= (async () => {
    const { dir } = await testPki();
    const material = await ensureTroublePki({ outDir: dir });
    const certificates = Object.fromEntries(
      TROUBLE_KINDS.map((kind) => [kind, { certPem: material[kind].cert.toString(), keyPem: material[kind].key.toString() }]),
    ) as TroubleTestPki['certificates'];
    return { dir, certificates, untrustedCaPem: readFileSync(join(dir, 'trouble', 'untrusted-ca.ca.crt'), 'utf8') };
  })());
}

async function createTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'entitlement-mock-pki-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await generateDevPki({ outDir: dir });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const caPem = read('ca.crt');
  const devCa = await loadIssuer(caPem, read('ca.key'));
  const now = Date.now();
  const [expiredClient, foreignClient, selfSignedClient, otherCnClient] = await Promise.all([
    issueCertificate({
      subjectCN: 'license-server',
      issuer: devCa,
      usage: 'client',
      notBefore: new Date(now - 30 * DAY_MS),
      notAfter: new Date(now - DAY_MS),
    }),
    issueCertificate({ subjectCN: 'foreign CA', usage: 'ca' }).then((foreignCa) =>
      issueCertificate({ subjectCN: 'license-server', issuer: foreignCa, usage: 'client' }),
    ),
    issueCertificate({ subjectCN: 'license-server', usage: 'client' }),
    issueCertificate({ subjectCN: 'other-server', issuer: devCa, usage: 'client' }),
  ]);
  const clientCertPem = read('client.crt');
  return {
    dir,
    caPem,
    client: {
      certPem: clientCertPem,
      keyPem: read('client.key'),
      fingerprint: certificateFingerprint(Buffer.from(new X509Certificate(clientCertPem).raw)),
    },
    expiredClient: identity(expiredClient),
    foreignClient: identity(foreignClient),
    selfSignedClient: identity(selfSignedClient),
    otherCnClient: identity(otherCnClient),
  };
}

function identity(issued: IssuedCertificate): ClientIdentity {
  return { certPem: issued.certPem, keyPem: issued.keyPem, fingerprint: certificateFingerprint(issued.certDer) };
}
