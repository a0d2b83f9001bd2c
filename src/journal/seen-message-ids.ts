/**
 * The messageIDs seen since the last reset, for the "messageID already seen"
 * warning. Bounded: past `capacity` the oldest are forgotten (documented in the README).
 *
 * The oldest id is found in a ring of insertion order, not by iterating the Set: a
 * Set's iterator walks over the holes its deletions leave until the next rehash, which
 * made each eviction cost up to ~45 µs once the bound was reached (bench/README.md).
 */
export class SeenMessageIds {
  private readonly seen = new Set<string>();
  /** Insertion order; `next` is where the next id goes, and (once full) the oldest id. */
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.order = new Array(capacity);
  }

  /** Records the id; true when it had been seen before. */
  checkAndRecord(messageID: string): boolean {
    if (this.seen.has(messageID)) return true;
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.seen.delete(oldest);
    this.order[this.next] = messageID;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    this.seen.add(messageID);
    return false;
  }

  clear(): void {
    this.seen.clear();
    this.order.fill(undefined);
    this.next = 0;
  }
}
