/**
 * Turns a decided ResponsePlan into bytes on the socket — or, for faults, into
 * the lack of them: a TCP reset, a closed connection, a hang, a dribble, or a
 * truncated body. Works on Node's raw request/response, not on Koa.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResponsePlan } from '../scenario/engine.js';
import type { JournaledResponse } from '../journal/entry.js';

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

/** Sends the plan. Resolves when the exchange is over from our side (for a hang: at once, the socket stays held). */
export async function deliver({ req, res, held }: DeliveryContext, plan: ResponsePlan): Promise<void> {
  const socket = req.socket;
  if (plan.delayMs > 0 && !(plan.kind !== 'fault' && plan.delivery === 'slow')) {
    // A client that gives up (or a shutdown) ends the wait: no timer outlives its socket.
    const socketClosed = new AbortController();
    const onClose = () => socketClosed.abort();
    socket.once('close', onClose);
    // Timers count from the event loop's cached clock, which lags by however long the current
    // turn has run: under load a bare setTimeout answered up to a few ms early. Never early.
    const due = performance.now() + plan.delayMs;
    for (let left = plan.delayMs; left > 0 && !socketClosed.signal.aborted; left = due - performance.now())
      await sleep(Math.ceil(left), undefined, { signal: socketClosed.signal }).catch(() => undefined);
    socket.off('close', onClose);
    if (socket.destroyed) return;
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
  const text = serialize(plan);
  res.statusCode = plan.status;
  res.setHeader('Content-Type', plan.kind === 'json' ? 'application/json' : 'text/plain; charset=utf-8');
  for (const name in plan.headers) res.setHeader(name, plan.headers[name] as string);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  if (plan.delivery === 'whole') {
    // A string, not a Buffer: Node joins it to the head in one chunk (a Buffer would be a second one).
    res.end(text);
    return;
  }
  const body = Buffer.from(text);
  switch (plan.delivery) {
    case 'partial':
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => socket.destroy());
      return;
    case 'slow':
      await dribble(res, body, plan.delayMs);
      return;
  }
}

/** Sends `body` in small chunks spread evenly over `durationMs`. */
async function dribble(res: ServerResponse, body: Buffer, durationMs: number): Promise<void> {
  const chunkCount = Math.max(1, Math.min(body.length, Math.ceil(durationMs / 50)));
  const chunkSize = Math.ceil(body.length / chunkCount);
  const interval = durationMs / chunkCount;
  res.flushHeaders();
  for (let offset = 0; offset < body.length; offset += chunkSize) {
    await sleep(interval);
    if (res.destroyed) return;
    res.write(body.subarray(offset, offset + chunkSize));
  }
  res.end();
}
