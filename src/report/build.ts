/**
 * Turns the journal (and the refused handshakes) into a report card on the license
 * server under test: findings about what it did wrong, each with evidence and the
 * right behaviour in one sentence, and a profile of its traffic. Pure: no I/O.
 */
import type { JournalEntry } from '../journal/entry.js';
import { isGuid, KNOWN_FIELDS, MAX_COOKIE_LENGTH, VERSION_AS_STRING } from '../protocol/validate.js';
import { TROUBLE_LISTENER_IDS, type FaultReaction, type Finding, type FindingId, type Report, type Severity, type TrafficProfile } from './types.js';

export const EXAMPLE_LIMIT = 5;
/** The same request (contentID and customerCookie) again within this time after a failure ended counts as a retry. */
export const DEFAULT_RETRY_WINDOW_MS = 30_000;
/** More retries than this after one failure, without a success in between, is a retry storm. */
export const RETRY_STORM_THRESHOLD = 3;
/** A held answer waited on for longer than this means the license server has no (sensible) timeout. */
export const LONG_WAIT_MS = 60_000;

export interface ReportInput {
  /** The journal's entries in the report's scope, oldest first. */
  entries: Iterable<JournalEntry>;
  dropped: number;
  /** Refused handshakes since the last reset to judge, by reason (GET /admin/tls-failures `counts`); none for a scoped report. */
  refusedHandshakes: Record<string, number>;
  /** Refused handshakes not to judge: trouble listeners' certificates the license server was right to refuse. */
  troubleCertificatesRefused?: number;
  /** What the entries are: the whole journal (the default) or part of it. */
  scope?: Report['scope'];
  /** Finding ids the team accepted: shown as accepted, never a reason to fail. */
  accept?: readonly FindingId[];
  now?: Date;
  retryWindowMs?: number;
}

/** Evidence gathered for one finding while walking the journal: how many, examples, and the distinct details (problems, reasons). */
class Evidence {
  count = 0;
  readonly examples: number[] = [];
  readonly details = new Map<string, number>();
  add(entryId: number | null, detail = '', times = 1): void {
    this.count += times;
    if (entryId !== null && this.examples.length < EXAMPLE_LIMIT) this.examples.push(entryId);
    if (detail !== '') this.details.set(detail, (this.details.get(detail) ?? 0) + times);
  }
  /** The details in words, most frequent first, at most three. */
  describe(): string {
    const sorted = [...this.details].sort((a, b) => b[1] - a[1]);
    const shown = sorted.slice(0, 3).map(([detail, count]) => (this.details.size > 1 ? `${detail} ×${count}` : detail));
    return `${shown.join('; ')}${sorted.length > 3 ? `; and ${sorted.length - 3} more` : ''}`;
  }
}

interface FindingKind {
  severity: Severity;
  title: (count: number, details: string) => string;
  advice: string;
}

const TROUBLE_TITLES: Record<string, string> = {
  expired: 'a server certificate that has expired',
  'wrong-host': 'a server certificate issued for another host name',
  'untrusted-ca': 'a server certificate from a CA it should not trust',
  untrusted: 'a server certificate from a CA it should not trust',
  'self-signed': 'a self-signed server certificate',
  revoked: 'a server certificate its CA has revoked',
};

const troubleListener = (name: string): FindingKind => ({
  severity: 'error',
  title: (count) => `sent ${requests(count)} over ${TROUBLE_TITLES[name] ?? `the "${name}" trouble listener`} (trouble listener "${name}")`,
  advice: "A license server verifies the entitlement service's certificate (chain, validity, host name and revocation) and refuses the connection before sending anything.",
});

const refused = (advice: string): FindingKind => ({
  severity: 'error',
  title: (count, reasons) => `${count} TLS ${count === 1 ? 'connection' : 'connections'} refused: ${reasons}`,
  advice,
});

const forbidden = (advice: string): FindingKind => ({
  severity: 'error',
  title: (count, problems) => `sent ${requests(count)} the protocol forbids: ${problems}`,
  advice,
});

const FIELDS_ADVICE = 'A license server POSTs a JSON Entitlement Request with messageID, version 1 and contentID, and optional requestType 1-3 and customerCookie, each of its type.';

