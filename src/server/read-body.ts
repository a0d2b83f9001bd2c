/**
 * Reads a request body as UTF-8 text, refusing more than `limit` bytes without
 * buffering them, giving up on a body that is not complete within `timeoutMs`
 * (a client that declared more than it sent, or a chunked body that never ends),
 * and on one whose framing the HTTP parser refused (see refuseBody).
 */
import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { kind: 'text'; text: string }
  | { kind: 'not-utf8'; text: string }
  | { kind: 'too-large'; declared: number | null }
  /** To be answered with `status` (then close): the body timed out (408) or its framing is broken (400). */
  | { kind: 'refused'; status: 400 | 408; problem: string }
  | { kind: 'aborted' };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/** Told once how the read of a body ended. */
export interface BodyReader {
  bodyRead(result: BodyResult): void;
}

/** The read of one request's body, kept on the request while it lasts (the listeners below are shared by all requests). */
const READING = Symbol('entitlement-mock.reading');
type BeingRead = IncomingMessage & { [READING]?: BodyRead | undefined };

/**
 * The HTTP parser gave up on this request's body (e.g. a broken chunk size): end its
 * read with a 400 naming `problem`. False when nobody is reading that body.
 */
export function refuseBody(req: IncomingMessage, problem: string): boolean {
  const read = (req as BeingRead)[READING];
  if (read === undefined) return false;
  req.pause();
  read.settle({ kind: 'refused', status: 400, problem });
  return true;
}

/**
 * Reads the body of `req` and tells `reader` how it went (at once for a declared size over the
 * limit, else from the request's events). One object per read and listeners shared by every
 * request, rather than a promise and a closure per event: this runs for every request.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number, reader: BodyReader): void {
  const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (declared !== null && declared > limit) {
    reader.bodyRead({ kind: 'too-large', declared });
    return;
  }
  const read = new BodyRead(req, limit, declared, timeoutMs, reader);
  (req as BeingRead)[READING] = read;
  // Armed once the parser is done with what has arrived (after this turn's I/O): a body that came
  // with its headers (the usual case) is complete by then and needs no timer. (A microtask was too
  // early: Node's parser runs the request handler, and the microtasks after it, before it parses
  // the body of the same packet, so every request armed and cleared a timer.)
  if (Number.isFinite(timeoutMs)) afterThisTurn(read);
  req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onClose);
}

class BodyRead {
  /** The first chunk; the rest, if any, in `more` (most bodies come in one). */
  first: Buffer | null = null;
  more: Buffer[] | null = null;
  received = 0;
  settled = false;
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly limit: number,
    readonly declared: number | null,
    readonly timeoutMs: number,
    readonly reader: BodyReader,
  ) {}

  /**
   * Ends the read. A complete body is handed over at once (from its 'end' event, as a plain
   * handler would answer); every other outcome a microtask later, as when this was a promise,
   * so that whoever ended the read (a parser error, a timer, the 'data' event) finishes first.
   */
  settle(result: BodyResult, now = false): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const req = this.req;
    (req as BeingRead)[READING] = undefined;
    req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onClose);
    if (now) this.reader.bodyRead(result);
    else queueMicrotask(() => this.reader.bodyRead(result));
  }

  /** After the turn the read began in: a body not complete by then gets its time limit. */
  check(): void {
    if (this.settled || this.req.complete) return;
    this.timer = setTimeout(() => {
      this.req.pause();
      const progress = this.declared === null ? 'chunked' : `of ${this.declared} declared`;
      this.settle({ kind: 'refused', status: 408, problem: `body not complete within ${this.timeoutMs} ms (${this.received} bytes received, ${progress})` });
    }, this.timeoutMs);
  }

  bytes(): Buffer {
    if (this.first === null) return Buffer.alloc(0);
    return this.more === null ? this.first : Buffer.concat([this.first, ...this.more], this.received);
  }
}

function onData(this: BeingRead, chunk: Buffer): void {
  const read = this[READING];
  if (read === undefined) return;
  read.received += chunk.length;
  if (read.received > read.limit) {
    this.pause();
    read.settle({ kind: 'too-large', declared: read.declared });
    return;
  }
  if (read.first === null) read.first = chunk;
  else (read.more ??= []).push(chunk);
}

function onEnd(this: BeingRead): void {
  const read = this[READING];
  if (read === undefined) return;
  const bytes = read.bytes();
  let result: BodyResult;
  try {
    result = { kind: 'text', text: strictUtf8.decode(bytes) };
  } catch {
    result = { kind: 'not-utf8', text: lenientUtf8.decode(bytes) };
  }
  read.settle(result, true);
}

function onAbort(this: BeingRead): void {
  this[READING]?.settle({ kind: 'aborted' });
}

function onClose(this: BeingRead): void {
  if (!this.complete) this[READING]?.settle({ kind: 'aborted' });
}

/** Reads to check once the current turn's I/O is done: one setImmediate for all the requests of a turn. */
let dueAfterThisTurn: BodyRead[] = [];

function afterThisTurn(read: BodyRead): void {
  if (dueAfterThisTurn.push(read) === 1) setImmediate(runDueChecks);
}

function runDueChecks(): void {
  const due = dueAfterThisTurn;
  dueAfterThisTurn = [];
  for (const read of due) read.check();
}
