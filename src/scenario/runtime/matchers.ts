/**
 * Matchers: a scenario's `match:` values compiled once into small test functions
 * that can also explain themselves in words (for near misses and `validate`).
 *
 * Semantics (docs/scenarios.md, "Matching"):
 * - a string with `*` or `?` is a glob (anchored: the whole value must match;
 *   `*` any run of characters, `?` exactly one character), any other string is exact;
 * - a number or boolean is equal;
 * - a list matches when any item matches;
 * - `{equals: v}` (never a glob), `{glob: s}`, `{regex: s}` (unanchored, like `RegExp#test`),
 *   `{exists: bool}`, `{not: m}`.
 *
 * Absent fields: a field missing from the request (`undefined`, or `null` as for a
 * client CN when no certificate was presented) matches only `exists: false`, a `not`,
 * and `equals: null` (which is spelled-out `exists: false`).
 *
 * Scalars of different types are compared by their string forms, so YAML `"2"` matches
 * the number 2, `2` matches the string "2", and `true` matches "true". Globs and regexes
 * are tried on the string form of number and boolean values too.
 *
 * Boundedness (nothing a scenario says may hang the process):
 * - globs are matched by a small segment matcher (no RegExp, no backtracking blow-up):
 *   at worst O(value length × glob length);
 * - regexes are refused at load when they can backtrack catastrophically: back-references,
 *   and nested repetition (a `*`, `+` or `{n,m}` applied to something that itself
 *   contains a variable repeat, as in `(a+)+` or `(\w+\s?)*`, i.e. star height > 1);
 * - globs and regexes are at most MAX_PATTERN_LENGTH characters long;
 * - a regex is only tried on values of at most REGEX_INPUT_LIMIT characters; a longer
 *   value does not match (every protocol field a scenario can match on is far shorter:
 *   GUIDs are 36 characters, customerCookie at most 32, a certificate CN at most 64);
 * - as defence in depth against polynomial patterns that pass the static check
 *   (`\d+\d+\d+x`), V8's linear-time fallback engine is switched on for regexes that
 *   backtrack excessively (see enableRegexBacktrackFallback).
 */
import v8 from 'node:v8';
import type { Matcher } from '../format/format.js';

export interface CompiledMatcher {
  test(value: unknown): boolean;
  /** In words: `glob "denied-*"`, `one of [2, 3]`, `regex /^dev-[0-9]+$/`, `not exact "x"`. */
  explain(): string;
}

/** A matcher the scenario format allows but that cannot be compiled; `path` leads into the matcher (e.g. `[1, 'regex']`). */
export class MatcherError extends Error {
  readonly path: readonly (string | number)[];
  constructor(message: string, path: readonly (string | number)[] = []) {
    super(message);
    this.name = 'MatcherError';
    this.path = path;
  }
}

/** Regexes are tried on values of at most this many characters; longer values do not match. */
export const REGEX_INPUT_LIMIT = 256;

/** The longest glob or regex a scenario may hold (matching cost grows with it; real ones are short). */
export const MAX_PATTERN_LENGTH = 1000;

/** Compile a matcher once; throws MatcherError for a bad or dangerous regex. */
export function compileMatcher(m: Matcher): CompiledMatcher {
  return compileAt(m, []);
}

/**
 * The exact string values a matcher stands for when it is an exact scalar or a list of
 * them (`"abc"`, `{equals: "abc"}`, `[a, b]`), else null. Used to index rules by contentID:
 * a value matches such a matcher if and only if its string form is one of these.
 */
export function exactStrings(m: Matcher | readonly Matcher[]): string[] | null {
  if (typeof m === 'string') return isGlob(m) ? null : [m];
  if (typeof m === 'number' || typeof m === 'boolean') return [String(m)];
  if (Array.isArray(m)) {
    const all: string[] = [];
    for (const item of m) {
      const values = exactStrings(item);
      if (values === null) return null;
      all.push(...values);
    }
    return all;
  }
  if ('equals' in m && m.equals !== null) return [String(m.equals)];
  return null;
}

/** `contentID: wanted glob "denied-*", got "abc"` */
export function describeMiss(key: string, matcher: CompiledMatcher, value: unknown): string {
  return `${key}: ${missReason(matcher, value)}`;
}

