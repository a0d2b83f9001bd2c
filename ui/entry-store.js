// @ts-check
/**
 * The journal entries the page holds: the newest STORE_LIMIT, by id, with the
 * counts the panels show (hits per rule, invalid, unmatched) since the last clear.
 */

/** As many entries as the default --journal-size: a full journal fits. */
export const STORE_LIMIT = 10_000;

/** @typedef {import('./api-types.js').JournalEntry} JournalEntry */

export class EntryStore {
  /** @type {JournalEntry[]} oldest first */
  entries = [];
  /** @type {Map<number, JournalEntry>} */
  byId = new Map();
  /** The largest entry id received (survives clears: the journal's ids keep growing). */
  lastId = 0;
  /** Entries received since the last clear (kept or not). */
  received = 0;
  /** @type {Map<string, number>} hits per `scenario \0 rule`, plus `scenario \0 (unmatched)` and `(invalid)` */
  hits = new Map();
  /** @type {Set<number>} entries whose exchange was still going when they arrived */
  unfinished = new Set();

  /**
   * Store an entry; false when it was already held (a replay after a reconnect): then it is updated in place.
   * @param {JournalEntry} entry
   */
  add(entry) {
    const held = this.byId.get(entry.id);
    if (held) {
      Object.assign(held, entry);
      if (held.durationMs !== null) this.unfinished.delete(held.id);
      return false;
    }
    this.entries.push(entry);
    this.byId.set(entry.id, entry);
    if (entry.id > this.lastId) this.lastId = entry.id;
    if (entry.durationMs === null) this.unfinished.add(entry.id);
    this.received++;
    const key = hitKey(entry);
    this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
    // Trim in chunks, not one shift per entry.
    if (this.entries.length > STORE_LIMIT + 500) {
      for (const dropped of this.entries.splice(0, this.entries.length - STORE_LIMIT)) {
        this.byId.delete(dropped.id);
        this.unfinished.delete(dropped.id);
      }
    }
    return true;
  }

  /**
   * The exchange of an entry ended; returns the entry when held.
   * @param {number} id
   * @param {number | null} durationMs
   */
  ended(id, durationMs) {
    this.unfinished.delete(id);
    const entry = this.byId.get(id);
    if (entry) entry.durationMs = durationMs;
    return entry;
  }

  clear() {
    this.entries = [];
    this.byId.clear();
    this.unfinished.clear();
    this.hits.clear();
    this.received = 0;
  }

  /** Forget everything, ids included (the mock restarted: its ids start again from 1). */
  forget() {
    this.clear();
    this.lastId = 0;
  }

  /**
   * Where a reconnect resumes: after the last entry, or before the oldest one
   * still running, so its duration (an `ended` event missed while away) comes again.
   * null before anything arrived (a first load).
   */
  resumeFrom() {
    if (this.lastId === 0) return null;
    let from = this.lastId;
    for (const id of this.unfinished) if (id - 1 < from) from = id - 1;
    return from;
  }

  /**
   * Hits of a rule (or `(unmatched)`, `(invalid)`) of a scenario.
   * @param {string} scenario
   * @param {string} rule
   */
  hitsOf(scenario, rule) {
    return this.hits.get(`${scenario}\u0000${rule}`) ?? 0;
  }

  /**
   * Newest first, the entries `accept` takes, at most `limit`.
   * @param {(entry: JournalEntry) => boolean} accept
   * @param {number} limit
   */
  newest(accept, limit) {
    /** @type {JournalEntry[]} */
    const found = [];
    for (let index = this.entries.length - 1; index >= 0 && found.length < limit; index--) {
      const entry = this.entries[index];
      if (entry && accept(entry)) found.push(entry);
    }
    return found;
  }
}

/** @param {JournalEntry} entry */
function hitKey(entry) {
  const rule = !entry.valid ? '(invalid)' : entry.upstream ? '(recorded)' : entry.rule ?? '(unmatched)';
  return `${entry.scenario ?? ''}\u0000${rule}`;
}

/**
 * A valid request no rule answered (in record mode the upstream answers: not unmatched).
 * @param {JournalEntry} entry
 */
export function isUnmatched(entry) {
  return entry.valid && entry.rule === null && !entry.upstream;
}

/**
 * A field of the Entitlement Request as sent, or undefined.
 * @param {JournalEntry} entry
 * @param {string} field
 * @returns {unknown}
 */
export function requestField(entry, field) {
  const request = entry.request;
  return request !== null && typeof request === 'object' ? /** @type {Record<string, unknown>} */ (request)[field] : undefined;
}

/**
 * A request value as the list shows it: strings as they are, anything else as JSON, absent as empty.
 * @param {unknown} value
 */
export function asText(value) {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
