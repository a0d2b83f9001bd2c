/** A fixed-capacity ring of the newest items, counting what it pushed out. O(1) push, no copies. */
export class BoundedRing<T> {
  private readonly slots: (T | undefined)[];
  /** Index in `slots` of the oldest item. */
  private start = 0;
  private size = 0;
  private pushedCount = 0;
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be a positive integer');
    this.slots = new Array(capacity);
  }

  push(item: T): void {
    this.pushedCount++;
    if (this.size < this.capacity) {
      this.slots[(this.start + this.size) % this.capacity] = item;
      this.size++;
    } else {
      this.slots[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
      this.droppedCount++;
    }
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.size = 0;
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

  /** Kept items, oldest first. */
  *values(): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.slots[(this.start + i) % this.capacity] as T;
  }
}