/** `wanted glob "denied-*", got "abc"` (the part of describeMiss after the key). */
export function missReason(matcher: CompiledMatcher, value: unknown): string {
  return `wanted ${matcher.explain()}, got ${describeValue(value)}`;
}

const SHOWN_CHARACTERS = 60;

/** A request value in words: `"abc"`, `2`, `true`, `nothing`; long strings are cut and their length given. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') {
    if (value.length <= SHOWN_CHARACTERS) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, SHOWN_CHARACTERS))}… (${value.length} characters)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length <= SHOWN_CHARACTERS ? json : `${json.slice(0, SHOWN_CHARACTERS)}… (${json.length} characters)`;
}

export function isGlob(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

// ---------------------------------------------------------------------------

type Path = readonly (string | number)[];

function compileAt(m: Matcher, path: Path): CompiledMatcher {
  if (typeof m === 'string') return isGlob(m) ? globMatcher(m, path) : exactMatcher(m);
  if (typeof m === 'number' || typeof m === 'boolean') return exactMatcher(m);
  if (Array.isArray(m)) return anyOfMatcher(m.map((item, i) => ({ source: item, compiled: compileAt(item, [...path, i]) })));
  if ('equals' in m) return m.equals === null ? absentMatcher('equals null') : exactMatcher(m.equals);
  if ('glob' in m) return globMatcher(m.glob, [...path, 'glob']);
  if ('regex' in m) return regexMatcher(m.regex, [...path, 'regex']);
  if ('exists' in m) return m.exists ? presentMatcher() : absentMatcher('absent');
  if ('not' in m) return notMatcher(compileAt(m.not, [...path, 'not']));
  throw new MatcherError(`unknown matcher ${JSON.stringify(m)}`, path);
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/** Equal, or equal string forms when the types differ (number/boolean vs string). A class: 100,000 of them must be cheap. */
class ExactMatcher implements CompiledMatcher {
  private readonly text: string;
  /** For a numeric string, the number it stands for (so "2" matches 2); else NaN. */
  private readonly asNumber: number;
  constructor(private readonly expected: string | number | boolean) {
    this.text = String(expected);
    const asNumber = typeof expected === 'string' && expected.trim() !== '' ? Number(expected) : NaN;
    this.asNumber = String(asNumber) === expected ? asNumber : NaN;
  }
  test(value: unknown): boolean {
    if (value === this.expected) return true;
    switch (typeof value) {
      case 'string':
        return typeof this.expected !== 'string' && value === this.text;
      case 'number':
        return value === this.asNumber;
      case 'boolean':
        return typeof this.expected === 'string' && String(value) === this.text;
      default:
        return false;
    }
  }
  explain(): string {
    return typeof this.expected === 'string' ? `exact ${JSON.stringify(this.expected)}` : `equals ${this.text}`;
  }
}

function exactMatcher(expected: string | number | boolean): CompiledMatcher {
  return new ExactMatcher(expected);
}

function presentMatcher(): CompiledMatcher {
  return { test: (value) => !isAbsent(value), explain: () => 'exists' };
}

function absentMatcher(words: string): CompiledMatcher {
  return { test: isAbsent, explain: () => words };
}

function notMatcher(inner: CompiledMatcher): CompiledMatcher {
  const words = `not ${inner.explain()}`;
  return { test: (value) => !inner.test(value), explain: () => words };
}

function anyOfMatcher(items: { source: Matcher; compiled: CompiledMatcher }[]): CompiledMatcher {
  const words = `one of [${items.map(({ source, compiled }) => listItemWords(source, compiled)).join(', ')}]`;
  const exact = exactStrings(items.map((i) => i.source));
  if (exact !== null) {
    // A list of exact scalars: one Set lookup on the value's string form.
    const set = new Set(exact);
    return {
      test: (value) =>
        typeof value === 'string'
          ? set.has(value)
          : (typeof value === 'number' || typeof value === 'boolean') && set.has(String(value)),
      explain: () => words,
    };
  }
  const compiled = items.map((i) => i.compiled);
  return {
    test: (value) => {
      for (const matcher of compiled) if (matcher.test(value)) return true;
      return false;
    },
    explain: () => words,
  };
}

