/**
 * Protocol checks of an Entitlement Response against the request that was sent
 * (docs/protocol.md, "Entitlement Response"). Pure: no sockets, no printing. Used by `entitlement-mock request`,
 * which makes it a conformance check for a real entitlement service too.
 *
 * One named check per rule, always all of them and always in the same order, so a
 * report reads the same whatever went wrong. A check that cannot be judged because an
 * earlier one failed (no JSON object to look into) fails with a detail saying so.
 */

/** What the probe sent: the fields the checks compare against. */
export interface SentRequest {
  messageID: string;
  version: number;
  [field: string]: unknown;
}

/** What came back on the wire. */
export interface ReceivedResponse {
  status: number;
  /** The Content-Type header, if any. */
  contentType?: string | undefined;
  bodyText: string;
}

export interface CheckResult {
  /** One of CHECK_NAMES. */
  name: CheckName;
  ok: boolean;
  /** What was seen, in words ("got 503", "expected \"…\", got \"…\""). */
  detail: string;
}

/** Every check, in the order they are reported. */
export const CHECK_NAMES = [
  'HTTP status 200',
  'Content-Type is JSON',
  'body is a JSON object',
  'messageID echoed',
  "version present, an integer, <= the request's",
  'isAllowed present and a boolean',
  'epTokenURL present and a string',
  'epTokenURL an absolute http(s) URL when isAllowed is true',
  'error an integer when present',
  'errorText a string when present',
] as const;

export type CheckName = (typeof CHECK_NAMES)[number];

/** The body after parsing: an object to look into, or why there is none. */
type ParsedBody = { kind: 'object'; fields: Record<string, unknown> } | { kind: 'none'; why: string };

type Verdict = { ok: boolean; detail: string };

interface Check {
  name: CheckName;
  /** Judged on the raw response (status, headers, body text). */
  raw?: (sent: SentRequest, received: ReceivedResponse, body: ParsedBody) => Verdict;
  /** Judged on the fields of the JSON object; fails with the parse reason when there is none. */
  fields?: (sent: SentRequest, fields: Record<string, unknown>) => Verdict;
}

const pass = (detail: string): Verdict => ({ ok: true, detail });
const fail = (detail: string): Verdict => ({ ok: false, detail });

const CHECKS: readonly Check[] = [
  {
    name: 'HTTP status 200',
    raw: (_sent, received) => (received.status === 200 ? pass('200') : fail(`got ${received.status}`)),
  },
  {
    name: 'Content-Type is JSON',
    raw: (_sent, received) => {
      const contentType = received.contentType;
      if (contentType === undefined || contentType === '') return fail('no Content-Type header');
      return isJsonMediaType(contentType) ? pass(contentType) : fail(`got "${contentType}"`);
    },
  },
  {
    name: 'body is a JSON object',
    raw: (_sent, _received, body) => (body.kind === 'object' ? pass('parsed') : fail(body.why)),
  },
  {
    name: 'messageID echoed',
    fields: (sent, fields) => {
      if (!('messageID' in fields)) return fail('missing');
      const received = fields.messageID;
      if (received === sent.messageID) return pass(JSON.stringify(received));
      return fail(`expected ${JSON.stringify(sent.messageID)}, got ${describe(received)}`);
    },
  },
  {
    name: "version present, an integer, <= the request's",
    fields: (sent, fields) => {
      if (!('version' in fields)) return fail('missing');
      const version = fields.version;
      if (typeof version !== 'number' || !Number.isInteger(version)) return fail(`not an integer: ${describe(version)}`);
      if (version > sent.version) return fail(`${version} is above the request's ${sent.version}`);
      return pass(`${version} (request sent ${sent.version})`);
    },
  },
  {
    name: 'isAllowed present and a boolean',
    fields: (_sent, fields) => {
      if (!('isAllowed' in fields)) return fail('missing');
      return typeof fields.isAllowed === 'boolean'
        ? pass(String(fields.isAllowed))
        : fail(`not a boolean: ${describe(fields.isAllowed)}`);
    },
  },
  {
    name: 'epTokenURL present and a string',
    fields: (_sent, fields) => {
      if (!('epTokenURL' in fields)) return fail('missing');
      return typeof fields.epTokenURL === 'string'
        ? pass(fields.epTokenURL === '' ? 'empty string' : 'string')
        : fail(`not a string: ${describe(fields.epTokenURL)}`);
    },
  },
  {
    name: 'epTokenURL an absolute http(s) URL when isAllowed is true',
    fields: (_sent, fields) => {
      if (fields.isAllowed !== true) return pass('not required: isAllowed is not true');
      const url = fields.epTokenURL;
      if (typeof url !== 'string') return fail(`not a string: ${describe(url)}`);
      return isAbsoluteHttpUrl(url) ? pass(url) : fail(`not an absolute http(s) URL: ${JSON.stringify(url)}`);
    },
  },
  {
    name: 'error an integer when present',
    fields: (_sent, fields) => {
      if (!('error' in fields)) return pass('absent');
      const error = fields.error;
      return typeof error === 'number' && Number.isInteger(error) ? pass(String(error)) : fail(`not an integer: ${describe(error)}`);
    },
  },
  {
    name: 'errorText a string when present',
    fields: (_sent, fields) => {
      if (!('errorText' in fields)) return pass('absent');
      return typeof fields.errorText === 'string'
        ? pass(JSON.stringify(fields.errorText))
        : fail(`not a string: ${describe(fields.errorText)}`);
    },
  },
];

export function checkEntitlementResponse(sent: SentRequest, received: ReceivedResponse): CheckResult[] {
  const body = parseBody(received.bodyText);
  return CHECKS.map((check) => {
    let verdict: Verdict;
    if (check.raw) verdict = check.raw(sent, received, body);
    else if (body.kind === 'none') verdict = fail(`cannot check: ${body.why}`);
    else verdict = (check.fields as NonNullable<Check['fields']>)(sent, body.fields);
    return { name: check.name, ...verdict };
  });
}

/** True when every check passed. */
export function allPassed(results: readonly CheckResult[]): boolean {
  return results.every((result) => result.ok);
}

function parseBody(bodyText: string): ParsedBody {
  if (bodyText.trim() === '') return { kind: 'none', why: 'the body is empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch (error) {
    return { kind: 'none', why: `the body is not JSON (${(error as Error).message}): ${excerpt(bodyText)}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { kind: 'none', why: `the body is JSON but not an object: ${excerpt(bodyText)}` };
  return { kind: 'object', fields: parsed as Record<string, unknown> };
}

/** application/json, or any `+json` type, parameters allowed. */
function isJsonMediaType(contentType: string): boolean {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return mediaType === 'application/json' || /^[a-z]+\/[^\s/]+\+json$/.test(mediaType);
}

function isAbsoluteHttpUrl(text: string): boolean {
  // The URL parser forgives "http:host" and blanks; a license server may not.
  if (!/^https?:\/\/[^/]/i.test(text) || /\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** A value in words with its JSON type, for details ("\"1\" (string)"). */
function describe(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `${excerpt(JSON.stringify(value) ?? String(value))} (${type})`;
}

function excerpt(text: string, max = 80): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
