/**
 * The development PKI: a CA, a server certificate for the mock and a client
 * certificate for the license server under test. Files that exist are kept,
 * never overwritten; an existing CA signs any new leaf.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { halfPairError, isAbsent, isComplete, keyPairFiles, serializedInFolder, writeKeyPair, type KeyPairFiles } from './files.js';
import { issueCertificate, loadIssuer, type CertificateSpec, type IssuedCertificate, type KeyType } from './issue.js';
import { parseSan, serverSans, splitSanList, type SubjectAltName } from './san.js';

export type { KeyType } from './issue.js';

export interface PkiOptions {
  outDir: string;
  /** Extra DNS names / IP addresses for the server certificate. */
  sans?: string[];
  /** Key type of newly generated keys (default ec). */
  keyType?: KeyType;
}

export interface PkiResult {
  written: string[];
  kept: string[];
  /** Kept files that do not fit this run (wrong CA, missing --san): worth telling the user. */
  warnings: string[];
}

export const CA_CN = 'entitlement-mock development CA';
export const SERVER_CN = 'entitlement-mock';
export const CLIENT_CN = 'license-server';

export function generateDevPki(options: PkiOptions): Promise<PkiResult> {
  return serializedInFolder(options.outDir, () => generateUnlocked(options));
}

/** For `serve`: generates the PKI when server.crt or server.key is missing; null when nothing was needed. */
export function ensureDevPki(options: PkiOptions): Promise<PkiResult | null> {
  return serializedInFolder(options.outDir, async () => {
    const serverFiles = await keyPairFiles(options.outDir, 'server');
    return isComplete(serverFiles) ? null : generateUnlocked(options);
  });
}

/** generateDevPki without taking the folder's turn: for callers already holding it. */
export async function generateUnlocked(options: PkiOptions): Promise<PkiResult> {
  const keyType = options.keyType ?? 'ec';
  const extraSans = splitSanList(options.sans ?? []);
  const sans = serverSans(extraSans); // a bad --san fails before anything is written
  await mkdir(options.outDir, { recursive: true });
  const [caFiles, serverFiles, clientFiles] = await Promise.all(
    ['ca', 'server', 'client'].map((name) => keyPairFiles(options.outDir, name)),
  ) as [KeyPairFiles, KeyPairFiles, KeyPairFiles];
  if (!isComplete(serverFiles) && !isAbsent(serverFiles)) throw halfPairError(serverFiles, 'server certificate and key');
  if (!isComplete(clientFiles) && !isAbsent(clientFiles)) throw halfPairError(clientFiles, 'client certificate and key');

  const result: PkiResult = { written: [], kept: [], warnings: [] };
  let ca: IssuedCertificate | null = null;
  if (isAbsent(caFiles)) {
    ca = await issueCertificate({ subjectCN: CA_CN, usage: 'ca', keyType });
    result.written.push(...(await writeKeyPair(caFiles, ca)));
  } else {
    if (caFiles.certExists) result.kept.push(caFiles.certPath);
    if (caFiles.keyExists) result.kept.push(caFiles.keyPath);
  }
  if (!ca && (isAbsent(serverFiles) || isAbsent(clientFiles))) ca = await loadExistingCa(caFiles);
  const signer = ca;
  const issueLeaf = (files: KeyPairFiles, leaf: Omit<CertificateSpec, 'issuer' | 'keyType'>) =>
    signer && isAbsent(files) ? issueCertificate({ ...leaf, issuer: signer, keyType }) : Promise.resolve(null);
  const [server, client] = await Promise.all([
    issueLeaf(serverFiles, { subjectCN: SERVER_CN, usage: 'server', sans }),
    issueLeaf(clientFiles, { subjectCN: CLIENT_CN, usage: 'client' }),
  ]);
  for (const [files, issued] of [[serverFiles, server], [clientFiles, client]] as const) {
    if (issued) result.written.push(...(await writeKeyPair(files, issued)));
    else result.kept.push(files.certPath, files.keyPath);
  }

  result.warnings.push(...(await checkKeptFiles(caFiles, serverFiles, clientFiles, server, client, extraSans)));
  return result;
}

/** The CA on disk as an issuer; the error names ca.crt/ca.key when they are missing or unusable. */
export async function loadExistingCa(caFiles: KeyPairFiles): Promise<IssuedCertificate> {
  if (!isComplete(caFiles)) {
    const missing = caFiles.certExists ? caFiles.keyPath : caFiles.certPath;
    throw new Error(`cannot sign new certificates: ${missing} is missing (both ca.crt and ca.key are needed, or neither to generate a new CA)`);
  }
  const [certPem, keyPem] = await Promise.all([readFile(caFiles.certPath, 'utf8'), readFile(caFiles.keyPath, 'utf8')]);
  try {
    return await loadIssuer(certPem, keyPem);
  } catch (error) {
    throw new Error(`cannot use ${caFiles.certPath} / ${caFiles.keyPath} as the signing CA: ${(error as Error).message}`);
  }
}

/** Warns about kept leaves the CA on disk did not issue, and a kept server certificate lacking a requested --san. */
async function checkKeptFiles(
  caFiles: KeyPairFiles,
  serverFiles: KeyPairFiles,
  clientFiles: KeyPairFiles,
  newServer: IssuedCertificate | null,
  newClient: IssuedCertificate | null,
  requestedSans: string[],
): Promise<string[]> {
  const warnings: string[] = [];
  const caCert = await readCertificate(caFiles.certPath);
  const keptLeaves = [
    newServer ? null : { files: serverFiles, label: 'server' },
    newClient ? null : { files: clientFiles, label: 'client' },
  ].filter((leaf) => leaf !== null);
  for (const { files, label } of keptLeaves) {
    const cert = await readCertificate(files.certPath);
    if (!cert) continue;
    if (caCert && !(cert.checkIssued(caCert) && cert.verify(caCert.publicKey))) {
      warnings.push(`kept ${files.certPath} was not issued by ${caFiles.certPath}; remove ${files.certPath} and ${files.keyPath} to have a matching ${label} certificate generated`);
    }
    if (label === 'server') {
      const missing = missingSans(cert, requestedSans);
      if (missing.length > 0) {
        warnings.push(`kept ${files.certPath} lacks --san ${missing.join(', ')}; remove ${files.certPath} and ${files.keyPath} to regenerate it with them`);
      }
    }
  }
  return warnings;
}

async function readCertificate(path: string): Promise<NodeX509Certificate | null> {
  try {
    return new NodeX509Certificate(await readFile(path));
  } catch {
    return null;
  }
}

function missingSans(cert: NodeX509Certificate, requested: string[]): string[] {
  const present = new Set(
    (cert.subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, '').toLowerCase()),
  );
  return requested.filter((entry) => {
    const san: SubjectAltName = parseSan(entry);
    // Node prints IPv6 SANs as eight groups, as parseSan expands them.
    return !present.has(san.value);
  });
}
