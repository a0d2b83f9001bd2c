/**
 * The counters of a `perKey:` rule: how many times it answered each key value.
 * Bounded: past `capacity` keys the one counted longest ago is forgotten (its next
 * request starts from the first step again), counted in `forgotten`. Requests without
 * the key share one count of their own.
 */

/** Keys counted per perKey rule; the one counted longest ago is forgotten first. */
export const MAX_PER_KEY_COUNTS = 100_000;

export class KeyedCounts {
  private readonly counts = new Map<string, number>();
  private keyless = 0;
  /** Keys dropped at the capacity since creation or the last reset. */
  forgotten = 0;

  constructor(readonly capacity: number = MAX_PER_KEY_COUNTS) {}

  get(key: string | null): number {
    return key === null ? this.keyless : (this.counts.get(key) ?? 0);
  }

  set(key: string | null, count: number): void {
    if (key === null) {
      this.keyless = count;
      return;
    }
    this.counts.delete(key); // re-inserted last: the Map's order is the order of counting
    this.counts.set(key, count);
    if (this.counts.size > this.capacity) {
      for (const oldest of this.counts.keys()) {
        this.counts.delete(oldest);
        this.forgotten++;
        break;
      }
    }
  }

  reset(): void {
    this.counts.clear();
    this.keyless = 0;
    this.forgotten = 0;
  }

  /** Key values counted (requests without the key not included). */
  get size(): number {
    return this.counts.size;
  }
}
