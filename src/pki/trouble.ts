/**
 * Deliberately bad *server* certificates for the trouble listeners
 * (--trouble-port N…N+3; N+4's revoked one is pki/revocation.ts's). A license
 * server that completes a request behind one of them failed to verify its peer.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileExists, halfPairError, serializedInFolder, isAbsent, isComplete, keyPairFiles, writeKeyPair, writeNewFile, type KeyPairFiles } from './files.js';
import { generateUnlocked, loadExistingCa, type PkiOptions } from './generate.js';
import { issueCertificate, type IssuedCertificate } from './issue.js';
import { serverSans, splitSanList } from './san.js';

export type TroubleKind = 'expired' | 'wrong-host' | 'untrusted-ca' | 'self-signed';

/** In port order: N expired, N+1 wrong host name, N+2 untrusted CA, N+3 self-signed. */
export const TROUBLE_KINDS: readonly TroubleKind[] = Object.freeze(['expired', 'wrong-host', 'untrusted-ca', 'self-signed']);

export const WRONG_HOST_NAME = 'wrong-host.invalid';
const DAY_MS = 24 * 60 * 60 * 1000;

export interface TroubleMaterial {
  cert: Buffer;
  key: Buffer;
}

/**
 * Makes sure DIR/trouble/<kind>.crt/.key exist (plus trouble/untrusted-ca.ca.crt,
 * the stranger CA) and returns them. Existing files are kept. `expired` and
 * `wrong-host` are signed by the dev CA (DIR/ca.crt + ca.key); when it is
 * missing it is generated only if DIR/server.crt is missing too, otherwise
 * this throws: the server certificate came from elsewhere.
 */
export function ensureTroublePki(options: PkiOptions): Promise<Record<TroubleKind, TroubleMaterial>> {
  return serializedInFolder(options.outDir, () => ensureUnlocked(options));
}

async function ensureUnlocked(options: PkiOptions): Promise<Record<TroubleKind, TroubleMaterial>> {
  const troubleDir = join(options.outDir, 'trouble');
  await mkdir(troubleDir, { recursive: true });
  const files = Object.fromEntries(
    await Promise.all(TROUBLE_KINDS.map(async (kind) => [kind, await keyPairFiles(troubleDir, kind)] as const)),
  ) as Record<TroubleKind, KeyPairFiles>;
  for (const kind of TROUBLE_KINDS) {
    if (!isComplete(files[kind]) && !isAbsent(files[kind])) throw halfPairError(files[kind], `"${kind}" trouble certificate and key`);
  }

  const missing = TROUBLE_KINDS.filter((kind) => isAbsent(files[kind]));
  if (missing.length > 0) {
    const keyType = options.keyType ?? 'ec';
    const sans = serverSans(splitSanList(options.sans ?? []));
    let devCaPromise: Promise<IssuedCertificate> | null = null;
    const devCa = () => (devCaPromise ??= devCaFor(options));
    const issuers: Record<TroubleKind, () => Promise<IssuedCertificate>> = {
      expired: async () =>
        issueCertificate({
          subjectCN: 'entitlement-mock (trouble: expired)',
          issuer: await devCa(),
          usage: 'server',
          sans,
          keyType,
          notBefore: new Date(Date.now() - 60 * DAY_MS),
          notAfter: new Date(Date.now() - 30 * DAY_MS),
        }),
      'wrong-host': async () =>
        issueCertificate({ subjectCN: WRONG_HOST_NAME, issuer: await devCa(), usage: 'server', sans: [WRONG_HOST_NAME], keyType }),
      'untrusted-ca': async () => {
        const strangerCa = await issueCertificate({ subjectCN: 'entitlement-mock untrusted CA (not the dev CA)', usage: 'ca', keyType });
        const caPath = join(troubleDir, 'untrusted-ca.ca.crt');
        // For the curious only (nobody should trust it); an existing one is kept.
        if (!(await fileExists(caPath))) await writeNewFile(caPath, strangerCa.certPem, 'cert');
        return issueCertificate({ subjectCN: 'entitlement-mock (trouble: untrusted CA)', issuer: strangerCa, usage: 'server', sans, keyType });
      },
      'self-signed': () => issueCertificate({ subjectCN: 'entitlement-mock (trouble: self-signed)', usage: 'server', sans, keyType }),
    };
    const issued = await Promise.all(missing.map((kind) => issuers[kind]()));
    for (const [index, kind] of missing.entries()) await writeKeyPair(files[kind], issued[index]!);
  }

  const entries = await Promise.all(
    TROUBLE_KINDS.map(async (kind) => {
      const [cert, key] = await Promise.all([readFile(files[kind].certPath), readFile(files[kind].keyPath)]);
      return [kind, { cert, key }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<TroubleKind, TroubleMaterial>;
}

/**
 * The dev CA as an issuer, for the `revoked` listener's certificate and CRL (pki/revocation.ts).
 * As for ensureTroublePki: generated with a dev PKI only when the folder has no server.crt either.
 */
export function troubleCa(options: PkiOptions): Promise<IssuedCertificate> {
  return serializedInFolder(options.outDir, () => devCaFor(options));
}

async function devCaFor(options: PkiOptions): Promise<IssuedCertificate> {
  let caFiles = await keyPairFiles(options.outDir, 'ca');
  if (!isComplete(caFiles)) {
    const serverFiles = await keyPairFiles(options.outDir, 'server');
    if (!serverFiles.certExists && isAbsent(caFiles)) {
      await generateUnlocked(options);
      caFiles = await keyPairFiles(options.outDir, 'ca');
    } else {
      const absent = caFiles.certExists ? caFiles.keyPath : caFiles.certPath;
      throw new Error(
        `trouble certificates need the dev CA, and ${absent} is missing: the "expired", "wrong-host" and "revoked" certificates must be ` +
          `signed by the CA the license server trusts. Put that CA's ca.crt and ca.key into ${options.outDir}, ` +
          `or use a certs folder without server.crt so that a dev PKI is generated.`,
      );
    }
  }
  return loadExistingCa(caFiles);
}
