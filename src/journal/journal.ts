/**
 * The bounded request journal: a ring of the newest entries, with a count of
 * what it dropped. Appending is O(1); entries are kept lean (kept-entry.ts) and
 * read back as plain JournalEntry objects.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { JournalEntry, NewJournalEntry } from './entry.js';
import { KeptEntry, type Rebuildable } from './kept-entry.js';
import { BoundedRing } from './ring.js';

const exact = (description: string) => Type.Optional(Type.String({ description }));

/**
 * Which entries a query wants: every field is optional; an entry must match all that are given.
 * Strings compare exactly. Also the filter part of GET /admin/requests and /count.
 */
export const JournalFilter = Type.Object(
  {
    rule: exact('Name of the rule that answered'),
    contentID: exact("The request's contentID"),
    clientCN: exact('Common name of the client certificate'),
    customerCookie: exact("The request's customerCookie"),
    messageID: exact("The request's messageID"),
    requestType: exact("The request's requestType, compared by its string form (`2` matches 2)"),
    scenario: exact('The scenario whose rules were asked (see JournalEntry.scenario)'),
    session: exact('The session the request belonged to'),
    listener: exact("`main` or a trouble listener's name"),
    valid: Type.Optional(Type.Boolean({ description: 'Whether the request passed validation' })),
    unmatched: Type.Optional(Type.Boolean({ description: 'Valid requests no rule matched (never those forwarded in record mode)' })),
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'Entries with an id larger than this' })),
    limit: Type.Optional(Type.Integer({ minimum: 0, description: 'Only the newest N of the matching entries' })),
  },
  { additionalProperties: false },
);
export type JournalFilter = Static<typeof JournalFilter>;

/**
 * What the journal may hold in all, estimated from what each request brought
 * (see entryWeight): past it the oldest entries go, as past --journal-size.
 * A well-formed request weighs ~2 KiB, so the count limit rules in practice;
 * this only stops 10,000 deliberately huge requests from taking gigabytes.
 */
export const JOURNAL_BYTE_BUDGET = 256 * 1024 * 1024;

/** Fixed cost of an entry (its object, the parsed headers, the answer) before what the request brought. */
const ENTRY_OVERHEAD_BYTES = 1024;

/**
 * An estimate of an entry's memory from what the request brought: its body
 * (kept as text, once, and parsed, which takes a few times its text) and its headers.
 */
export function entryWeight(bodyChars: number, rawHeaders: readonly string[]): number {
  let headerChars = 0;
  for (const part of rawHeaders) headerChars += part.length;
  return ENTRY_OVERHEAD_BYTES + 5 * bodyChars + 2 * headerChars;
}

/** Told about the journal as it changes (the dashboard's live feed, waits). */
export interface JournalListener {
  /** Synchronously after an entry is stored. */
  appended?(entry: JournalEntry): void;
  /** After clear() (DELETE /admin/requests, POST /admin/reset). */
  cleared?(): void;
}

export class Journal {
  private readonly ring: BoundedRing<KeptEntry>;
  private nextId = 1;
  /** Empty (and never iterated) unless someone subscribed: the request path pays one length check. */
  private listeners: JournalListener[] = [];

  constructor(
    capacity: number,
    byteBudget = JOURNAL_BYTE_BUDGET,
    /** Where ids come from when several journals answer as one (cluster/entry-ids.ts); default 1, 2, 3, … */
    private readonly ids: (() => number) | null = null,
  ) {
    this.ring = new BoundedRing(capacity, byteBudget);
  }

  /**
   * Records an entry; `weight` estimates its memory in bytes (entryWeight), `rebuild` says what
   * need not be kept (the request path knows). Gives `entry` its id (listeners get it as it is)
   * and returns what the journal keeps, whose durationMs the appender fills in when the exchange ends.
   */
  append(entry: NewJournalEntry, weight = ENTRY_OVERHEAD_BYTES, rebuild: Rebuildable | null = null): KeptEntry {
    const stored = entry as JournalEntry;
    stored.id = this.ids === null ? this.nextId++ : this.ids();
    const kept = new KeptEntry(stored.id, entry, rebuild);
    this.ring.push(kept, weight);
    if (this.listeners.length > 0) for (const listener of this.listeners) listener.appended?.(stored);
    return kept;
  }

