/**
 * From a value path (`['rules', 2, 'respond', 'delay']`) to a line and column in
 * the YAML source, and to the `rules[2].respond.delay` spelling used in messages.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { PositionedError } from './loaded.js';

export type ValuePath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

/** `rules[2].respond.delay`, `respond.headers["Retry-After"]`; the empty path is `(scenario)`. */
export function formatPath(path: ValuePath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text === '' ? '(scenario)' : text;
}

/** Positions of the nodes of one parsed YAML document. */
export class SourcePositions {
  constructor(
    private readonly file: string,
    private readonly document: Document.Parsed | null,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Line and column (1-based) of a source offset. */
  ofOffset(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /**
   * Where the value at `path` is written; with `key: true`, where its key is
   * (for "unknown key" and "duplicate" messages). A path that cannot be followed
   * to the end (a key brought in by a `<<` merge, say) points at the deepest node found.
   */
  of(path: ValuePath, options: { key?: boolean } = {}): Position {
    const found = this.locate(path);
    if (!found) return { line: 1, column: 1 };
    const { node, pair, complete } = found;
    if (options.key && complete && pair && isNodeWithRange(pair.key)) return this.ofOffset(pair.key.range[0]);
    if (node && node.range && !(isEmptyScalar(node) && pair && isNodeWithRange(pair.key))) return this.ofOffset(node.range[0]);
    if (pair && isNodeWithRange(pair.key)) return this.ofOffset(pair.key.range[0]);
    return { line: 1, column: 1 };
  }

  /** A positioned error for the value at `path`, its message prefixed with the path. */
  error(path: ValuePath, message: string, options: { key?: boolean } = {}): PositionedError {
    return { file: this.file, ...this.of(path, options), message: `${formatPath(path)}: ${message}` };
  }

  /** The node at `path` (or the deepest one found), the pair that holds it, and whether the whole path was followed. */
  private locate(path: ValuePath): { node: Node | null; pair: Pair | null; complete: boolean } | null {
    const document = this.document;
    if (!document) return null;
    let node: unknown = document.contents;
    let pair: Pair | null = null;
    for (const segment of path) {
      const current = this.resolve(node);
      let next: { node: unknown; pair: Pair | null } | null = null;
      if (isMap(current)) {
        const found = this.findPair(current.items, String(segment), 0);
        if (found) next = { node: found.value, pair: found };
      } else if (isSeq(current) && typeof segment === 'number') {
        if (segment < current.items.length) next = { node: current.items[segment], pair: null };
      }
      if (!next) return { node: isNodeWithRange(current) ? current : null, pair, complete: false };
      node = next.node;
      pair = next.pair;
    }
    const last = this.resolveForPosition(node);
    return { node: last, pair, complete: true };
  }

  private findPair(items: readonly unknown[], key: string, depth: number): Pair | null {
    let merged: Pair | null = null;
    for (const item of items) {
      if (!isPair(item)) continue;
      const itemKey = isScalar(item.key) ? String(item.key.value) : String(item.key);
      if (itemKey === key) return item;
      if (itemKey === '<<' && depth < 8 && !merged) {
        const source = this.resolve(item.value);
        const sources = isSeq(source) ? source.items.map((entry) => this.resolve(entry)) : [source];
        for (const map of sources) if (isMap(map)) merged ??= this.findPair(map.items, key, depth + 1);
      }
    }
    return merged;
  }

  /** Follow an alias to its anchored node (for walking into it). */
  private resolve(node: unknown): unknown {
    if (isAlias(node) && this.document) return node.resolve(this.document) ?? node;
    return node;
  }

  /** For the final position keep the alias itself: that is where the value is written in this place. */
  private resolveForPosition(node: unknown): Node | null {
    return isNodeWithRange(node) ? (node as Node) : null;
  }
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as { range?: unknown }).range);
}

function isEmptyScalar(node: Node): boolean {
  return isScalar(node) && node.value === null && node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
}
