/**
 * Who the TLS client is, and — when its certificate is refused — why, in words.
 * The listener runs with rejectUnauthorized: false so that it can tell the
 * reasons apart (Node's own rejection would lose them) and then ends refused
 * connections itself, before any HTTP answer.
 */
import type { TLSSocket } from 'node:tls';
import type { ClientIdentity } from '../protocol/types.js';
import { peerCertificateFacts, type PeerCertificateFacts } from './peer-certificate.js';

export type CertificateVerdict =
  | { accepted: true; identity: ClientIdentity }
  | { accepted: false; identity: ClientIdentity; reason: string; code: string | null };

const REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'expired certificate',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA (self-signed certificate in chain)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown CA (self-signed certificate)',
  CERT_SIGNATURE_FAILURE: 'bad certificate signature',
  CERT_REVOKED: 'revoked certificate',
  INVALID_PURPOSE: 'certificate not usable for client authentication',
  CERT_UNTRUSTED: 'untrusted certificate',
  CERT_REJECTED: 'rejected certificate',
};

export const ANONYMOUS: ClientIdentity = Object.freeze({ cn: null, fingerprint: null, authorized: false });

/** The words /admin/tls-failures uses for an OpenSSL certificate verification error code. */
export function refusalReason(code: string): string {
  return REASONS[code] ?? code.toLowerCase().replaceAll('_', ' ');
}

/** Reads the verdict of OpenSSL's verification of the peer certificate on an established TLS socket. */
export function judgeClientCertificate(socket: TLSSocket): CertificateVerdict {
  const peer = peerCertificateFacts(socket);
  if (peer === null) {
    return { accepted: false, identity: ANONYMOUS, reason: 'no certificate', code: null };
  }
  if (socket.authorized) return { accepted: true, identity: acceptedIdentity(peer) };
  const code = String(socket.authorizationError ?? 'UNKNOWN');
  return {
    accepted: false,
    // An unverified certificate proves nothing: journal it as unauthenticated.
    identity: ANONYMOUS,
    reason: refusalReason(code),
    code,
  };
}

/**
 * One frozen identity per certificate the session reading remembers (server/peer-certificate.ts
 * shares its facts object per certificate), so the entries of a client's connections share it.
 */
const identities = new WeakMap<PeerCertificateFacts, ClientIdentity>();

function acceptedIdentity(peer: PeerCertificateFacts): ClientIdentity {
  let identity = identities.get(peer);
  if (identity === undefined) {
    identity = Object.freeze({ cn: peer.cn, fingerprint: peer.fingerprint, authorized: true });
    identities.set(peer, identity);
  }
  return identity;
}