/** List items read better bare: `one of ["a", 2, glob "b*"]`. */
function listItemWords(source: Matcher, compiled: CompiledMatcher): string {
  if (typeof source === 'string' && !isGlob(source)) return JSON.stringify(source);
  if (typeof source === 'number' || typeof source === 'boolean') return String(source);
  return compiled.explain();
}

/** The string form a glob or regex is tried on; null when the value cannot match one. */
function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

// --- globs -----------------------------------------------------------------

/** A run of the glob between stars: literal text and `?` (one character). */
type Segment = { parts: (string | null)[]; minUnits: number; maxUnits: number };

function parseSegment(text: string): Segment {
  const parts: (string | null)[] = [];
  let literal = '';
  let minUnits = 0;
  let maxUnits = 0;
  for (const ch of text) {
    if (ch === '?') {
      if (literal) parts.push(literal);
      literal = '';
      parts.push(null);
      minUnits += 1;
      maxUnits += 2; // one code point may be a surrogate pair
    } else {
      literal += ch;
      minUnits += ch.length;
      maxUnits += ch.length;
    }
  }
  if (literal) parts.push(literal);
  return { parts, minUnits, maxUnits };
}

/** Where the segment ends when it starts at `at`, or -1. */
function segmentEnd(segment: Segment, value: string, at: number): number {
  let pos = at;
  for (const part of segment.parts) {
    if (part === null) {
      if (pos >= value.length) return -1;
      const code = value.charCodeAt(pos);
      const pair = code >= 0xd800 && code <= 0xdbff && pos + 1 < value.length;
      const next = pair ? value.charCodeAt(pos + 1) : 0;
      pos += pair && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    } else {
      if (!value.startsWith(part, pos)) return -1;
      pos += part.length;
    }
  }
  return pos;
}

/** The leftmost start >= from where the segment matches, as its end, or -1. */
function findSegment(segment: Segment, value: string, from: number): number {
  const first = segment.parts[0];
  for (let at = from; at + segment.minUnits <= value.length; at++) {
    if (typeof first === 'string') {
      at = value.indexOf(first, at);
      if (at < 0) return -1;
    }
    const end = segmentEnd(segment, value, at);
    if (end >= 0) return end;
  }
  return -1;
}

/**
 * Globs: the first segment must match at the start, the last at the end, and the middle
 * ones are found leftmost in order (which is optimal for `*`): linear scans, no backtracking.
 */
function globMatcher(glob: string, path: Path): CompiledMatcher {
  checkLength('glob', glob, path);
  const words = `glob ${JSON.stringify(glob)}`;
  const segments = glob.split('*').map(parseSegment);
  const head = segments[0]!;
  let test: (text: string) => boolean;
  if (segments.length === 1) {
    test = (text) => segmentEnd(head, text, 0) === text.length;
  } else {
    const tail = segments[segments.length - 1]!;
    const middle = segments.slice(1, -1).filter((s) => s.parts.length > 0);
    test = (text) => {
      let pos = segmentEnd(head, text, 0);
      if (pos < 0) return false;
      for (const segment of middle) {
        pos = findSegment(segment, text, pos);
        if (pos < 0) return false;
      }
      const lastStart = text.length - tail.minUnits;
      for (let at = Math.max(pos, text.length - tail.maxUnits); at <= lastStart; at++) {
        if (segmentEnd(tail, text, at) === text.length) return true;
      }
      return false;
    };
  }
  return {
    test: (value) => {
      const text = textOf(value);
      return text !== null && test(text);
    },
    explain: () => words,
  };
}

// --- regexes ---------------------------------------------------------------

function regexMatcher(source: string, path: Path): CompiledMatcher {
  checkLength('regex', source, path);
  let regex: RegExp;
  enableRegexBacktrackFallback();
  try {
    regex = new RegExp(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const prefix = `Invalid regular expression: /${source}/: `;
    const reason = message.startsWith(prefix) ? message.slice(prefix.length) : message;
    throw new MatcherError(`invalid regex ${quoteSource(source)}: ${reason}`, path);
  }
  const danger = backtrackingDanger(source);
  if (danger !== null) throw new MatcherError(`regex ${quoteSource(source)} ${danger}`, path);
  regex.test(''); // V8 compiles a regex on first use: do it now, at load, not on a request
  const words = `regex /${regex.source}/`;
  return {
    test: (value) => {
      const text = textOf(value);
      return text !== null && text.length <= REGEX_INPUT_LIMIT && regex.test(text);
    },
    explain: () => words,
  };
}

function checkLength(kind: 'glob' | 'regex', pattern: string, path: Path): void {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new MatcherError(`${kind} ${quoteSource(pattern)} is too long: ${pattern.length} characters, at most ${MAX_PATTERN_LENGTH}`, path);
  }
}

