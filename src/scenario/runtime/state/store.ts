/**
 * A rule set's per-key state: key → state, set at, expires at. Bounded: past
 * `capacity` keys the one set longest ago is forgotten (counted in `forgotten`).
 * Expiry is lazy: an expired state reads as none and is dropped when read, listed,
 * or when a later setState passes it (every state of a store has the same lifetime,
 * so the oldest entries are the first to expire).
 */

/** Keys holding a state, per rule set (scenario or session); the oldest is forgotten first. */
export const MAX_STATE_KEYS = 100_000;

export interface StateRecord {
  readonly state: string;
  /** Milliseconds since the epoch. */
  readonly setAt: number;
  /** Milliseconds since the epoch, or null without stateTtl. */
  readonly expiresAt: number | null;
}

export class StateStore {
  private readonly records = new Map<string, StateRecord>();
  /** Keys dropped at the capacity since the store was created or cleared. */
  forgotten = 0;

  constructor(
    readonly ttlMs: number | null,
    readonly capacity: number = MAX_STATE_KEYS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The key's state, or null when it has none (or it expired). */
  get(key: string): string | null {
    const record = this.records.get(key);
    if (record === undefined) return null;
    if (record.expiresAt !== null && record.expiresAt <= this.clock()) {
      this.records.delete(key);
      return null;
    }
    return record.state;
  }

  set(key: string, state: string): void {
    const now = this.clock();
    this.records.delete(key); // re-inserted last: the Map's order is the order of setting
    this.records.set(key, { state, setAt: now, expiresAt: this.ttlMs === null ? null : now + this.ttlMs });
    for (const [oldest, record] of this.records) {
      if (record.expiresAt !== null && record.expiresAt <= now) this.records.delete(oldest);
      else if (this.records.size > this.capacity) {
        this.records.delete(oldest);
        this.forgotten++;
      } else break;
    }
  }

  delete(key: string): void {
    this.records.delete(key);
  }

  /** Forget every state and the forgotten count; returns how many keys held a state. */
  clear(): number {
    const size = this.records.size;
    this.records.clear();
    this.forgotten = 0;
    return size;
  }

  /** Keys holding a state (expired ones may still be counted until they are passed). */
  get size(): number {
    return this.records.size;
  }

  /** Live states, oldest first; expired ones are dropped on the way. */
  *entries(): Generator<[string, StateRecord]> {
    const now = this.clock();
    for (const [key, record] of this.records) {
      if (record.expiresAt !== null && record.expiresAt <= now) this.records.delete(key);
      else yield [key, record];
    }
  }
}
