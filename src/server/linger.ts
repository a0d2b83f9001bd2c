/**
 * Lingering close, as nginx and Go's net/http do it: a connection that ends after an answer
 * (Connection: close: a 413, a 408, a 400 for broken framing) sends the answer, half-closes,
 * and reads and discards what the client is still sending until the client closes too, or a
 * time or size bound is reached; only then is it destroyed.
 *
 * Closing at once left the client's unsent bytes to meet a closed socket, which answers them
 * with a TCP reset: a client that writes its whole request before reading (Python's urllib, a
 * 64 KiB-chunk writer) then saw "Broken pipe" or a reset that threw away the unread answer.
 *
 * A listener that knows its connections' last request (the entitlement listener) lingers only
 * when that request was not read to its end, as Go's net/http does: after a request read whole
 * (a client's `Connection: close`), the client has nothing more to send, and waiting for its
 * close cost every such connection an extra read and its end's handling (bench/README.md).
 */
import { Socket } from 'node:net';

/** How long a closing connection keeps reading, and how much: enough for a client to finish a 10 MB upload on a LAN. */
export const LINGER_LIMITS = Object.freeze({ maxMs: 5000, maxBytes: 32 * 1024 * 1024 });

/** What a lingering socket has drained, and until when it may linger. */
interface Lingering {
  drained: number;
  maxBytes: number;
  /** `performance.now()` past which the sweeper destroys the socket. */
  deadline: number;
}

const LINGERING = Symbol('entitlement-mock.lingering');
type MaybeLingering = Socket & { [LINGERING]?: Lingering };

/** True once `closeLingering` has taken the socket over: its HTTP parser's later errors are echoes. */
export function isLingering(socket: Socket): boolean {
  return (socket as MaybeLingering)[LINGERING] !== undefined;
}

/**
 * Makes every close Node's HTTP server does after a last answer (its `destroySoon`) a lingering
 * one. Call on each accepted connection (the TLS socket, for HTTPS).
 */
export function lingerOnLastAnswer(socket: Socket): void {
  socket.destroySoon = destroySoonLingering;
}

function destroySoonLingering(this: Socket): void {
  closeLingering(this);
}

/**
 * After a connection's last answer: closes it as Node does (half-close, destroyed once the answer
 * is out) when its last request was read to its end, else lingering.
 */
export function closeAfterLastAnswer(socket: Socket, lastRequestReadWhole: boolean): void {
  if (lastRequestReadWhole) NODE_DESTROY_SOON.call(socket);
  else closeLingering(socket);
}

const NODE_DESTROY_SOON = Socket.prototype.destroySoon;

/**
 * Half-closes the socket once what was written has gone out, then discards what still arrives
 * until the client closes, `limits.maxBytes` have arrived, or `limits.maxMs` have passed (checked
 * by one sweep every SWEEP_MS for all lingering sockets, so a socket may linger up to SWEEP_MS longer).
 * The socket no longer feeds the HTTP parser: nothing that follows is taken for a request.
 *
 * It does so without a closure or a timer per socket (it was ~30 µs per connection when every
 * closing connection came here): the listeners are shared functions, the state sits on the socket.
 */
export function closeLingering(socket: Socket, limits: { maxMs: number; maxBytes: number } = LINGER_LIMITS): void {
  if (socket.destroyed || isLingering(socket)) return;
  (socket as MaybeLingering)[LINGERING] = { drained: 0, maxBytes: limits.maxBytes, deadline: performance.now() + limits.maxMs };
  if (socket.isPaused()) {
    // Paused by a request nobody reads: only the parser's 'resume' listener (the first) starts
    // reading again, and taking the bytes back removes it, so that waits for the resume.
    socket.once('resume', takeOver);
    socket.resume();
  } else takeOver.call(socket);
  // The HTTP server's own 'end' listener would end the socket a second time once the client's
  // end arrives: Node then builds (and drops) an ERR_STREAM_ALREADY_FINISHED with its stack,
  // ~10 µs per connection. The socket is destroyed at its end instead.
  for (const listener of socket.listeners('end')) if (listener.name === 'bound socketOnEnd') socket.off('end', listener as () => void);
  socket.on('end', finish);
  socket.on('close', forget);
  sweeper.add(socket);
  socket.end();
}

// Listening for 'data' takes the bytes back from the HTTP parser, which Node lets read the
// socket natively; then the parser's own 'data' listener goes.
function takeOver(this: Socket): void {
  this.on('data', discard);
  for (const listener of this.listeners('data')) if (listener !== discard) this.off('data', listener as (chunk: Buffer) => void);
}

function discard(this: MaybeLingering, chunk: Buffer): void {
  const lingering = this[LINGERING]!;
  lingering.drained += chunk.length;
  if (lingering.drained > lingering.maxBytes) this.destroy();
}

function finish(this: Socket): void {
  this.destroy();
}

function forget(this: Socket): void {
  sweeper.delete(this);
}

/** How often lingering sockets are checked against their time limit. */
const SWEEP_MS = 500;

/** The sockets lingering now, and one timer (only while there are some) that ends those past their time. */
class LingeringSockets {
  readonly #sockets = new Set<MaybeLingering>();
  #timer: NodeJS.Timeout | null = null;

  add(socket: Socket): void {
    this.#sockets.add(socket);
    if (this.#timer === null) this.#timer = setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  delete(socket: Socket): void {
    this.#sockets.delete(socket);
  }

  #sweep(): void {
    const now = performance.now();
    for (const socket of this.#sockets) if (socket[LINGERING]!.deadline <= now) socket.destroy();
    if (this.#sockets.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

const sweeper = new LingeringSockets();

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
