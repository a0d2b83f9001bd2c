/**
 * Session keys: which requests belong to a session. A key names one request field and an exact
 * value or a glob, compiled by the scenario matcher compiler (the same glob semantics as a rule's
 * `match:`).
 *
 * Overlap (refused, so that a request belongs to at most one session):
 * - keys on different fields overlap: one request can carry both a contentID and a clientCN
 *   (every request does), so sessions alive at the same time all key on the same field;
 * - keys on the same field overlap when some value matches both: two exact values when equal,
 *   an exact value and a glob when the glob matches the value, two globs when the languages they
 *   match intersect (decided exactly, see globsIntersect).
 */
import type { ClientIdentity } from '../protocol/types.js';
import { compileMatcher, isGlob, type CompiledMatcher } from '../scenario/runtime/matchers.js';
import { SESSION_KEY_FIELDS, type SessionKey, type SessionKeyField } from './format.js';

export interface CompiledKey {
  readonly field: SessionKeyField;
  /** The value or glob as written. */
  readonly pattern: string;
  readonly glob: boolean;
  readonly matcher: CompiledMatcher;
}

/** The one field a validated key names, compiled. */
export function compileKey(key: SessionKey): CompiledKey {
  const field = SESSION_KEY_FIELDS.find((name) => key[name] !== undefined);
  if (field === undefined) throw new Error('a session key names one field');
  const pattern = key[field] as string;
  return { field, pattern, glob: isGlob(pattern), matcher: compileMatcher(pattern) };
}

/** `contentID glob "abc-*"`, `clientCN "x"`. */
export function describeKey(key: CompiledKey): string {
  return `${key.field} ${key.glob ? 'glob ' : ''}${JSON.stringify(key.pattern)}`;
}

/** The value of the key's field in a request (valid or not) and its client, when it is a string. */
export function keyValue(field: SessionKeyField, request: unknown, client: ClientIdentity): string | null {
  if (field === 'clientCN') return client.cn;
  if (request === null || typeof request !== 'object') return null;
  const value = (request as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : null;
}

/** Whether some request could belong to both keys (see the module comment). */
export function keysOverlap(a: CompiledKey, b: CompiledKey): boolean {
  if (a.field !== b.field) return true;
  if (!a.glob && !b.glob) return a.pattern === b.pattern;
  if (!a.glob) return b.matcher.test(a.pattern);
  if (!b.glob) return a.matcher.test(b.pattern);
  return globsIntersect(a.pattern, b.pattern);
}

/**
 * Whether some string matches both globs (`*` any run of characters, `?` one character, the
 * rest literal; characters are code points, as in the matcher). A search over pairs of
 * positions (i in a, j in b), reading both globs in step: O(|a|·|b|) states, each visited once.
 */
export function globsIntersect(a: string, b: string): boolean {
  const x = Array.from(a);
  const y = Array.from(b);
  const width = y.length + 1;
  const seen = new Uint8Array((x.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number) => {
    const state = i * width + j;
    if (seen[state] === 0) {
      seen[state] = 1;
      stack.push(state);
    }
  };
  while (stack.length > 0) {
    const state = stack.pop() as number;
    const i = Math.floor(state / width);
    const j = state % width;
    if (i === x.length && j === y.length) return true;
    const p = x[i];
    const q = y[j];
    if (p === '*') {
      visit(i + 1, j); // the star ends here
      if (q !== undefined && q !== '*') visit(i, j + 1); // the star takes the character b's next symbol stands for
    }
    if (q === '*') {
      visit(i, j + 1);
      if (p !== undefined && p !== '*') visit(i + 1, j);
    }
    if (p !== undefined && q !== undefined && p !== '*' && q !== '*' && (p === '?' || q === '?' || p === q)) visit(i + 1, j + 1);
  }
  return false;
}
