/**
 * One more client certificate for a license server (`certs --client NAME`): a good one, or one the
 * mock refuses for a chosen reason, so a team can see how its license server reports a refused
 * client certificate. The dev CA signs it (all but `untrusted`, which a fresh CA signs); nothing
 * that exists is overwritten.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileExists, isAbsent, keyPairFiles, serializedInFolder, writeKeyPair } from './files.js';
import { generateUnlocked, loadExistingCa } from './generate.js';
import { issueCertificate, type IssuedCertificate, type KeyType } from './issue.js';

export type BadClientKind = 'expired' | 'not-yet-valid' | 'untrusted' | 'wrong-usage';
export const BAD_CLIENT_KINDS: readonly BadClientKind[] = Object.freeze(['expired', 'not-yet-valid', 'untrusted', 'wrong-usage']);

/** The OpenSSL verification error each kind meets on the mock's listener (server/client-identity.ts words it). */
export const REFUSAL_CODES: Readonly<Record<BadClientKind, string>> = Object.freeze({
  expired: 'CERT_HAS_EXPIRED',
  'not-yet-valid': 'CERT_NOT_YET_VALID',
  untrusted: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'wrong-usage': 'INVALID_PURPOSE',
});

/** A name that is both the certificate's CN and its file name. */
export const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ClientCertificateOptions {
  /** CN and file name: OUT/NAME.crt and OUT/NAME.key. */
  name: string;
  /** null: a good client certificate. */
  kind: BadClientKind | null;
  outDir: string;
  /** The folder with the signing CA (ca.crt + ca.key). When it is `outDir` and holds no PKI at all, the dev PKI is generated there first. */
  caDir: string;
  keyType?: KeyType;
}

export interface ClientCertificateResult {
  /** Every file written, the dev PKI's included. */
  written: string[];
  certPath: string;
  keyPath: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function issueClientCertificate(options: ClientCertificateOptions): Promise<ClientCertificateResult> {
  return serializedInFolder(options.outDir, () => issueUnlocked(options));
}

async function issueUnlocked({ name, kind, outDir, caDir, keyType = 'ec' }: ClientCertificateOptions): Promise<ClientCertificateResult> {
  const written: string[] = [];
  let issuer: IssuedCertificate;
  if (kind === 'untrusted') {
    issuer = await issueCertificate({ subjectCN: 'entitlement-mock untrusted CA (not the dev CA)', usage: 'ca', keyType });
  } else {
    const caFiles = await keyPairFiles(caDir, 'ca');
    if (isAbsent(caFiles)) {
      if (resolve(caDir) !== resolve(outDir))
        throw new Error(`no CA to sign with: ${caFiles.certPath} and ${caFiles.keyPath} are missing (--certs names the mock's certs folder)`);
      if (isAbsent(await keyPairFiles(caDir, 'server'))) written.push(...(await generateUnlocked({ outDir, keyType })).written);
    }
    issuer = await loadExistingCa(await keyPairFiles(caDir, 'ca'));
  }
  const files = await keyPairFiles(outDir, name);
  for (const path of [files.certPath, files.keyPath])
    if (await fileExists(path)) throw new Error(`${path} exists; not overwritten (choose another --client name, or remove it)`);
  const now = Date.now();
  const validity =
    kind === 'expired'
      ? { notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) }
      : kind === 'not-yet-valid'
        ? { notBefore: new Date(now + 30 * DAY_MS), notAfter: new Date(now + 60 * DAY_MS) }
        : {};
  // wrong-usage: extendedKeyUsage serverAuth only, as a server certificate has it.
  const usage = kind === 'wrong-usage' ? 'server' : 'client';
  const certificate = await issueCertificate({ subjectCN: name, issuer, usage, keyType, ...validity });
  await mkdir(outDir, { recursive: true });
  written.push(...(await writeKeyPair(files, certificate)));
  return { written, certPath: files.certPath, keyPath: files.keyPath };
}