const KINDS: Record<FindingId, FindingKind> = {
  ...(Object.fromEntries(TROUBLE_LISTENER_IDS.map((id) => [id, troubleListener(id.slice('trouble-listener-'.length))])) as Record<
    (typeof TROUBLE_LISTENER_IDS)[number],
    FindingKind
  >),
  'server-cert-refused': refused(
    "A license server trusts the entitlement service's CA (the mock's dev CA, certs/ca.crt, in a test) and the host name it connects to; it refuses only the trouble listeners' certificates.",
  ),
  'client-cert-missing': refused('A license server presents its client certificate on every connection to the entitlement service.'),
  'client-cert-expired': refused('A license server presents a client certificate within its validity period, renewed before it expires.'),
  'client-cert-untrusted': refused('A license server presents a client certificate issued by the CA the entitlement service trusts.'),
  'client-cert-revoked': refused('A license server presents a client certificate its CA has not revoked.'),
  'client-cert-wrong-purpose': refused('A license server presents a client certificate whose key usage allows TLS client authentication.'),
  'not-tls': refused('A license server speaks HTTPS (TLS 1.2 or 1.3) to the entitlement service.'),
  'tls-mismatch': refused('A license server offers the TLS versions and cipher suites the entitlement service accepts (TLS 1.2 or 1.3 with current suites).'),
  'connection-limit': refused('A license server keeps a bounded pool of connections to the entitlement service and reuses them.'),
  'http-malformed': refused('A license server sends well-formed HTTP/1.1 requests with headers of a sensible size.'),
  'handshake-failed': refused('A license server completes the TLS handshake promptly and does not renegotiate.'),
  'body-not-json': forbidden('A license server sends its Entitlement Request as a JSON object in UTF-8.'),
  'body-not-object': forbidden('A license server sends its Entitlement Request as one flat JSON object.'),
  'body-too-large': forbidden('A license server sends an Entitlement Request of a few hundred bytes.'),
  'body-too-slow': forbidden('A license server sends the whole request body at once, right after the headers.'),
  'body-incomplete': forbidden('A license server sends the whole request body and waits for the answer before closing the connection.'),
  'wrong-path': forbidden('A license server POSTs to the entitlement endpoint it was configured with.'),
  'wrong-method': forbidden('A license server sends its Entitlement Request with POST.'),
  'message-id-invalid': forbidden(FIELDS_ADVICE),
  'version-invalid': forbidden(FIELDS_ADVICE),
  'content-id-invalid': forbidden(FIELDS_ADVICE),
  'request-type-invalid': forbidden(FIELDS_ADVICE),
  'customer-cookie-invalid': forbidden(FIELDS_ADVICE),
  'cookie-too-long': {
    severity: 'error',
    title: (count) => `sent a customerCookie over ${MAX_COOKIE_LENGTH} characters in ${requests(count)}`,
    advice: `A license server keeps customerCookie to at most ${MAX_COOKIE_LENGTH} characters (or leaves it out).`,
  },
  'invalid-request': forbidden(FIELDS_ADVICE),
  'duplicate-message-id': {
    severity: 'warn',
    title: (count) => `reused a messageID in ${requests(count)}`,
    advice: 'A license server sends a fresh GUID as the messageID of every Entitlement Request, retries included.',
  },
  'message-id-not-guid': {
    severity: 'warn',
    title: (count) => `sent a messageID that is not a GUID in ${requests(count)}`,
    advice: 'A license server sends a newly generated GUID as messageID.',
  },
  'content-id-not-guid': {
    severity: 'warn',
    title: (count) => `sent a contentID that is not a GUID in ${requests(count)}`,
    advice: "A license server passes the content's GUID from packaging time as contentID.",
  },
  'content-type-missing': {
    severity: 'warn',
    title: (count) => `sent ${requests(count)} without a Content-Type`,
    advice: 'A license server sends its Entitlement Request with Content-Type: application/json.',
  },
  'content-type-wrong': {
    severity: 'warn',
    title: (count, types) => `sent ${requests(count)} with a Content-Type other than application/json (${types})`,
    advice: 'A license server sends its Entitlement Request with Content-Type: application/json.',
  },
  'version-as-string': {
    severity: 'warn',
    title: (count) => `sent version as a string (e.g. "1") in ${requests(count)}`,
    advice: 'A license server sends version as the JSON number 1.',
  },
  'version-not-1': {
    severity: 'warn',
    title: (count, versions) => `sent a version other than 1 (${versions}) in ${requests(count)}`,
    advice: 'A license server sends version 1, the current protocol version.',
  },
  'unknown-fields': {
    severity: 'warn',
    title: (count, fields) => `sent fields the protocol does not define (${fields}) in ${requests(count)}`,
    advice: 'A license server sends only messageID, version, requestType, contentID and customerCookie.',
  },
  'retry-storm': {
    severity: 'warn',
    title: (count) => `retried a failed request more than ${RETRY_STORM_THRESHOLD} times in a row (${count} ${count === 1 ? 'time' : 'times'})`,
    advice: 'A license server retries a failed entitlement call at most a few times, waiting longer each time, then answers its own client with an error.',
  },
  'long-wait': {
    severity: 'warn',
    title: (count) => `waited over ${LONG_WAIT_MS / 1000} s on an answer that never came, ${count} ${count === 1 ? 'time' : 'times'}`,
    advice: 'A license server gives up on an entitlement call after a bounded timeout of a few seconds and answers its own client with an error.',
  },
};

