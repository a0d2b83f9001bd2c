/**
 * Turns the journal (and the refused handshakes) into a report card on the license
 * server under test: findings about what it did wrong, each with evidence and the
 * right behaviour in one sentence, and a profile of its traffic. Pure: no I/O.
 */
import type { JournalEntry } from '../journal/entry.js';
import { isGuid, KNOWN_FIELDS, MAX_COOKIE_LENGTH, VERSION_AS_STRING } from '../protocol/validate.js';
import type { FaultReaction, Finding, Report, Severity, TrafficProfile } from './types.js';

export const EXAMPLE_LIMIT = 5;
/** The same request (contentID and customerCookie) again within this time after a failure ended counts as a retry. */
export const DEFAULT_RETRY_WINDOW_MS = 30_000;
/** More retries than this after one failure, without a success in between, is a retry storm. */
export const RETRY_STORM_THRESHOLD = 3;
/** A held answer waited on for longer than this means the license server has no (sensible) timeout. */
export const LONG_WAIT_MS = 60_000;

export interface ReportInput {
  /** The journal's entries, oldest first. */
  entries: Iterable<JournalEntry>;
  dropped: number;
  /** Refused handshakes since the last reset, by reason (GET /admin/tls-failures `counts`). */
  refusedHandshakes: Record<string, number>;
  now?: Date;
  retryWindowMs?: number;
}

/** Evidence gathered for one finding while walking the journal. */
class Evidence {
  count = 0;
  readonly examples: number[] = [];
  add(entryId: number): void {
    this.count++;
    if (this.examples.length < EXAMPLE_LIMIT) this.examples.push(entryId);
  }
}

interface FindingKind {
  severity: Severity;
  title: (count: number, detail: string) => string;
  advice: string;
}

const TROUBLE_TITLES: Record<string, string> = {
  expired: 'a server certificate that has expired',
  'wrong-host': 'a server certificate issued for another host name',
  'untrusted-ca': 'a server certificate from a CA it should not trust',
  'self-signed': 'a self-signed server certificate',
};

