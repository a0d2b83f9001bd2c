/**
 * The messageIDs seen since the last reset, for the "messageID already seen"
 * warning. Bounded: past `capacity` the oldest are forgotten (documented in the README).
 */
export class SeenMessageIds {
  private readonly seen = new Set<string>();

  constructor(readonly capacity: number) {}

  /** Records the id; true when it had been seen before. */
  checkAndRecord(messageID: string): boolean {
    if (this.seen.has(messageID)) return true;
    if (this.seen.size >= this.capacity) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    this.seen.add(messageID);
    return false;
  }

  clear(): void {
    this.seen.clear();
  }
}