  /** Listen to appends and clears; returns the function that stops listening. */
  subscribe(listener: JournalListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((each) => each !== listener);
    };
  }

  /** How many listeners are subscribed (for tests and leak checks). */
  get listenerCount(): number {
    return this.listeners.length;
  }

  /** Estimated bytes held (see entryWeight). */
  get bytes(): number {
    return this.ring.weight;
  }

  /** Forget every entry and the counts. Ids keep growing so `since` stays meaningful across clears. */
  clear(): void {
    this.ring.clear();
    for (const listener of this.listeners) listener.cleared?.();
  }

  /** Requests recorded since the last clear, kept or dropped. */
  get total(): number {
    return this.ring.total;
  }

  get dropped(): number {
    return this.ring.dropped;
  }

  get length(): number {
    return this.ring.length;
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  /** Kept entries, oldest first (each read builds a fresh JournalEntry). */
  *entries(): IterableIterator<JournalEntry> {
    for (const kept of this.ring.values()) yield kept.toEntry();
  }

  query(filter: JournalFilter): JournalEntry[] {
    const matching: KeptEntry[] = [];
    for (const kept of this.ring.values()) if (keptMatches(kept, filter)) matching.push(kept);
    const newest = filter.limit !== undefined && matching.length > filter.limit ? matching.slice(matching.length - filter.limit) : matching;
    return newest.map((kept) => kept.toEntry());
  }

  /** The ids of the entries a filter matches, oldest first (its limit ignored). */
  matchingIds(filter: JournalFilter): number[] {
    const { limit: _limit, ...matching } = filter;
    const ids: number[] = [];
    for (const kept of this.ring.values()) if (keptMatches(kept, matching)) ids.push(kept.id);
    return ids;
  }

  count(filter: JournalFilter): number {
    let count = 0;
    for (const kept of this.ring.values()) if (keptMatches(kept, filter)) count++;
    return filter.limit !== undefined ? Math.min(count, filter.limit) : count;
  }
}

/** The fields a filter looks at, which kept entries and JournalEntry objects both have (the request aside). */
type Filterable = Pick<JournalEntry, 'id' | 'rule' | 'clientCN' | 'listener' | 'valid' | 'upstream' | 'scenario' | 'session'>;

function requestField(request: unknown, field: string): unknown {
  return request !== null && typeof request === 'object' ? (request as Record<string, unknown>)[field] : undefined;
}

/** A request field against a filter value: equal, or equal string forms for a number or boolean. */
function requestFieldIs(request: unknown, field: string, wanted: string): boolean {
  const value = requestField(request, field);
  return value === wanted || ((typeof value === 'number' || typeof value === 'boolean') && String(value) === wanted);
}

export function entryMatches(entry: JournalEntry, filter: JournalFilter): boolean {
  return matches(entry, entry.request, filter);
}

/** A kept entry against a filter: its request is parsed again only for a filter on a request field. */
function keptMatches(kept: KeptEntry, filter: JournalFilter): boolean {
  const onRequest = filter.contentID !== undefined || filter.customerCookie !== undefined || filter.messageID !== undefined || filter.requestType !== undefined;
  return matches(kept, onRequest ? kept.request() : null, filter);
}

function matches(entry: Filterable, request: unknown, filter: JournalFilter): boolean {
  if (filter.since !== undefined && entry.id <= filter.since) return false;
  if (filter.rule !== undefined && entry.rule !== filter.rule) return false;
  if (filter.clientCN !== undefined && entry.clientCN !== filter.clientCN) return false;
  if (filter.listener !== undefined && entry.listener !== filter.listener) return false;
  if (filter.valid !== undefined && entry.valid !== filter.valid) return false;
  // In record mode no rule is asked (the upstream answers), so nothing there is unmatched.
  if (filter.unmatched !== undefined && (entry.valid && entry.rule === null && entry.upstream === undefined) !== filter.unmatched) return false;
  if (filter.scenario !== undefined && entry.scenario !== filter.scenario) return false;
  if (filter.session !== undefined && entry.session !== filter.session) return false;
  if (filter.contentID !== undefined && !requestFieldIs(request, 'contentID', filter.contentID)) return false;
  if (filter.customerCookie !== undefined && !requestFieldIs(request, 'customerCookie', filter.customerCookie)) return false;
  if (filter.messageID !== undefined && !requestFieldIs(request, 'messageID', filter.messageID)) return false;
  if (filter.requestType !== undefined && !requestFieldIs(request, 'requestType', filter.requestType)) return false;
  return true;
}