/** A pattern quoted for a message, cut when very long. */
function quoteSource(source: string): string {
  return source.length <= 60 ? JSON.stringify(source) : `${JSON.stringify(source.slice(0, 60))}…`;
}

/** Deeper group nesting is refused (no real pattern needs it; it would only exhaust the stack). */
const MAX_GROUP_DEPTH = 100;

let fallbackEnabled = false;

/**
 * Ask V8 to re-run a regex on its linear-time engine once it has backtracked
 * excessively (50,000 backtracks by default). Process-wide, affects only regexes
 * compiled afterwards, and changes no result: it only bounds the time of
 * pathological matches. Harmless where the flag is unknown (V8 prints a notice).
 */
export function enableRegexBacktrackFallback(): void {
  if (fallbackEnabled) return;
  fallbackEnabled = true;
  try {
    v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  } catch {
    // Best effort: the static check and the input limit still apply.
  }
}

type Quantifier = { min: number; max: number; end: number };
const BRACES = /\{(\d+)(,(\d*))?\}/y;

/** A quantifier at `at` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each optionally lazy), or null. */
function quantifierAt(source: string, at: number): Quantifier | null {
  const ch = source[at];
  let q: Quantifier | null = null;
  if (ch === '*') q = { min: 0, max: Infinity, end: at + 1 };
  else if (ch === '+') q = { min: 1, max: Infinity, end: at + 1 };
  else if (ch === '?') q = { min: 0, max: 1, end: at + 1 };
  else if (ch === '{') {
    BRACES.lastIndex = at;
    const braces = BRACES.exec(source);
    if (braces) {
      const min = Number(braces[1]);
      const max = braces[2] === undefined ? min : braces[3] === '' ? Infinity : Number(braces[3]);
      q = { min, max, end: at + braces[0].length };
    }
  }
  if (q && source[q.end] === '?') q.end += 1;
  return q;
}

/**
 * Why a (syntactically valid, non-unicode) regex may backtrack catastrophically, or null.
 * Refuses back-references and star height > 1: a repeat (max > 1) applied to something
 * that contains a variable repeat (max > 1 and min ≠ max). `(ab?)+`, `(a{3})+`, `(a|b)*` pass.
 */
function backtrackingDanger(source: string): string | null {
  // First pass: capture groups (a decimal escape is a back-reference only up to their count).
  let captures = 0;
  let named = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = classEnd(source, i) - 1;
    else if (ch === '(') {
      if (source[i + 1] !== '?') captures++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        captures++;
        named = true;
      }
    }
  }

  let danger: string | null = null;
  /** Parses from `at` until `)` or the end; returns where it stopped and whether it holds a variable repeat. */
  const parseSequence = (at: number, depth: number): { end: number; variable: boolean } => {
    if (depth > MAX_GROUP_DEPTH) {
      danger = `nests groups more than ${MAX_GROUP_DEPTH} deep`;
      return { end: source.length, variable: false };
    }
    let variable = false;
    let i = at;
    while (i < source.length && danger === null) {
      const ch = source[i]!;
      if (ch === ')') break;
      if (ch === '|') {
        i++;
        continue;
      }
      const atomStart = i;
      let atomVariable = false;
      if (ch === '(') {
        let inner = i + 1;
        if (source[inner] === '?') {
          inner += source[inner + 1] === '<' && (source[inner + 2] === '=' || source[inner + 2] === '!') ? 3 : 2;
          if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
            inner = source.indexOf('>', i) + 1;
          }
        }
        const group = parseSequence(inner, depth + 1);
        atomVariable = group.variable;
        i = group.end + 1;
      } else if (ch === '[') {
        i = classEnd(source, i);
      } else if (ch === '\\') {
        const reference = /^\\([1-9]\d*)/.exec(source.slice(i, i + 12));
        if (reference && Number(reference[1]) <= captures) {
          danger = `uses a back-reference (${reference[0]}), which can backtrack catastrophically; back-references are not supported`;
          break;
        }
        if (named && source.startsWith('\\k<', i)) {
          danger = `uses a back-reference (${source.slice(i, source.indexOf('>', i) + 1).slice(0, 60)}), which can backtrack catastrophically; back-references are not supported`;
          break;
        }
        i += 2;
      } else {
        i++;
      }
      const q = quantifierAt(source, i);
      if (q) {
        if (q.max > 1 && atomVariable) {
          danger = `is prone to catastrophic backtracking: ${quoteSource(source.slice(atomStart, q.end))} repeats something that itself repeats (nested quantifiers); rewrite it without the nesting`;
          break;
        }
        atomVariable ||= q.max > 1 && q.min !== q.max;
        i = q.end;
      }
      variable ||= atomVariable;
    }
    return { end: i, variable };
  };
  parseSequence(0, 0);
  return danger;
}

