import { createHash } from 'node:crypto';

/** SHA-256 of a DER certificate as lowercase hex without colons (what scenario `clientFingerprint` matches). */
export function certificateFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
