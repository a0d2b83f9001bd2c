/** The Entitlement Request a license server sends (docs/protocol.md), after validation. */
export interface EntitlementRequest {
  messageID: string;
  /** Always a number here: a numeric string such as "1" is normalised (with a warning). */
  version: number;
  requestType?: 1 | 2 | 3;
  contentID: string;
  customerCookie?: string;
  /** Unknown fields are kept (and warned about) so templates and the journal can see them. */
  [field: string]: unknown;
}

/** Who is on the other end of the TLS connection, as the listener established it. */
export interface ClientIdentity {
  /** Subject CN of the client certificate, or null when none was presented or it was not trusted. */
  cn: string | null;
  /** SHA-256 of the client certificate (lowercase hex, no colons), or null. */
  fingerprint: string | null;
  /** True when a trusted, valid certificate was presented. False only in `optional` client-auth mode. */
  authorized: boolean;
}

/** The Entitlement Response fields (docs/protocol.md), for reference by the responder and the `request` probe. */
export interface EntitlementResponse {
  messageID: string;
  version: number;
  isAllowed: boolean;
  epTokenURL: string;
  error?: number;
  errorText?: string;
}