/** The finding a refused connection's reason (in the listener's words, see server/tls-failures.ts) belongs to. */
export function refusalFinding(reason: string): FindingId {
  if (reason.startsWith('client refused the server certificate')) return 'server-cert-refused';
  if (reason === 'no certificate') return 'client-cert-missing';
  if (/expired|not yet valid/.test(reason)) return 'client-cert-expired';
  if (/revoked/.test(reason)) return 'client-cert-revoked';
  if (/client authentication/.test(reason)) return 'client-cert-wrong-purpose';
  if (/^not TLS/.test(reason)) return 'not-tls';
  if (/unsupported TLS version|no shared cipher/.test(reason)) return 'tls-mismatch';
  if (reason === 'connection limit reached') return 'connection-limit';
  if (/^HTTP /.test(reason)) return 'http-malformed';
  if (/CA|certificate/.test(reason)) return 'client-cert-untrusted';
  return 'handshake-failed';
}

function requests(count: number): string {
  return count === 1 ? '1 request' : `${count} requests`;
}

const FIELD_FINDINGS: Record<string, FindingId> = {
  messageID: 'message-id-invalid',
  version: 'version-invalid',
  contentID: 'content-id-invalid',
  requestType: 'request-type-invalid',
  customerCookie: 'customer-cookie-invalid',
};

/** The finding a protocol problem (entry.problems) belongs to, and the problem in words without the value sent. */
export function problemFinding(problem: string): { id: FindingId; detail: string } {
  const detail = problem.replace(/, got .*$/s, '');
  if (problem.startsWith('customerCookie: at most')) return { id: 'cookie-too-long', detail: '' };
  if (/^body is not valid (JSON|UTF-8)/.test(problem)) return { id: 'body-not-json', detail: problem.replace(/: .*$/s, '') };
  if (/^body (must be a JSON object|is JSON )/.test(problem)) return { id: 'body-not-object', detail };
  if (/^body larger than/.test(problem)) return { id: 'body-too-large', detail };
  if (/^body not complete within/.test(problem)) return { id: 'body-too-slow', detail: 'body not complete in time' };
  if (/before the body was complete/.test(problem)) return { id: 'body-incomplete', detail };
  if (/^path .* is not the entitlement endpoint$/.test(problem)) return { id: 'wrong-path', detail: 'POST to another path than the entitlement endpoint' };
  if (/^method \S+ not allowed$/.test(problem)) return { id: 'wrong-method', detail };
  const field = /^(\w+): /.exec(problem)?.[1];
  const id = field === undefined ? undefined : FIELD_FINDINGS[field];
  return { id: id ?? 'invalid-request', detail };
}

function requestFields(entry: JournalEntry): Record<string, unknown> | null {
  const request = entry.request;
  return request !== null && typeof request === 'object' && !Array.isArray(request) ? (request as Record<string, unknown>) : null;
}

