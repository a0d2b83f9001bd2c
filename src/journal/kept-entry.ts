/**
 * How the journal keeps an entry for its 10,000 requests: flat, and without what it can rebuild.
 *
 * Every kept entry outlives many young-generation collections, so each of its objects is copied
 * twice and then marked by every full collection for as long as it is kept: the entry as built
 * on the request path held ~17 objects (~1,200 bytes). Kept, it is one object plus the strings
 * and the headers object the request brought (bench/README.md has the bytes before and after):
 * - the parsed `request` is not kept when it is what parseEntitlementRequest makes of `rawBody`
 *   (pure, so parsing again gives the same value, numeric-string version and all);
 * - the response body is kept as the JSON text that was sent, parsed again when read;
 * - the fields that are the same for a connection's requests (address, listener, client, TLS) are
 *   one object its entries share; `response` is flattened into fields; the fields most entries
 *   leave empty (session, step, state, near misses, upstream) are one object, or none; empty
 *   problem/warning lists are one shared list.
 *
 * Whoever reads the journal gets a plain JournalEntry (toEntry), the same shape as before, so
 * the admin API, waits, the live feed, federation and IPC see no difference.
 */
import { parseEntitlementRequest } from '../protocol/validate.js';
import type { ConnectionTls, JournalEntry, ListenerName, NewJournalEntry } from './entry.js';

/** What the appender knows the journal can rebuild or share instead of keeping (other appenders keep everything). */
export interface Rebuildable {
  /** `request` is parseEntitlementRequest(rawBody).request. */
  requestFromRawBody: boolean;
  /** `response.body` is JSON.parse of this text (the body as sent), or null to keep the body itself. */
  responseBodyText: string | null;
  /** The entry's connection fields as one object its connection's entries share (entryOrigin), if the appender has one. */
  origin?: EntryOrigin;
}

/** The fields of an entry that are the same for every request of a connection. */
export interface EntryOrigin {
  readonly remote: string;
  readonly listener: ListenerName;
  readonly clientCN: string | null;
  readonly clientFingerprint: string | null;
  readonly clientAuthorized: boolean;
  readonly tls: ConnectionTls | null;
}

export function entryOrigin(fields: EntryOrigin): EntryOrigin {
  const { remote, listener, clientCN, clientFingerprint, clientAuthorized, tls } = fields;
  return Object.freeze({ remote, listener, clientCN, clientFingerprint, clientAuthorized, tls });
}

/** The fields most entries leave empty, kept together (and not at all when all are empty). */
interface Rare {
  readonly session: string | null;
  readonly step: number | null;
  readonly state: JournalEntry['state'];
  readonly nearMisses: JournalEntry['nearMisses'];
  readonly upstream: JournalEntry['upstream'];
  readonly replica: string | undefined;
}

/** Stands for `request` in a kept entry that parses its raw body again when read. */
const FROM_RAW_BODY = Symbol('request parsed from rawBody');

/** The empty list kept entries share. */
const NONE = Object.freeze([]) as unknown as string[];

export class KeptEntry {
  readonly time: string;
  private readonly origin: EntryOrigin;
  readonly method: string;
  readonly path: string;
  readonly headers: JournalEntry['headers'];
  /** Filled in when the exchange ends. */
  durationMs: number | null;
  private readonly keptRequest: unknown;
  readonly rawBody: string | null;
  readonly valid: boolean;
  readonly problems: string[];
  readonly warnings: string[];
  readonly scenario: string | null;
  readonly rule: string | null;
  readonly status: number | null;
  /** The response body itself, unless bodyText holds it as JSON text. */
  private readonly body: unknown;
  private readonly bodyText: string | null;
  readonly fault: string | null;
  readonly delayMs: number;
  private readonly rare: Rare | null;

  constructor(
    readonly id: number,
    entry: NewJournalEntry,
    rebuild: Rebuildable | null,
  ) {
    this.time = entry.time;
    this.origin = rebuild?.origin ?? entryOrigin(entry);
    this.method = entry.method;
    this.path = entry.path;
    this.headers = entry.headers;
    this.durationMs = entry.durationMs;
    this.keptRequest = rebuild !== null && rebuild.requestFromRawBody && entry.rawBody !== null ? FROM_RAW_BODY : entry.request;
    this.rawBody = entry.rawBody;
    this.valid = entry.valid;
    this.problems = entry.problems.length === 0 ? NONE : entry.problems;
    this.warnings = entry.warnings.length === 0 ? NONE : entry.warnings;
    this.scenario = entry.scenario;
    this.rule = entry.rule;
    const response = entry.response;
    this.status = response.status;
    this.bodyText = rebuild === null ? null : rebuild.responseBodyText;
    this.body = this.bodyText === null ? response.body : null;
    this.fault = response.fault;
    this.delayMs = response.delayMs;
    const { session, step, state, nearMisses, upstream, replica } = entry;
    this.rare =
      session === null && step === null && state === null && nearMisses === undefined && upstream === undefined && replica === undefined
        ? null
        : { session, step, state, nearMisses, upstream, replica };
  }

  get listener(): ListenerName {
    return this.origin.listener;
  }

  get clientCN(): string | null {
    return this.origin.clientCN;
  }

  get session(): string | null {
    return this.rare === null ? null : this.rare.session;
  }

  get upstream(): JournalEntry['upstream'] {
    return this.rare === null ? undefined : this.rare.upstream;
  }

  /** The parsed request, as the entry shows it. */
  request(): unknown {
    return this.keptRequest === FROM_RAW_BODY ? parseEntitlementRequest(this.rawBody as string).request : this.keptRequest;
  }

  /** The entry as the journal shows it, its keys in the order the request path fills them in. */
  toEntry(): JournalEntry {
    const { origin, rare } = this;
    const entry: NewJournalEntry = {
      time: this.time,
      remote: origin.remote,
      listener: origin.listener,
      clientCN: origin.clientCN,
      clientFingerprint: origin.clientFingerprint,
      clientAuthorized: origin.clientAuthorized,
      tls: origin.tls,
      method: this.method,
      path: this.path,
      headers: this.headers,
      durationMs: this.durationMs,
      request: this.request(),
      rawBody: this.rawBody,
      valid: this.valid,
      problems: this.problems,
      warnings: this.warnings,
      session: rare === null ? null : rare.session,
      scenario: this.scenario,
      rule: this.rule,
      step: rare === null ? null : rare.step,
      state: rare === null ? null : rare.state,
      response: { status: this.status, body: this.bodyText === null ? this.body : JSON.parse(this.bodyText), fault: this.fault, delayMs: this.delayMs },
    };
    if (rare !== null) {
      if (rare.nearMisses !== undefined) entry.nearMisses = rare.nearMisses;
      if (rare.upstream !== undefined) entry.upstream = rare.upstream;
      if (rare.replica !== undefined) entry.replica = rare.replica;
    }
    (entry as JournalEntry).id = this.id;
    return entry as JournalEntry;
  }
}
