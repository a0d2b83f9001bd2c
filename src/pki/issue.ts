/**
 * Issuing one certificate: the single low-level helper behind the dev PKI,
 * the trouble certificates and the test fixtures.
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { webcrypto, x509 } from './x509.js';
import { parseSan, type SubjectAltName } from './san.js';

/** ec = ECDSA P-256 (the default: cheaper handshakes), rsa = RSA-2048 (for clients that need it). */
export type KeyType = 'ec' | 'rsa';
export const KEY_TYPES: readonly KeyType[] = ['ec', 'rsa'];

export type CertificateUsage = 'ca' | 'server' | 'client';

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  certDer: Buffer;
  /** Parsed certificate (subject, key identifier) for signing further certificates. */
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
  keyType: KeyType;
}

export interface CertificateSpec {
  subjectCN: string;
  /** Omitted: self-signed. */
  issuer?: IssuedCertificate;
  /** Defaults to usage === 'ca'. */
  isCA?: boolean;
  /** DNS names and IP addresses, as strings ('localhost', '::1') or parsed. */
  sans?: ReadonlyArray<string | SubjectAltName>;
  usage: CertificateUsage;
  /** Default: five minutes ago (tolerates clock skew between containers). */
  notBefore?: Date;
  /**
   * Default: a whole validity (from notBefore, notAfter's own second included, as RFC 5280 counts it)
   * of ten years for a CA and 825 days for a leaf, the longest TLS clients on Apple platforms accept.
   */
  notAfter?: Date;
  keyType?: KeyType;
  /** Hexadecimal; default random. */
  serialNumber?: string;
  /** The URL where the issuer publishes the CRL that covers this certificate (a CRL distribution point). */
  crlUrl?: string;
}

const ORGANIZATION = 'entitlement-mock development PKI';
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 825;
const subtle = webcrypto.subtle;

export async function issueCertificate(spec: CertificateSpec): Promise<IssuedCertificate> {
  const keyType = spec.keyType ?? 'ec';
  const isCA = spec.isCA ?? spec.usage === 'ca';
  const keys = await generateKeyPair(keyType);
  const signer = spec.issuer ?? null;
  const signingKey = signer ? signer.privateKey : keys.privateKey;
  // Whole seconds, as the certificate stores them, so the validity is exactly what is computed here.
  const notBefore = spec.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 5 * 60 * 1000);
  const notAfter = spec.notAfter ?? new Date(notBefore.getTime() + (isCA ? CA_VALIDITY_DAYS : LEAF_VALIDITY_DAYS) * DAY_MS - 1000);

  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCA, isCA ? 0 : undefined, true),
    new x509.KeyUsagesExtension(keyUsages(isCA, keyType), true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (spec.usage === 'server') extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]));
  if (spec.usage === 'client') extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]));
  if (signer) extensions.push(await authorityKeyIdentifier(signer));
  if (spec.crlUrl !== undefined) extensions.push(new x509.CRLDistributionPointsExtension([spec.crlUrl]));
  if (spec.sans && spec.sans.length > 0) {
    const names = spec.sans.map((san) => (typeof san === 'string' ? parseSan(san) : san));
    extensions.push(new x509.SubjectAlternativeNameExtension(names.map((name) => ({ type: name.type, value: name.value }))));
  }

  const subject: x509.JsonName = [{ O: [ORGANIZATION] }, { CN: [spec.subjectCN] }];
  const certificate = await x509.X509CertificateGenerator.create({
    ...(spec.serialNumber === undefined ? {} : { serialNumber: spec.serialNumber }),
    subject,
    issuer: signer ? signer.certificate.subjectName : subject,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: signingAlgorithm(signingKey),
    notBefore,
    notAfter,
    extensions,
  });
  const certDer = Buffer.from(certificate.rawData);
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certPem: toPem(certDer, 'CERTIFICATE'),
    keyPem: toPem(pkcs8, 'PRIVATE KEY'),
    certDer,
    certificate,
    privateKey: keys.privateKey,
    keyType,
  };
}

/**
 * Turns an existing CA certificate and its key (PEM; PKCS#8, PKCS#1 or SEC1)
 * into an issuer. Throws when the key does not belong to the certificate,
 * the certificate is not a CA, or the key type cannot sign here.
 */
export async function loadIssuer(certPem: string, keyPem: string): Promise<IssuedCertificate> {
  const nodeCert = new NodeX509Certificate(certPem);
  const keyObject = createPrivateKey(keyPem);
  if (!nodeCert.checkPrivateKey(keyObject)) throw new Error('the private key does not belong to the certificate');
  if (!nodeCert.ca) throw new Error('the certificate is not a CA certificate (basicConstraints CA:TRUE missing)');
  const { privateKey, keyType } = await importSigningKey(keyObject);
  const certDer = Buffer.from(nodeCert.raw);
  return {
    certPem: toPem(certDer, 'CERTIFICATE'),
    keyPem: keyObject.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certDer,
    certificate: new x509.X509Certificate(certDer),
    privateKey,
    keyType,
  };
}

export function toPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function generateKeyPair(keyType: KeyType): Promise<CryptoKeyPair> {
  const algorithm =
    keyType === 'ec'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  return subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

function keyUsages(isCA: boolean, keyType: KeyType): number {
  const flags = x509.KeyUsageFlags;
  if (isCA) return flags.keyCertSign | flags.cRLSign | flags.digitalSignature;
  // RSA leaves also allow RSA key exchange, which TLS 1.2 clients on older JVMs may pick.
  return keyType === 'rsa' ? flags.digitalSignature | flags.keyEncipherment : flags.digitalSignature;
}

const CURVE_HASH: Record<string, string> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' };

export function signingAlgorithm(key: CryptoKey): Algorithm | EcdsaParams {
  if (key.algorithm.name === 'ECDSA') {
    const curve = (key.algorithm as EcKeyAlgorithm).namedCurve;
    return { name: 'ECDSA', hash: CURVE_HASH[curve] ?? 'SHA-256' } as EcdsaParams;
  }
  return { name: key.algorithm.name };
}

export async function authorityKeyIdentifier(issuer: IssuedCertificate): Promise<x509.Extension> {
  const keyId = issuer.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (keyId) return new x509.AuthorityKeyIdentifierExtension(keyId);
  return x509.AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey);
}

const NODE_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

async function importSigningKey(keyObject: KeyObject): Promise<{ privateKey: CryptoKey; keyType: KeyType }> {
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = NODE_CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error(`unsupported EC curve ${keyObject.asymmetricKeyDetails?.namedCurve ?? '(unknown)'}`);
    const privateKey = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
    return { privateKey, keyType: 'ec' };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const privateKey = await subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { privateKey, keyType: 'rsa' };
  }
  throw new Error(`unsupported key type ${keyObject.asymmetricKeyType ?? '(unknown)'} (use an EC P-256/P-384/P-521 or RSA key)`);
}