/** What the mock's answer was, as a failure a license server may retry; null when it answered normally. */
function failureOf(entry: JournalEntry): string | null {
  const { fault, status } = entry.response;
  if (fault === 'reset' || fault === 'close' || fault === 'hang' || fault === 'partial') return fault;
  if (status !== null && status >= 500) return '5xx';
  return null;
}

function endOf(entry: JournalEntry, now: number): number {
  return Date.parse(entry.time) + (entry.durationMs ?? now - Date.parse(entry.time));
}

export function buildReport(input: ReportInput): Report {
  const now = (input.now ?? new Date()).getTime();
  const retryWindowMs = input.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS;
  const evidence = new Map<FindingId, Evidence>();
  const note = (id: FindingId, entryId: number | null, detail = '', times = 1) => {
    let found = evidence.get(id);
    if (!found) evidence.set(id, (found = new Evidence()));
    found.add(entryId, detail, times);
  };

  const entries = [...input.entries];
  const messageIds = new Set<string>();
  for (const entry of entries) {
    if (entry.listener !== 'main') note(`trouble-listener-${entry.listener}`, entry.id);
    for (const problem of entry.valid ? [] : entry.problems) {
      const { id, detail } = problemFinding(problem);
      note(id, entry.id, detail);
    }
    const fields = requestFields(entry);
    if (fields === null || entry.method !== 'POST') continue;
    const contentType = entry.headers['content-type'];
    if (contentType === undefined) note('content-type-missing', entry.id);
    else if (!/^application\/json\s*(;|$)/i.test(String(contentType))) note('content-type-wrong', entry.id, String(contentType).slice(0, 60));
    const { messageID, contentID, version } = fields;
    if (typeof messageID === 'string') {
      if (messageIds.has(messageID)) note('duplicate-message-id', entry.id);
      messageIds.add(messageID);
      if (!isGuid(messageID)) note('message-id-not-guid', entry.id);
    }
    if (typeof contentID === 'string' && !isGuid(contentID)) note('content-id-not-guid', entry.id);
    // A numeric string version is journaled as the number it was taken for, with a warning.
    if (entry.warnings.some((warning) => warning.startsWith(VERSION_AS_STRING))) note('version-as-string', entry.id);
    else if (entry.valid && typeof version === 'number' && version !== 1) note('version-not-1', entry.id, String(version));
    const unknown = Object.keys(fields).filter((field) => !KNOWN_FIELDS.has(field));
    if (unknown.length > 0) note('unknown-fields', entry.id, unknown.slice(0, 10).join(', '));
  }

  const reactions = faultReactions(entries, now, retryWindowMs);
  for (const id of reactions.stormEntries) note('retry-storm', id);
  for (const id of reactions.longWaitEntries) note('long-wait', id);
  let refusedHandshakes = input.troubleCertificatesRefused ?? 0;
  for (const [reason, count] of Object.entries(input.refusedHandshakes)) {
    refusedHandshakes += count;
    note(refusalFinding(reason), null, reason, count);
  }

  const accepted = new Set(input.accept ?? []);
  const findings: Finding[] = [];
  for (const [id, found] of evidence) {
    const kind = KINDS[id];
    findings.push({
      id,
      severity: kind.severity,
      title: kind.title(found.count, found.describe()),
      count: found.count,
      examples: found.examples,
      advice: kind.advice,
      accepted: accepted.has(id),
    });
  }
  findings.sort((a, b) =>
    a.accepted !== b.accepted ? (a.accepted ? 1 : -1) : a.severity === b.severity ? b.count - a.count : a.severity === 'error' ? -1 : 1,
  );

  return {
    generatedAt: new Date(now).toISOString(),
    requests: entries.length,
    dropped: input.dropped,
    refusedHandshakes,
    scope: input.scope ?? { session: null, since: null },
    findings,
    profile: profileOf(entries, now, reactions.reactions),
    retryWindowMs,
  };
}

/**
 * Walks each request key's (contentID + customerCookie) history: a failure followed by the
 * same request within the window after it ended was retried; consecutive failed retries
 * make a chain, whose length is what `maxRetries` and the retry storm look at.
 */
