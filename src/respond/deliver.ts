/**
 * Turns a decided ResponsePlan into bytes on the socket — or, for faults, into
 * the lack of them: a TCP reset, a closed connection, a hang, a dribble, or a
 * truncated body. Works on Node's raw request/response, not on Koa.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResponsePlan } from './plan.js';
import type { JournaledResponse } from './journaled-response.js';

/** Requests held open on purpose (hang), so that shutdown can end them. */
export class HeldExchanges {
  private readonly held = new Set<Socket>();

  hold(socket: Socket): void {
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
  }

  get size(): number {
    return this.held.size;
  }

  /** End every held exchange (used at shutdown). */
  releaseAll(): void {
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }
}

/** What the journal records of a plan: decided before sending, so a hung request is visible at once. */
export function describePlan(plan: ResponsePlan): JournaledResponse {
  switch (plan.kind) {
    case 'fault':
      return { status: null, body: null, fault: plan.fault, delayMs: plan.delayMs };
    case 'json':
    case 'raw':
      return {
        status: plan.status,
        body: plan.delivery === 'partial' ? truncatedBody(serialize(plan)) : plan.body,
        fault: plan.delivery === 'whole' ? null : plan.delivery,
        delayMs: plan.delayMs,
      };
  }
}

/**
 * The text of a JSON answer's body that goes out whole (at once or slowly): what describePlan's
 * body is, serialized; null for other plans. deliver() takes it so the body is serialized once.
 */
export function bodyText(plan: ResponsePlan): string | null {
  return plan.kind === 'json' && plan.delivery !== 'partial' ? JSON.stringify(plan.body) : null;
}

function serialize(plan: Extract<ResponsePlan, { kind: 'json' | 'raw' }>): string {
  return plan.kind === 'json' ? JSON.stringify(plan.body) : plan.body;
}

function truncatedBody(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.subarray(0, Math.floor(bytes.length / 2)).toString();
}

/** Close the connection with a TCP RST. TLS sockets wrap the TCP socket that can do it. */
export function resetConnection(socket: Socket): void {
  const tcp = (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
  try {
    tcp.resetAndDestroy();
  } catch {
    socket.destroy();
  }
  if (tcp !== socket) socket.destroy();
}

export interface DeliveryContext {
  req: IncomingMessage;
  res: ServerResponse;
  held: HeldExchanges;
}

/**
 * Sends the plan. Returns undefined when the answer went out at once (no delay, whole body: the
 * usual case, kept free of promises), else a promise that resolves when the exchange is over from
 * our side (for a hang: at once, the socket stays held).
 */
export function deliver(context: DeliveryContext, plan: ResponsePlan, text: string | null = null): Promise<void> | undefined {
  if (plan.kind !== 'fault' && plan.delivery === 'whole' && plan.delayMs <= 0) {
    sendWhole(context.res, plan, text ?? serialize(plan));
    return undefined;
  }
  return deliverLater(context, plan, text);
}

/** The whole body with its head in one write: a string body is joined to the head by Node (a Buffer would be a second chunk). */
function sendWhole(res: ServerResponse, plan: Extract<ResponsePlan, { kind: 'json' | 'raw' }>, text: string): void {
  res.writeHead(plan.status, headerList(plan, Buffer.byteLength(text)));
  res.end(text);
}

/**
 * The response head as a flat [name, value, …] list: Content-Type (the plan's own if it has one),
 * the plan's headers, then Content-Length, always ours. Handing writeHead a list skips the
 * per-header bookkeeping of setHeader.
 */
function headerList(plan: Extract<ResponsePlan, { kind: 'json' | 'raw' }>, contentLength: number): string[] {
  const list = ['Content-Type', plan.kind === 'json' ? 'application/json' : 'text/plain; charset=utf-8'];
  for (const name in plan.headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-length') continue;
    if (lower === 'content-type') {
      list[0] = name;
      list[1] = plan.headers[name]!;
    } else list.push(name, plan.headers[name]!);
  }
  list.push('Content-Length', String(contentLength));
  return list;
}

async function deliverLater({ req, res, held }: DeliveryContext, plan: ResponsePlan, serialized: string | null): Promise<void> {
  const socket = req.socket;
  if (plan.delayMs > 0 && !(plan.kind !== 'fault' && plan.delivery === 'slow')) {
    if (!(await waitUntil(socket, performance.now() + plan.delayMs))) return;
  }
  if (plan.kind === 'fault') {
    switch (plan.fault) {
      case 'hang':
        held.hold(socket);
        return;
      case 'reset':
        resetConnection(socket);
        return;
      case 'close':
        socket.destroy();
        return;
    }
  }
  const text = serialized ?? serialize(plan);
  if (plan.delivery === 'whole') {
    sendWhole(res, plan, text);
    return;
  }
  res.writeHead(plan.status, headerList(plan, Buffer.byteLength(text)));
  const body = Buffer.from(text);
  switch (plan.delivery) {
    case 'partial':
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => socket.destroy());
      return;
    case 'slow':
      await dribble(res, socket, body, plan.delayMs);
      return;
  }
}

/**
 * Waits until `due` (a performance.now() time); false when the socket closed first. A client that
 * gives up (or a shutdown) ends the wait: no timer outlives its socket. Timers count from the
 * event loop's cached clock, which lags by however long the current turn has run: under load a
 * bare setTimeout answered up to a few ms early, hence the loop. Never early.
 */
async function waitUntil(socket: Socket, due: number): Promise<boolean> {
  if (socket.destroyed) return false;
  let left = due - performance.now();
  if (left <= 0) return true;
  const socketClosed = new AbortController();
  const onClose = () => socketClosed.abort();
  socket.once('close', onClose);
  for (; left > 0 && !socketClosed.signal.aborted; left = due - performance.now())
    await sleep(Math.ceil(left), undefined, { signal: socketClosed.signal }).catch(() => undefined);
  socket.off('close', onClose);
  return !socket.destroyed;
}

/** About this often a chunk goes out; a body shorter than the delay allows gets one byte a chunk, less often. */
const DRIBBLE_INTERVAL_MS = 50;

/**
 * Sends `body` in chunks spread evenly over `durationMs`: the head at once, chunk i of n when
 * i/n of the duration has passed, so the last byte goes out when the duration is over. Each
 * chunk is due at a fixed time from the start, so timer lateness does not add up over many chunks.
 */
async function dribble(res: ServerResponse, socket: Socket, body: Buffer, durationMs: number): Promise<void> {
  const chunkCount = Math.max(1, Math.min(body.length, Math.ceil(durationMs / DRIBBLE_INTERVAL_MS)));
  const started = performance.now();
  res.flushHeaders();
  for (let chunk = 1; chunk <= chunkCount; chunk++) {
    if (!(await waitUntil(socket, started + (durationMs * chunk) / chunkCount)) || res.destroyed) return;
    const from = Math.floor(((chunk - 1) * body.length) / chunkCount);
    const to = Math.floor((chunk * body.length) / chunkCount);
    if (chunk < chunkCount) res.write(body.subarray(from, to));
    else res.end(body.subarray(from, to));
  }
}
