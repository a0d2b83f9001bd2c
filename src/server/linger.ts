/**
 * Lingering close, as nginx and Go's net/http do it: a connection that ends after an answer
 * (Connection: close: a 413, a 408, a 400 for broken framing) sends the answer, half-closes,
 * and reads and discards what the client is still sending until the client closes too, or a
 * time or size bound is reached; only then is it destroyed.
 *
 * Closing at once left the client's unsent bytes to meet a closed socket, which answers them
 * with a TCP reset: a client that writes its whole request before reading (Python's urllib, a
 * 64 KiB-chunk writer) then saw "Broken pipe" or a reset that threw away the unread answer.
 */
import type { Socket } from 'node:net';

/** How long a closing connection keeps reading, and how much: enough for a client to finish a 10 MB upload on a LAN. */
export const LINGER_LIMITS = Object.freeze({ maxMs: 5000, maxBytes: 32 * 1024 * 1024 });

const LINGERING = Symbol('entitlement-mock.lingering');
type MaybeLingering = Socket & { [LINGERING]?: true };

/** True once `closeLingering` has taken the socket over: its HTTP parser's later errors are echoes. */
export function isLingering(socket: Socket): boolean {
  return (socket as MaybeLingering)[LINGERING] === true;
}

/**
 * Makes every close Node's HTTP server does after a last answer (its `destroySoon`) a lingering
 * one. Call on each accepted connection (the TLS socket, for HTTPS).
 */
export function lingerOnLastAnswer(socket: Socket): void {
  socket.destroySoon = () => closeLingering(socket);
}

/**
 * Half-closes the socket once what was written has gone out, then discards what still arrives
 * until the client closes, `limits.maxBytes` have arrived, or `limits.maxMs` have passed.
 * The socket no longer feeds the HTTP parser: nothing that follows is taken for a request.
 */
export function closeLingering(socket: Socket, limits: { maxMs: number; maxBytes: number } = LINGER_LIMITS): void {
  if (socket.destroyed || isLingering(socket)) return;
  (socket as MaybeLingering)[LINGERING] = true;
  let drained = 0;
  const finish = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const discard = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limits.maxBytes) finish();
  };
  // Listening for 'data' takes the bytes back from the HTTP parser, which Node lets read the
  // socket natively; then the parser's own 'data' listener goes.
  const takeOver = () => {
    socket.on('data', discard);
    for (const listener of socket.listeners('data')) if (listener !== discard) socket.off('data', listener as (chunk: Buffer) => void);
  };
  if (socket.isPaused()) {
    // Paused by a request nobody reads: only the parser's 'resume' listener (the first) starts
    // reading again, and taking the bytes back removes it, so that waits for the resume.
    socket.once('resume', takeOver);
    socket.resume();
  } else takeOver();
  socket.once('end', finish);
  socket.once('close', () => clearTimeout(timer));
  const timer = setTimeout(finish, limits.maxMs);
  socket.end();
}

/** Writes a whole JSON answer straight to the socket (for refusals before any request object exists), then closes lingering. */
export function refuseLingering(socket: Socket, status: number, statusText: string, body: object): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  socket.write(
    `HTTP/1.1 ${status} ${statusText}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
  closeLingering(socket);
}
