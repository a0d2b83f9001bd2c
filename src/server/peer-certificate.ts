/**
 * The two facts of a client certificate the mock uses (its subject CN and its SHA-256
 * fingerprint), read once per connection without `getPeerCertificate()`.
 *
 * `getPeerCertificate()` turns the whole certificate into a JS object (subject, issuer, SANs,
 * key details, three fingerprints, a copy of the DER…): ~60–180 µs of CPU per connection plus
 * the garbage, for two strings. `getPeerX509Certificate()` costs more still (~150 µs to create).
 * The TLS session, which `getSession()` hands over as DER (~15 µs), holds the peer certificate
 * as its field [3] (OpenSSL's SSL_SESSION ASN.1, unchanged since SSLeay); the CN is one walk
 * through the certificate's subject and the fingerprint one hash of its bytes.
 *
 * Anything unexpected in that encoding falls back to `getPeerCertificate()`, so a surprise
 * costs time, never a wrong identity (test/peer-certificate.test.ts compares both ways).
 */
import type { TLSSocket } from 'node:tls';
import { certificateFingerprint } from '../pki/fingerprint.js';

export interface PeerCertificateFacts {
  /** The subject's first CN, null without one. */
  readonly cn: string | null;
  /** SHA-256 of the DER certificate, lowercase hex. */
  readonly fingerprint: string;
}

/** The peer certificate's CN and fingerprint; null when the peer sent no certificate. */
export function peerCertificateFacts(socket: TLSSocket): PeerCertificateFacts | null {
  const fromSession = factsFromSession(socket.getSession());
  return fromSession === undefined ? factsFromPeerCertificate(socket) : fromSession;
}

/** What Node's own reading says (the fallback, and the reference the test compares with). */
export function factsFromPeerCertificate(socket: TLSSocket): PeerCertificateFacts | null {
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0 || !peer.raw) return null;
  const cn = peer.subject?.CN;
  return { cn: (Array.isArray(cn) ? cn[0] : cn) ?? null, fingerprint: certificateFingerprint(peer.raw) };
}

/**
 * From a DER SSL_SESSION: the facts of its peer certificate, null when it has none, undefined
 * when the encoding is not the expected one.
 */
export function factsFromSession(session: Buffer | undefined): PeerCertificateFacts | null | undefined {
  if (session === undefined) return undefined;
  const root = readTlv(session, 0);
  if (root === null || root.tag !== SEQUENCE || root.end !== session.length) return undefined;
  // SSL_SESSION ::= SEQUENCE { version, sslVersion, cipher, sessionID, masterKey, [1] time?, [2] timeout?, [3] peer Certificate?, … }
  for (let at = root.start; at < root.end; ) {
    const field = readTlv(session, at);
    if (field === null || field.end > root.end) return undefined;
    if (field.tag === PEER_CERTIFICATE) {
      const certificate = readTlv(session, field.start);
      if (certificate === null || certificate.tag !== SEQUENCE || certificate.end !== field.end) return undefined;
      const known = recentCertificates.find(session, field.start, certificate.end);
      if (known !== undefined) return known;
      const cn = subjectCommonName(session, certificate);
      if (cn === undefined) return undefined;
      const der = session.subarray(field.start, certificate.end);
      return recentCertificates.remember(der, Object.freeze({ cn, fingerprint: certificateFingerprint(der) }));
    }
    // The fields come in tag order: past [3] there is no peer certificate.
    if (field.tag > PEER_CERTIFICATE && field.tag >= CONTEXT_CONSTRUCTED && field.tag <= CONTEXT_CONSTRUCTED + 30) return null;
    at = field.end;
  }
  return null;
}

/**
 * The facts of the last few client certificates seen, so that the next connection of the same
 * client (every connection, for a license server with one certificate; a resumed one too) finds
 * them by comparing bytes instead of walking the subject and hashing the certificate again, and
 * its journal entries share one facts object instead of each holding its own fingerprint string.
 * Looked up by the certificate's last bytes (its signature), confirmed by comparing all of them.
 */
class RecentCertificates {
  static readonly LIMIT = 64;
  static readonly KEY_BYTES = 16;
  readonly #byTail = new Map<string, { der: Buffer; facts: PeerCertificateFacts }>();

