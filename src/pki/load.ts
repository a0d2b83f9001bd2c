/** Loading the listener's TLS material, with errors that name the file at fault. */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerTlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCa: Buffer;
}

/**
 * Reads DIR/server.crt, DIR/server.key and the client CA bundle
 * (clientCaFile ?? DIR/ca.crt), and checks they are PEM a TLS server can use
 * (the key belongs to the certificate). Throws an Error naming the file at fault.
 */
export function loadServerTls(certsDir: string, clientCaFile?: string): ServerTlsMaterial {
  const certPath = join(certsDir, 'server.crt');
  const keyPath = join(certsDir, 'server.key');
  const caPath = clientCaFile ?? join(certsDir, 'ca.crt');
  const cert = readTlsFile(certPath, 'server certificate');
  const key = readTlsFile(keyPath, 'server private key');
  const clientCa = readTlsFile(caPath, 'client CA');

  const serverCert = parseCertificate(cert, certPath, 'server certificate');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new Error(`server private key ${keyPath} is not a usable unencrypted PEM private key: ${reason(error)}`);
  }
  if (!serverCert.checkPrivateKey(privateKey)) {
    throw new Error(`server private key ${keyPath} does not belong to the server certificate ${certPath}`);
  }
  const caBlocks = pemBlocks(clientCa, 'CERTIFICATE');
  if (caBlocks.length === 0) throw new Error(`client CA ${caPath} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  caBlocks.forEach((block) => parseCertificate(Buffer.from(block), caPath, 'client CA'));
  return { cert, key, clientCa };
}

function readTlsFile(path: string, role: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : reason(error);
    throw new Error(`cannot read ${role} ${path}: ${why}`);
  }
}

function parseCertificate(pem: Buffer, path: string, role: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${role} ${path} is not a PEM certificate (-----BEGIN CERTIFICATE----- not found)`);
  }
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new Error(`${role} ${path} holds an unreadable certificate: ${reason(error)}`);
  }
}

function pemBlocks(pem: Buffer, label: string): string[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----[^-]+-----END ${label}-----`, 'g');
  return pem.toString('latin1').match(pattern) ?? [];
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
