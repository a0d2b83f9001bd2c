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

/** On a request whose body is being read right now: the way to end the read with a refusal. */
const REFUSE_READ = Symbol('entitlement-mock.refuseRead');
type BeingRead = IncomingMessage & { [REFUSE_READ]?: ((problem: string) => void) | undefined };

/**
 * The HTTP parser gave up on this request's body (e.g. a broken chunk size): end its
 * read with a 400 naming `problem`. False when nobody is reading that body.
 */
export function refuseBody(req: IncomingMessage, problem: string): boolean {
  const refuse = (req as BeingRead)[REFUSE_READ];
  refuse?.(problem);
  return refuse !== undefined;
}

export function readBody(req: IncomingMessage, limit: number, timeoutMs = Infinity): Promise<BodyResult> {
  const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (declared !== null && declared > limit) return Promise.resolve({ kind: 'too-large', declared });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      (req as BeingRead)[REFUSE_READ] = undefined;
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        req.pause();
        settle({ kind: 'too-large', declared });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      try {
        settle({ kind: 'text', text: strictUtf8.decode(bytes) });
      } catch {
        settle({ kind: 'not-utf8', text: lenientUtf8.decode(bytes) });
      }
    };
    const onAbort = () => settle({ kind: 'aborted' });
    const onClose = () => {
      if (!req.complete) settle({ kind: 'aborted' });
    };
    let timer: NodeJS.Timeout | null = null;
    // Armed once the parser is done with what has arrived (after this turn's I/O): a body that came
    // with its headers (the usual case) is complete by then and needs no timer. (A microtask was too
    // early: Node's parser runs the request handler, and the microtasks after it, before it parses
    // the body of the same packet, so every request armed and cleared a timer.)
    if (Number.isFinite(timeoutMs))
      afterThisTurn(() => {
        if (settled || req.complete) return;
        timer = setTimeout(() => {
          req.pause();
          const progress = declared === null ? 'chunked' : `of ${declared} declared`;
          settle({ kind: 'refused', status: 408, problem: `body not complete within ${timeoutMs} ms (${received} bytes received, ${progress})` });
        }, timeoutMs);
      });
    (req as BeingRead)[REFUSE_READ] = (problem) => {
      req.pause();
      settle({ kind: 'refused', status: 400, problem });
    };
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onClose);
  });
}

/** Checks to run once the current turn's I/O is done: one setImmediate for all the requests of a turn. */
let dueAfterThisTurn: Array<() => void> = [];

function afterThisTurn(check: () => void): void {
  if (dueAfterThisTurn.push(check) === 1) setImmediate(runDueChecks);
}

function runDueChecks(): void {
  const due = dueAfterThisTurn;
  dueAfterThisTurn = [];
  for (const check of due) check();
}
