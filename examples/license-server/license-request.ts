/** The license request a client sends the license server: `POST /license` with a JSON object. */

export interface LicenseRequest {
  contentID: string;
  requestType?: number;
  customerCookie?: string;
  /** Another entitlement service for this request (the conformance cases with bad server certificates). */
  entitlementUrl?: URL;
}

export type ParsedLicenseRequest = { ok: true; request: LicenseRequest } | { ok: false; error: string };

export function parseLicenseRequest(text: string): ParsedLicenseRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'the body must be a JSON object: {"contentID": "…", "requestType"?: 1, "customerCookie"?: "…", "entitlementUrl"?: "https://…"}' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'the body must be a JSON object' };
  const { contentID, requestType, customerCookie, entitlementUrl } = value as Record<string, unknown>;
  if (typeof contentID !== 'string' || contentID === '') return { ok: false, error: 'contentID: expected a non-empty string' };
  if (requestType !== undefined && !(requestType === 1 || requestType === 2 || requestType === 3))
    return { ok: false, error: 'requestType: expected 1 (time-based), 2 (device registration) or 3 (device-bound)' };
  if (customerCookie !== undefined && (typeof customerCookie !== 'string' || customerCookie.length > 32))
    return { ok: false, error: 'customerCookie: expected a string of at most 32 characters' };
  let url: URL | undefined;
  if (entitlementUrl !== undefined) {
    url = typeof entitlementUrl === 'string' && URL.canParse(entitlementUrl) ? new URL(entitlementUrl) : undefined;
    if (url?.protocol !== 'https:') return { ok: false, error: 'entitlementUrl: expected an https:// URL' };
  }
  return {
    ok: true,
    request: {
      contentID,
      ...(requestType === undefined ? {} : { requestType }),
      ...(customerCookie === undefined ? {} : { customerCookie }),
      ...(url === undefined ? {} : { entitlementUrl: url }),
    },
  };
}
