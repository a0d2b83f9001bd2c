/**
 * Parse and validate an Entitlement Request body (docs/protocol.md: "Requests the
 * protocol forbids" and "Warnings"). Pure: no Koa, no sockets, no state.
 */
import type { EntitlementRequest } from './types.js';
import { jsonShapeProblem } from './json-limits.js';

export type ParsedRequest =
  | { valid: true; request: EntitlementRequest; warnings: string[] }
  | {
      valid: false;
      /** The parsed JSON value when the body was JSON, else null. */
      request: unknown;
      problems: string[];
      warnings: string[];
    };

export const MAX_COOKIE_LENGTH = 32;
/** The protocol's current version: a request with a higher one is answered, with a warning. */
export const PROTOCOL_VERSION = 1;
/** One warning per unknown field up to this many, then one line for the rest (a 64 KiB body can hold 9,000 fields). */
export const MAX_UNKNOWN_FIELD_WARNINGS = 20;
/** The fields of an Entitlement Request; anything else is warned about. */
export const KNOWN_FIELDS: ReadonlySet<string> = new Set(['messageID', 'version', 'requestType', 'contentID', 'customerCookie']);
/** How the warning for a version sent as a numeric string begins (the journal keeps the request with the number). */
export const VERSION_AS_STRING = 'version: sent as the string';
const NUMERIC_STRING = /^[0-9]+$/;

/**
 * 8-4-4-4-12 hex digits, optionally after `{` and/or before `}` (as
 * /^\{?[0-9a-fA-F]{8}-…-[0-9a-fA-F]{12}\}?$/ says). A loop rather than that RegExp: every
 * request checks two GUIDs, and the loop takes a fraction of the RegExp's time.
 */
export function isGuid(value: string): boolean {
  const start = value.charCodeAt(0) === 0x7b /* { */ ? 1 : 0;
  const end = value.length > start && value.charCodeAt(value.length - 1) === 0x7d /* } */ ? value.length - 1 : value.length;
  if (end - start !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const unit = value.charCodeAt(start + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (unit !== 0x2d /* - */) return false;
    } else if (!((unit >= 0x30 && unit <= 0x39) || ((unit | 0x20) >= 0x61 && (unit | 0x20) <= 0x66))) return false;
  }
  return true;
}

/** Words for a JSON value's type, as a license-server author would say it. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

function shortJson(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return `${value} (out of range)`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function parseEntitlementRequest(bodyText: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch (error) {
    const reason = bodyText.length === 0 ? 'the body is empty' : (error as Error).message;
    return { valid: false, request: null, problems: [`body is not valid JSON: ${reason}`], warnings: [] };
  }
  const shapeProblem = jsonShapeProblem(json);
  if (shapeProblem !== null) return { valid: false, request: null, problems: [shapeProblem], warnings: [] };
  return validateEntitlementRequest(json);
}

export function validateEntitlementRequest(json: unknown): ParsedRequest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return {
      valid: false,
      request: json,
      problems: [`body must be a JSON object, got ${describeJsonType(json)}`],
      warnings: [],
    };
  }
  const fields = json as Record<string, unknown>;
  const problems: string[] = [];
  const warnings: string[] = [];

  const { messageID, contentID, customerCookie, requestType } = fields;
  let { version } = fields;

  if (messageID === undefined) problems.push('messageID: required field missing');
  else if (typeof messageID !== 'string') problems.push(`messageID: expected a string, got ${describeJsonType(messageID)}`);
  else if (!isGuid(messageID)) warnings.push(`messageID: ${shortJson(messageID)} is not a GUID`);

  if (version === undefined) problems.push('version: required field missing');
  else {
    if (typeof version === 'string' && NUMERIC_STRING.test(version)) {
      warnings.push(`${VERSION_AS_STRING} ${shortJson(version)}; treated as the number ${Number(version)}`);
      version = Number(version);
    }
    if (typeof version !== 'number') problems.push(`version: expected a positive integer, got ${describeJsonType(version)}`);
    else if (!Number.isSafeInteger(version) || version < 1 || Object.is(version, -0))
      problems.push(`version: expected a positive integer, got ${shortJson(version)}`);
    else if (version > PROTOCOL_VERSION)
      warnings.push(`version: ${version} is above ${PROTOCOL_VERSION}, the protocol version the mock knows; answered as usual`);
  }

  if (contentID === undefined) problems.push('contentID: required field missing');
  else if (typeof contentID !== 'string') problems.push(`contentID: expected a string, got ${describeJsonType(contentID)}`);
  else if (!isGuid(contentID)) warnings.push(`contentID: ${shortJson(contentID)} is not a GUID`);

  if (requestType !== undefined) {
    if (typeof requestType !== 'number')
      problems.push(`requestType: expected 1, 2 or 3, got ${describeJsonType(requestType)}`);
    else if (requestType !== 1 && requestType !== 2 && requestType !== 3)
      problems.push(`requestType: expected 1, 2 or 3, got ${shortJson(requestType)}`);
  }

  if (customerCookie !== undefined) {
    if (typeof customerCookie !== 'string')
      problems.push(`customerCookie: expected a string, got ${describeJsonType(customerCookie)}`);
    else if (customerCookie.length > MAX_COOKIE_LENGTH)
      problems.push(`customerCookie: at most ${MAX_COOKIE_LENGTH} characters, got ${customerCookie.length}`);
  }

  let unknownFields = 0;
  for (const field of Object.keys(fields)) {
    if (KNOWN_FIELDS.has(field)) continue;
    if (++unknownFields <= MAX_UNKNOWN_FIELD_WARNINGS) warnings.push(`unknown field ${shortJson(field)}`);
  }
  if (unknownFields > MAX_UNKNOWN_FIELD_WARNINGS)
    warnings.push(`... and ${unknownFields - MAX_UNKNOWN_FIELD_WARNINGS} more unknown fields`);

  if (problems.length > 0) return { valid: false, request: json, problems, warnings };
  const request = version === fields.version ? (fields as EntitlementRequest) : ({ ...fields, version } as EntitlementRequest);
  return { valid: true, request, warnings };
}
