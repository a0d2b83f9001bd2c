/**
 * The admin listener's HTTP server (plain HTTP; the Koa app answers its requests): the same
 * header time limit as the entitlement listeners, a JSON answer for what Node's HTTP parser
 * refuses, and a lingering close for every answer that ends the connection (server/linger.ts).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { MAX_HEADER_BYTES, timeoutCheckInterval } from './options.js';
import { describeHttpRefusal } from './tls-failures.js';
import { isLingering, lingerOnLastAnswer, refuseLingering } from './linger.js';

export function createAdminServer(headerTimeoutMs: number): http.Server {
  const server = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: headerTimeoutMs,
    connectionsCheckingInterval: timeoutCheckInterval(headerTimeoutMs),
  });
  server.on('connection', lingerOnLastAnswer);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (isLingering(socket)) return; // already answered; later parse errors are echoes
    const refusal = describeHttpRefusal(error, headerTimeoutMs);
    const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? null;
    if (refusal === null || (inFlight !== null && inFlight.headersSent)) {
      // The client went away, or an answer already started: nothing more to say.
      socket.destroy();
      return;
    }
    if (inFlight !== null) {
      // Garbage after a request still being answered: that answer goes out, then the connection closes.
      inFlight.shouldKeepAlive = false;
      return;
    }
    refuseLingering(socket, refusal.status, refusal.statusText, { error: refusal.statusText.toLowerCase(), message: refusal.errorText });
  });
  return server;
}
