/**
 * The `revoked` trouble listener's material: a server certificate the dev CA issued and then
 * revoked, naming where the CRL that says so is published (its CRL distribution point), and that
 * CRL, signed by the dev CA. A license server that checks revocation refuses the certificate;
 * one that only checks chain, dates and host name accepts it.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import { x509 } from './x509.js';
import { authorityKeyIdentifier, issueCertificate, signingAlgorithm, type IssuedCertificate, type KeyType } from './issue.js';
import type { SubjectAltName } from './san.js';

/** Where the CRL listener publishes the dev CA's CRL. */
export const CRL_PATH = '/ca.crl';

const HOUR_MS = 60 * 60 * 1000;
/** A CRL is rebuilt (on its next fetch) once it is this old… */
const CRL_REFRESH_MS = 24 * HOUR_MS;
/** …and clients may use it this long: well past the refresh, so a client's cached copy never expires while the mock runs. */
const CRL_VALIDITY_MS = 7 * 24 * HOUR_MS;

/**
 * The revoked certificate's serial number: the same for every certificate the mock issues for
 * this CA, so a CRL a license server cached from an earlier start of the mock still revokes the
 * certificate of this one (the certificate itself is made at each start, because its CRL
 * distribution point names this start's CRL address).
 */
export function revokedSerialNumber(ca: IssuedCertificate): string {
  const digest = createHash('sha256').update(ca.certDer).update('entitlement-mock revoked trouble certificate').digest();
  digest[0] = (digest[0]! & 0x7f) | 0x40; // positive and twenty bytes at most, as RFC 5280 asks
  return digest.subarray(0, 16).toString('hex');
}

export interface RevokedCertificateSpec {
  ca: IssuedCertificate;
  sans: readonly SubjectAltName[];
  keyType: KeyType;
  /** The CRL's address as the license server reaches it: the certificate's CRL distribution point. */
  crlUrl: string;
}

export function issueRevokedCertificate(spec: RevokedCertificateSpec): Promise<IssuedCertificate> {
  return issueCertificate({
    subjectCN: 'entitlement-mock (trouble: revoked)',
    issuer: spec.ca,
    usage: 'server',
    sans: spec.sans,
    keyType: spec.keyType,
    serialNumber: revokedSerialNumber(spec.ca),
    crlUrl: spec.crlUrl,
  });
}

export interface PublishedCrl {
  /** DER, as served with Content-Type application/pkix-crl. */
  der: Buffer;
  thisUpdate: Date;
}

/** The dev CA's CRL, listing the revoked certificate; built on first use and rebuilt once a day. */
export class CrlPublisher {
  private published: Promise<PublishedCrl> | null = null;
  private builtAt = 0;

  constructor(private readonly ca: IssuedCertificate) {}

  current(now = Date.now()): Promise<PublishedCrl> {
    if (this.published === null || now - this.builtAt >= CRL_REFRESH_MS) {
      this.builtAt = now;
      this.published = this.build(now);
      // A failed build is tried again on the next fetch.
      this.published.catch(() => {
        this.published = null;
      });
    }
    return this.published;
  }

  private async build(now: number): Promise<PublishedCrl> {
    // Whole seconds, as the CRL stores them; backdated like the certificates, for clocks that disagree.
    const thisUpdate = new Date(Math.floor(now / 1000) * 1000 - 5 * 60 * 1000);
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.ca.certificate.subjectName,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + CRL_VALIDITY_MS),
      signingKey: this.ca.privateKey,
      signingAlgorithm: signingAlgorithm(this.ca.privateKey),
      extensions: [
        await authorityKeyIdentifier(this.ca),
        // Increases with every CRL built (RFC 5280 asks for one), across restarts too.
        new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(Math.floor(thisUpdate.getTime() / 1000)))),
      ],
      entries: [{ serialNumber: revokedSerialNumber(this.ca), revocationDate: thisUpdate, reason: x509.X509CrlReason.keyCompromise }],
    });
    return { der: Buffer.from(crl.rawData), thisUpdate };
  }
}