  find(session: Buffer, start: number, end: number): PeerCertificateFacts | undefined {
    if (end - start < RecentCertificates.KEY_BYTES) return undefined;
    const known = this.#byTail.get(session.toString('latin1', end - RecentCertificates.KEY_BYTES, end));
    return known !== undefined && known.der.compare(session, start, end) === 0 ? known.facts : undefined;
  }

  remember(der: Buffer, facts: PeerCertificateFacts): PeerCertificateFacts {
    if (der.length < RecentCertificates.KEY_BYTES) return facts;
    if (this.#byTail.size >= RecentCertificates.LIMIT) this.#byTail.delete(this.#byTail.keys().next().value!);
    // A copy: `der` is a view of the whole session buffer, which the cache must not keep alive.
    this.#byTail.set(der.toString('latin1', der.length - RecentCertificates.KEY_BYTES), { der: Buffer.from(der), facts });
    return facts;
  }
}

const recentCertificates = new RecentCertificates();

const SEQUENCE = 0x30;
const SET = 0x31;
const OBJECT_IDENTIFIER = 0x06;
const CONTEXT_CONSTRUCTED = 0xa0;
const PEER_CERTIFICATE = CONTEXT_CONSTRUCTED + 3;
/** The DER of OID 2.5.4.3 (commonName), after its tag and length. */
const COMMON_NAME_OID = [0x55, 0x04, 0x03];

interface Tlv {
  tag: number;
  /** Where the value starts. */
  start: number;
  /** Where the value ends (exclusive). */
  end: number;
}

/** One DER tag-length-value at `at` (single-byte tags, definite lengths), or null when it does not fit. */
function readTlv(der: Buffer, at: number): Tlv | null {
  if (at + 2 > der.length) return null;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return null; // multi-byte tags: none in what is read here
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > der.length) return null;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  return end > der.length ? null : { tag, start, end };
}

/**
 * The first CN of a Certificate's subject: Certificate ::= SEQUENCE { tbsCertificate SEQUENCE
 * { [0] version?, serialNumber, signature, issuer, validity, subject, … }, … }. null without a
 * CN, undefined when the structure is not the expected one.
 */
function subjectCommonName(der: Buffer, certificate: Tlv): string | null | undefined {
  const tbs = readTlv(der, certificate.start);
  if (tbs === null || tbs.tag !== SEQUENCE) return undefined;
  let at = tbs.start;
  const first = readTlv(der, at);
  if (first === null) return undefined;
  if (first.tag === CONTEXT_CONSTRUCTED) at = first.end; // explicit version
  // serialNumber, signature, issuer, validity: skipped; the sixth field is the subject.
  for (let skip = 0; skip < 4; skip++) {
    const field = readTlv(der, at);
    if (field === null || field.end > tbs.end) return undefined;
    at = field.end;
  }
  const subject = readTlv(der, at);
  if (subject === null || subject.tag !== SEQUENCE || subject.end > tbs.end) return undefined;
  // Name ::= SEQUENCE OF SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }
  for (let rdnAt = subject.start; rdnAt < subject.end; ) {
    const rdn = readTlv(der, rdnAt);
    if (rdn === null || rdn.tag !== SET || rdn.end > subject.end) return undefined;
    for (let attributeAt = rdn.start; attributeAt < rdn.end; ) {
      const attribute = readTlv(der, attributeAt);
      if (attribute === null || attribute.tag !== SEQUENCE || attribute.end > rdn.end) return undefined;
      const type = readTlv(der, attribute.start);
      if (type === null || type.tag !== OBJECT_IDENTIFIER) return undefined;
      if (isCommonName(der, type)) {
        const value = readTlv(der, type.end);
        return value === null || value.end > attribute.end ? undefined : decodeString(der, value);
      }
      attributeAt = attribute.end;
    }
    rdnAt = rdn.end;
  }
  return null;
}

function isCommonName(der: Buffer, oid: Tlv): boolean {
  return oid.end - oid.start === COMMON_NAME_OID.length && COMMON_NAME_OID.every((byte, i) => der[oid.start + i] === byte);
}

/**
 * A directory string as text; undefined for the types Node would render differently (escaped,
 * or not a string type), which the fallback then reads.
 */
function decodeString(der: Buffer, value: Tlv): string | undefined {
  switch (value.tag) {
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: {
      // IA5String
      const text = der.toString('utf8', value.start, value.end);
      // Node escapes control characters and the like in names: leave anything unusual to it.
      return /^[\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd') ? text : undefined;
    }
    default:
      return undefined;
  }
}