function faultReactions(entries: readonly JournalEntry[], now: number, windowMs: number) {
  const byKey = new Map<string, JournalEntry[]>();
  for (const entry of entries) {
    const fields = requestFields(entry);
    if (fields === null || !entry.valid) continue;
    const key = `${String(fields.contentID)}\u0000${String(fields.customerCookie ?? '')}`;
    let history = byKey.get(key);
    if (!history) byKey.set(key, (history = []));
    history.push(entry);
  }
  const reactions = new Map<string, FaultReaction>();
  const waits = new Map<string, number[]>();
  const stormEntries: number[] = [];
  const longWaitEntries: number[] = [];
  for (const history of byKey.values()) {
    let chain: { failure: string; retries: number } | null = null;
    for (const [index, entry] of history.entries()) {
      const failure = failureOf(entry);
      if (failure === null) {
        chain = null;
        continue;
      }
      let reaction = reactions.get(failure);
      if (!reaction) reactions.set(failure, (reaction = { failure, count: 0, retried: 0, retries: 0, maxRetries: 0 }));
      reaction.count++;
      if (failure === 'hang') {
        if (entry.durationMs === null) {
          reaction.stillWaiting = (reaction.stillWaiting ?? 0) + 1;
          if (now - Date.parse(entry.time) > LONG_WAIT_MS) longWaitEntries.push(entry.id);
        } else {
          let list = waits.get(failure);
          if (!list) waits.set(failure, (list = []));
          list.push(Math.round(entry.durationMs));
          if (entry.durationMs > LONG_WAIT_MS) longWaitEntries.push(entry.id);
        }
      }
      const next = history[index + 1];
      const retried = next !== undefined && Date.parse(next.time) - endOf(entry, now) <= windowMs;
      if (!retried) {
        chain = null;
        continue;
      }
      reaction.retried++;
      reaction.retries++;
      chain ??= { failure, retries: 0 };
      chain.retries++;
      const origin = reactions.get(chain.failure) as FaultReaction;
      origin.maxRetries = Math.max(origin.maxRetries, chain.retries);
      if (chain.retries === RETRY_STORM_THRESHOLD + 1 && next !== undefined) stormEntries.push(next.id);
    }
  }
  for (const [failure, list] of waits) {
    list.sort((a, b) => a - b);
    const reaction = reactions.get(failure) as FaultReaction;
    reaction.gaveUpAfterMs = { min: list[0] as number, median: list[Math.floor(list.length / 2)] as number, max: list[list.length - 1] as number };
  }
  return { reactions: [...reactions.values()].sort((a, b) => b.count - a.count), stormEntries, longWaitEntries };
}

/**
 * A connection's number is counted per process, so workers and replicas (--workers, --peers) each
 * have a connection 1: with the replica and the client's address:port beside it, two of them are
 * told apart.
 */
function connectionKey(entry: JournalEntry, connection: number): string {
  return `${entry.replica ?? ''} ${entry.remote} ${connection}`;
}

function profileOf(entries: readonly JournalEntry[], now: number, faultReactions: FaultReaction[]): TrafficProfile {
  const connections = new Map<string, { version: string | null; resumed: boolean }>();
  // Arrivals as +1 and ends as -1; an end sorts before an arrival at the same time.
  const events: [time: number, change: 1 | -1][] = [];
  for (const entry of entries) {
    if (entry.tls !== null) connections.set(connectionKey(entry, entry.tls.connection), entry.tls);
    const start = Date.parse(entry.time);
    events.push([start, 1], [endOf(entry, now), -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let peakConcurrency = 0;
  for (const [, change] of events) {
    inFlight += change;
    peakConcurrency = Math.max(peakConcurrency, inFlight);
  }
  const tlsVersions: Record<string, number> = {};
  let resumedConnections = 0;
  for (const tls of connections.values()) {
    const version = tls.version ?? 'unknown';
    tlsVersions[version] = (tlsVersions[version] ?? 0) + 1;
    if (tls.resumed) resumedConnections++;
  }
  return { requests: entries.length, connections: connections.size, tlsVersions, resumedConnections, peakConcurrency, faultReactions };
}