const KINDS = {
  'trouble-listener': {
    severity: 'error',
    title: (count, listener) => `sent ${requests(count)} over ${TROUBLE_TITLES[listener] ?? `the "${listener}" trouble listener`} (trouble listener "${listener}")`,
    advice: "A license server verifies the entitlement service's certificate (chain, validity and host name) and refuses the connection before sending anything.",
  },
  'refused-handshake': {
    severity: 'error',
    title: (count, reason) => `${count} TLS ${count === 1 ? 'connection' : 'connections'} refused: ${reason}`,
    advice: 'A license server presents a client certificate issued by the CA the entitlement service trusts, within its validity, on every connection.',
  },
  'cookie-too-long': {
    severity: 'error',
    title: (count) => `sent a customerCookie over ${MAX_COOKIE_LENGTH} characters in ${requests(count)}`,
    advice: `A license server keeps customerCookie to at most ${MAX_COOKIE_LENGTH} characters (or leaves it out).`,
  },
  'invalid-request': {
    severity: 'error',
    title: (count, problem) => `sent ${requests(count)} the protocol forbids: ${problem}`,
    advice: 'A license server POSTs a JSON Entitlement Request with messageID, version 1 and contentID, and optional requestType 1-3 and customerCookie, each of its type.',
  },
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
  'content-type': {
    severity: 'warn',
    title: (count, detail) => `sent ${requests(count)} ${detail}`,
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
} satisfies Record<string, FindingKind>;

type KindName = keyof typeof KINDS;

/** What to do about a refused connection, for the reasons (in the listener's words) that say more than the general advice. */
function refusalAdvice(reason: string): string | null {
  if (reason === 'no certificate') return 'A license server presents its client certificate on every connection to the entitlement service.';
  if (/expired|not yet valid/.test(reason)) return 'A license server presents a client certificate within its validity period, renewed before it expires.';
  if (/CA|self-signed/.test(reason)) return 'A license server presents a client certificate issued by the CA the entitlement service trusts.';
  if (/client authentication/.test(reason)) return 'A license server presents a client certificate whose key usage allows TLS client authentication.';
  if (/not TLS/.test(reason)) return 'A license server speaks HTTPS (TLS 1.2 or 1.3) to the entitlement service.';
  return null;
}

function requests(count: number): string {
  return count === 1 ? '1 request' : `${count} requests`;
}

/** Problems with their own finding, or the same problem in other words. Anything else is grouped by its text up to ", got". */
function problemGroup(problem: string): { kind: KindName; detail: string } {
  if (problem.startsWith('customerCookie: at most')) return { kind: 'cookie-too-long', detail: '' };
  if (problem.startsWith('body is not valid JSON')) return { kind: 'invalid-request', detail: 'body is not valid JSON' };
  if (/^path .* is not the entitlement endpoint$/.test(problem)) return { kind: 'invalid-request', detail: 'POST to another path than the entitlement endpoint' };
  if (/^method \S+ not allowed$/.test(problem)) return { kind: 'invalid-request', detail: 'a method other than POST' };
  return { kind: 'invalid-request', detail: problem.replace(/, got .*$/s, '') };
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
  const evidence = new Map<string, { kind: KindName; detail: string; evidence: Evidence }>();
  const note = (kind: KindName, detail: string, entryId: number) => {
    const id = detail === '' ? kind : `${kind}:${detail}`;
    let found = evidence.get(id);
    if (!found) evidence.set(id, (found = { kind, detail, evidence: new Evidence() }));
    found.evidence.add(entryId);
  };

  const entries = [...input.entries];
  const messageIds = new Set<string>();
  const otherVersions = new Set<string>();
  const unknownFields = new Set<string>();
  for (const entry of entries) {
    if (entry.listener !== 'main') note('trouble-listener', entry.listener, entry.id);
    for (const problem of entry.valid ? [] : entry.problems) {
      const group = problemGroup(problem);
      note(group.kind, group.detail, entry.id);
    }
    const fields = requestFields(entry);
    if (fields === null || entry.method !== 'POST') continue;
    const contentType = entry.headers['content-type'];
    if (contentType === undefined) note('content-type', 'without a Content-Type', entry.id);
    else if (!/^application\/json\s*(;|$)/i.test(String(contentType))) note('content-type', 'with a Content-Type other than application/json', entry.id);
    const { messageID, contentID, version } = fields;
    if (typeof messageID === 'string') {
      if (messageIds.has(messageID)) note('duplicate-message-id', '', entry.id);
      messageIds.add(messageID);
      if (!isGuid(messageID)) note('message-id-not-guid', '', entry.id);
    }
    if (typeof contentID === 'string' && !isGuid(contentID)) note('content-id-not-guid', '', entry.id);
    // A numeric string version is journaled as the number it was taken for, with a warning.
    if (entry.warnings.some((warning) => warning.startsWith(VERSION_AS_STRING))) note('version-as-string', '', entry.id);
    else if (entry.valid && typeof version === 'number' && version !== 1) {
      otherVersions.add(String(version));
      note('version-not-1', '', entry.id);
    }
    let unknown = false;
    for (const field of Object.keys(fields)) {
      if (KNOWN_FIELDS.has(field)) continue;
      unknown = true;
      if (unknownFields.size < 10) unknownFields.add(field);
    }
    if (unknown) note('unknown-fields', '', entry.id);
  }

  const reactions = faultReactions(entries, now, retryWindowMs);
  for (const id of reactions.stormEntries) note('retry-storm', '', id);
  for (const id of reactions.longWaitEntries) note('long-wait', '', id);

  const findings: Finding[] = [];
  for (const [id, { kind, detail, evidence: found }] of evidence) {
    const definition: FindingKind = KINDS[kind];
    const titleDetail = kind === 'version-not-1' ? [...otherVersions].join(', ') : kind === 'unknown-fields' ? [...unknownFields].join(', ') : detail;
    findings.push({ id, severity: definition.severity, title: definition.title(found.count, titleDetail), count: found.count, examples: found.examples, advice: definition.advice });
  }
  let refusedHandshakes = 0;
  for (const [reason, count] of Object.entries(input.refusedHandshakes)) {
    refusedHandshakes += count;
    const definition = KINDS['refused-handshake'];
    findings.push({ id: `refused-handshake:${reason}`, severity: definition.severity, title: definition.title(count, reason), count, examples: [], advice: refusalAdvice(reason) ?? definition.advice });
  }
  findings.sort((a, b) => (a.severity === b.severity ? b.count - a.count : a.severity === 'error' ? -1 : 1));

  return {
    generatedAt: new Date(now).toISOString(),
    requests: entries.length,
    dropped: input.dropped,
    refusedHandshakes,
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

function profileOf(entries: readonly JournalEntry[], now: number, faultReactions: FaultReaction[]): TrafficProfile {
  const connections = new Map<number, { version: string | null; resumed: boolean }>();
  // Arrivals as +1 and ends as -1; an end sorts before an arrival at the same time.
  const events: [time: number, change: 1 | -1][] = [];
  for (const entry of entries) {
    if (entry.tls !== null) connections.set(entry.tls.connection, entry.tls);
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