/**
 * The fewest characters (UTF-16 units, as a request field's length is counted) a
 * string must have for the regex to match somewhere in it; never more than the
 * truth: anchors, lookarounds, word boundaries and back-references count 0, a
 * class, `.` or character escape 1. Null when the source is not a valid regex,
 * or when the pattern is beyond what this reads with certainty.
 */
export function regexMinLength(source: string): number | null {
  if (source.length > MAX_PATTERN_LENGTH) return null;
  try {
    new RegExp(source);
  } catch {
    return null;
  }
  const unsure = new Error('unsure');
  let i = 0;
  const alternatives = (depth: number): number => {
    if (depth > MAX_GROUP_DEPTH) throw unsure;
    let shortest = sequence(depth);
    while (source[i] === '|') {
      i++;
      shortest = Math.min(shortest, sequence(depth));
    }
    return shortest;
  };
  const sequence = (depth: number): number => {
    let total = 0;
    while (i < source.length && source[i] !== '|' && source[i] !== ')') {
      const atom = atomLength(depth);
      const q = quantifierAt(source, i);
      if (q) i = q.end;
      total += q ? (q.min === 0 ? 0 : atom * q.min) : atom;
    }
    return total;
  };
  const atomLength = (depth: number): number => {
    const ch = source[i];
    if (ch === '(') {
      let inner = i + 1;
      let counts = true;
      if (source[inner] === '?') {
        const kind = source.slice(inner + 1, inner + 3);
        if (kind[0] === '=' || kind[0] === '!') [inner, counts] = [inner + 2, false];
        else if (kind === '<=' || kind === '<!') [inner, counts] = [inner + 3, false];
        else if (kind[0] === '<') inner = source.indexOf('>', inner) + 1;
        else if (kind[0] === ':') inner += 2;
        else throw unsure; // modifiers and whatever comes next
      }
      i = inner;
      const length = alternatives(depth + 1);
      if (source[i] !== ')') throw unsure;
      i++;
      return counts ? length : 0;
    }
    if (ch === '[') {
      i = classEnd(source, i);
      return 1;
    }
    if (ch === '^' || ch === '$') {
      i++;
      return 0;
    }
    if (ch !== '\\') {
      i++;
      return 1;
    }
    const next = source[i + 1] ?? '';
    if (next === 'b' || next === 'B') {
      i += 2;
      return 0;
    }
    if (/\d/.test(next)) {
      // A back-reference or a legacy octal escape: count nothing.
      i += 1;
      while (/\d/.test(source[i] ?? '')) i++;
      return 0;
    }
    if (next === 'k' && source[i + 2] === '<' && source.includes('>', i)) {
      i = source.indexOf('>', i) + 1; // a named back-reference (or a literal "k<…>" in a pattern without named groups)
      return 0;
    }
    const escape = /^(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|c[A-Za-z])/.exec(source.slice(i + 1, i + 6));
    i += 1 + (escape ? escape[0].length : 1);
    return 1;
  };
  try {
    const length = alternatives(0);
    return i === source.length ? length : null;
  } catch (error) {
    if (error === unsure) return null;
    throw error;
  }
}

/** The index just after the `]` closing the class that opens at `at` (`[]` is empty, `[^]` any). */
function classEnd(source: string, at: number): number {
  let i = at + 1;
  if (source[i] === '^') i++;
  for (; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']') return i + 1;
  }
  return source.length;
}
