/**
 * The messageIDs seen since the last reset, for the "messageID already seen"
 * warning. Bounded: past `capacity` the oldest are forgotten (documented in docs/protocol.md).
 *
 * Each id is kept as a 64-bit hash in typed arrays — an open-addressing table (linear probing,
 * deletion by backward shift, so no tombstones pile up) and a ring of insertion order to evict
 * the oldest — rather than as strings in a Set. The Set held 100,000 strings (~9 MB) that every
 * full garbage collection had to walk, and its inserts and deletes cost ~0.7 µs per request;
 * typed arrays hold no references and are never walked (bench/README.md). Two different ids
 * collide on all 64 bits with a probability of about 10⁻¹⁴ per lookup.
 */
export class SeenMessageIds {
  /** Pairs (high, low) of 32 bits; (0, 0) marks an empty slot. */
  private readonly table: Uint32Array;
  private readonly mask: number;
  /** Insertion order, as the same pairs; `next` is where the next id goes, and (once full) the oldest. */
  private readonly order: Uint32Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    let slots = 4;
    while (slots < capacity * 2) slots *= 2; // at most half full: short probe runs
    this.table = new Uint32Array(slots * 2);
    this.mask = slots - 1;
    this.order = new Uint32Array(capacity * 2);
  }

  /** Records the id; true when it had been seen before. */
  checkAndRecord(messageID: string): boolean {
    let high = 0x811c9dc5;
    let low = 0x01000193 ^ messageID.length;
    for (let i = 0; i < messageID.length; i++) {
      const unit = messageID.charCodeAt(i);
      high = Math.imul(high ^ unit, 0x01000193); // FNV-1a
      low = Math.imul(low ^ unit, 0x5bd1e995); // a second, independent multiplier (MurmurHash2's)
      low ^= low >>> 15;
    }
    high >>>= 0;
    low >>>= 0;
    if (high === 0 && low === 0) low = 1;
    if (this.find(high, low) >= 0) return true;

    if (this.size === this.capacity) {
      this.remove(this.order[this.next * 2]!, this.order[this.next * 2 + 1]!);
      this.size--;
    }
    this.insert(high, low);
    this.size++;
    this.order[this.next * 2] = high;
    this.order[this.next * 2 + 1] = low;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    return false;
  }

  clear(): void {
    this.table.fill(0);
    this.order.fill(0);
    this.next = 0;
    this.size = 0;
  }

  /** The slot holding the key, or -1. */
  private find(high: number, low: number): number {
    const table = this.table;
    for (let slot = high & this.mask; ; slot = (slot + 1) & this.mask) {
      const h = table[slot * 2]!;
      const l = table[slot * 2 + 1]!;
      if (h === 0 && l === 0) return -1;
      if (h === high && l === low) return slot;
    }
  }

  private insert(high: number, low: number): void {
    const table = this.table;
    let slot = high & this.mask;
    while (table[slot * 2] !== 0 || table[slot * 2 + 1] !== 0) slot = (slot + 1) & this.mask;
    table[slot * 2] = high;
    table[slot * 2 + 1] = low;
  }

  /** Deletes by backward shift: later keys of the probe run move up, so every key stays reachable from its home slot. */
  private remove(high: number, low: number): void {
    const table = this.table;
    let hole = this.find(high, low);
    if (hole < 0) return;
    for (let slot = (hole + 1) & this.mask; ; slot = (slot + 1) & this.mask) {
      const h = table[slot * 2]!;
      const l = table[slot * 2 + 1]!;
      if (h === 0 && l === 0) break;
      const home = h & this.mask;
      // A key may fill the hole unless its home lies cyclically in (hole, slot].
      const homeBetween = hole <= slot ? hole < home && home <= slot : hole < home || home <= slot;
      if (homeBetween) continue;
      table[hole * 2] = h;
      table[hole * 2 + 1] = l;
      hole = slot;
    }
    table[hole * 2] = 0;
    table[hole * 2 + 1] = 0;
  }
}
