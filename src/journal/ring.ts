/**
 * A ring of the newest items, bounded by a count and optionally by a total
 * weight (an estimate of bytes), counting what it pushed out. O(1) per push
 * (amortised over what it evicts), no copies.
 */
export class BoundedRing<T> {
  private readonly slots: (T | undefined)[];
  private readonly weights: Float64Array;
  /** Index in `slots` of the oldest item. */
  private start = 0;
  private size = 0;
  private weightHeld = 0;
  private pushedCount = 0;
  private droppedCount = 0;

  constructor(
    readonly capacity: number,
    /** Oldest items are dropped while the weights held would exceed this. */
    readonly weightBudget = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be a positive integer');
    this.slots = new Array(capacity);
    this.weights = new Float64Array(capacity);
  }

  push(item: T, weight = 0): void {
    this.pushedCount++;
    // The newest item is always kept, however heavy.
    while (this.size > 0 && (this.size === this.capacity || this.weightHeld + weight > this.weightBudget)) this.dropOldest();
    const slot = (this.start + this.size) % this.capacity;
    this.slots[slot] = item;
    this.weights[slot] = weight;
    this.weightHeld += weight;
    this.size++;
  }

  private dropOldest(): void {
    this.weightHeld -= this.weights[this.start] as number;
    this.slots[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.size--;
    this.droppedCount++;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.size = 0;
    this.weightHeld = 0;
    this.pushedCount = 0;
    this.droppedCount = 0;
  }

  /** Items pushed since the last clear, kept or dropped. */
  get total(): number {
    return this.pushedCount;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get length(): number {
    return this.size;
  }

  /** The sum of the weights of the kept items. */
  get weight(): number {
    return this.weightHeld;
  }

  /** Kept items, oldest first. */
  *values(): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.slots[(this.start + i) % this.capacity] as T;
  }
}
