/**
 * Finds the item whose key matches a value without trying every key: exact keys in a Map, globs
 * bucketed by their literal start (the characters before the first `*` or `?`). A lookup costs
 * one Map probe plus one per distinct literal-start length in use (a handful in practice, e.g.
 * every `test-<n>-*` glob shares one), then the globs of the buckets it lands in.
 */
import type { CompiledKey } from './key.js';

interface Keyed<T> {
  readonly key: CompiledKey;
  readonly item: T;
}

export class KeyIndex<T> {
  private readonly exact = new Map<string, T>();
  private readonly byStart = new Map<string, Keyed<T>[]>();
  /** How many globs have a literal start of each length. */
  private readonly startLengths = new Map<number, number>();
  /** The keys of startLengths, ascending. */
  private lengths: number[] = [];

  add(key: CompiledKey, item: T): void {
    if (!key.glob) {
      this.exact.set(key.pattern, item);
      return;
    }
    const start = literalStart(key.pattern);
    const bucket = this.byStart.get(start);
    if (bucket === undefined) this.byStart.set(start, [{ key, item }]);
    else bucket.push({ key, item });
    this.countLength(start.length, +1);
  }

  remove(key: CompiledKey, item: T): void {
    if (!key.glob) {
      if (this.exact.get(key.pattern) === item) this.exact.delete(key.pattern);
      return;
    }
    const start = literalStart(key.pattern);
    const bucket = this.byStart.get(start);
    const at = bucket?.findIndex((keyed) => keyed.item === item) ?? -1;
    if (bucket === undefined || at < 0) return;
    bucket.splice(at, 1);
    if (bucket.length === 0) this.byStart.delete(start);
    this.countLength(start.length, -1);
  }

  /** The first item whose key matches the value (keys that cannot overlap give at most one). */
  find(value: string): T | null {
    const exact = this.exact.get(value);
    if (exact !== undefined) return exact;
    for (const length of this.lengths) {
      if (length > value.length) break;
      const bucket = this.byStart.get(length === value.length ? value : value.slice(0, length));
      if (bucket === undefined) continue;
      for (const { key, item } of bucket) if (key.matcher.test(value)) return item;
    }
    return null;
  }

  private countLength(length: number, change: number): void {
    const count = (this.startLengths.get(length) ?? 0) + change;
    if (count > 0) this.startLengths.set(length, count);
    else this.startLengths.delete(length);
    this.lengths = [...this.startLengths.keys()].sort((a, b) => a - b);
  }
}

/** The characters of a glob before its first `*` or `?`. */
function literalStart(glob: string): string {
  const first = glob.search(/[*?]/);
  return first < 0 ? glob : glob.slice(0, first);
}
