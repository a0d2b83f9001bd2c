/**
 * JSON request bodies on the admin listener, in our words. koa-bodyparser reads
 * them; this decides that a body sent without a Content-Type is JSON (Java's
 * HttpClient, Python's http.client and many scripts send none), and turns a body
 * that does not parse into a 400 that says what is wrong and where (line and
 * column), instead of the parser's "invalid JSON, only supports object and array".
 */
import type Koa from 'koa';

/** For bodyParser's detectJSON: a body without a Content-Type is read as JSON. */
export function isUntypedBody(ctx: Koa.Context): boolean {
  return ctx.get('content-type') === '' && (ctx.get('transfer-encoding') !== '' || Number(ctx.get('content-length')) > 0);
}

/** An error koa's error handling answers with (status, and a message safe to show). */
export interface BodyError extends Error {
  status: number;
  expose: true;
}

/**
 * For bodyParser's onerror: a body that is not JSON (or not an object) becomes a
 * BodyError saying why; a blank body is left for the route to call missing; any
 * other failure (too large, cut short) is rethrown as it is.
 */
export function refuseMalformedJson(error: unknown, ctx: Koa.Context): void {
  const text = (error as { body?: unknown }).body;
  if (!(error instanceof SyntaxError) || typeof text !== 'string') throw error;
  if (text.trim() === '') {
    ctx.request.rawBody = text;
    return;
  }
  const untyped = ctx.get('content-type') === '' ? ' (a body without Content-Type is read as JSON; send YAML as application/yaml)' : '';
  throw bodyError(`${describeJsonProblem(text, error)}${untyped}`);
}

function bodyError(message: string): BodyError {
  return Object.assign(new Error(message), { status: 400, expose: true as const });
}

/** What is wrong with a body the JSON parser refused, and where. */
export function describeJsonProblem(text: string, refusal: Error): string {
  let reason: string;
  try {
    const value: unknown = JSON.parse(text);
    // Valid JSON the body parser refused: a scalar, or a __proto__ key (prototype poisoning).
    if (typeof value !== 'object' || value === null) return `body must be a JSON object, got ${value === null ? 'null' : `a ${typeof value}`}`;
    return `body is refused: ${refusal.message}`;
  } catch (error) {
    reason = (error as Error).message;
  }
  const offset = jsonErrorOffset(text) ?? text.length;
  const { line, column } = lineAndColumn(text, offset);
  return `body is not valid JSON: ${plainReason(reason)}, at line ${line}, column ${column}`;
}

/** V8's reason without its position and without the echo of the text ("…" is not valid JSON). */
function plainReason(message: string): string {
  if (/^Unexpected end of JSON input/.test(message)) return 'it ends too early';
  const shown = message.replace(/[\x00-\x1f]/g, (character) => JSON.stringify(character).slice(1, -1));
  return shown.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '').replace(/ after JSON at position \d+.*$/s, ' after JSON');
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The offset of the first character at which `text` stops being JSON (its
 * length when it ends too early), or null when it is JSON. A state machine with
 * an explicit stack: a deeply nested body cannot overflow the call stack.
 */
export function jsonErrorOffset(text: string): number | null {
  const open: ('{' | '[')[] = [];
  let state: 'value' | 'first-value' | 'key' | 'first-key' | 'after' = 'value';
  let i = 0;
  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
    const c = text[i];
    if (state === 'after') {
      const top = open[open.length - 1];
      if (top === undefined) return i < text.length ? i : null;
      if (c === ',') state = top === '{' ? 'key' : 'value';
      else if (c === (top === '{' ? '}' : ']')) open.pop();
      else return i;
      i++;
      continue;
    }
    if (c === undefined) return i;
    if (state === 'first-key' || state === 'first-value') {
      if (c === (state === 'first-key' ? '}' : ']')) {
        open.pop();
        i++;
        state = 'after';
        continue;
      }
      state = state === 'first-key' ? 'key' : 'value';
    }
    if (state === 'key') {
      if (c !== '"') return i;
      const end = stringEnd(text, i);
      if (end < 0) return -end - 1;
      i = end;
      while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
      if (text[i] !== ':') return i;
      i++;
      state = 'value';
      continue;
    }
    // state === 'value'
    if (c === '{' || c === '[') {
      open.push(c);
      i++;
      state = c === '{' ? 'first-key' : 'first-value';
      continue;
    }
    const end = scalarEnd(text, i);
    if (end < 0) return -end - 1;
    i = end;
    state = 'after';
  }
}

/** Where the scalar starting at `at` ends, or -(offset of its error) - 1. */
function scalarEnd(text: string, at: number): number {
  const c = text[at];
  if (c === '"') return stringEnd(text, at);
  const literal = ['true', 'false', 'null'].find((word) => word[0] === c);
  if (literal !== undefined) {
    for (let i = 1; i < literal.length; i++) if (text[at + i] !== literal[i]) return -(at + i) - 1;
    return at + literal.length;
  }
  NUMBER.lastIndex = at;
  const number = NUMBER.exec(text);
  return number && number[0] !== '-' ? at + number[0].length : -at - 1;
}

/** Where the string starting at `at` (a quote) ends, or -(offset of its error) - 1. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return -i - 1;
    if (code === 0x5c) {
      const escaped = text[i + 1];
      if (escaped === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -i - 1;
        i += 5;
      } else if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) {
        i += 1;
      } else {
        return -i - 1;
      }
    }
  }
  return -text.length - 1;
}
