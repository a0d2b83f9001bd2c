/**
 * JSON logs on stdout (pino). Four things keep a request's log line cheap (bench/README.md
 * has the figures):
 * - the per-request line is written in pino's own line format
 *   (`{"level":30,"time":…,…,"msg":"request"}`) by concatenation (requestLineWriter), not through
 *   pino's generic serializer or JSON.stringify of a new object per request;
 * - lines are encoded straight into a Buffer batch that the destination (sonic-boom in buffer
 *   mode) writes as it is: no long string of lines to flatten, measure and encode again;
 * - request lines are gathered for up to REQUEST_LINE_WINDOW_MS (or REQUEST_LINE_BATCH_BYTES)
 *   and handed to the destination in one write, so one write carries many lines instead of
 *   one per request — also at connection-per-request rates, where a turn holds one request
 *   and a write per line cost ~70 µs of the main thread per connection. Other lines go out
 *   at once, after any request lines gathered before them, so the order is kept; shutdown
 *   flushes;
 * - the write is asynchronous (pino's sonic-boom destination, sync: false): a stdout that
 *   is slow to drain (a busy log driver, a full pipe) must never hold up answers to the
 *   license server under test. The price is a thread-pool hand-off per write (~50 µs of CPU
 *   where a write(2) costs ~10 µs); the batching spreads it over every line of the window
 *   (bench/README.md).
 */
import { pino, type Logger } from 'pino';
import type { JournalEntry } from '../journal/entry.js';
import { isoNow } from './iso-time.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface MockLogger {
  readonly pino: Logger;
  /** One line per exchange. */
  exchange(entry: JournalEntry): void;
  /** Write out whatever is buffered, synchronously (when the process must exit at once). */
  flush(): void;
  /**
   * At a normal exit: every line logged so far goes out in order, then the destination ends.
   * (A synchronous flush while an asynchronous write is under way can overtake it: the last
   * lines came out as "stopped" before "shutting down".) Lines logged after it are dropped.
   */
  close(): Promise<void>;
}

/** How long close() waits for the destination to take the last lines. */
const CLOSE_WAIT_MS = 2000;

/** pino's number for `info`. */
const INFO = 30;
/** The longest a request's log line waits before it is written. */
export const REQUEST_LINE_WINDOW_MS = 10;
/** Gathered request lines are written at once when they reach this size. */
const REQUEST_LINE_BATCH_BYTES = 64 * 1024;

/**
 * A written batch belongs to the destination until its asynchronous write is done, so every window
 * takes a new one: sized to twice what the last window used (at least this), not always the most,
 * so that a few lines a window (connection-per-request rates) do not cost 64 KiB of memory each.
 */
const SMALLEST_BATCH_BYTES = 4 * 1024;

function nextBatchSize(lastUsed: number): number {
  return Math.min(REQUEST_LINE_BATCH_BYTES, Math.max(SMALLEST_BATCH_BYTES, 2 * lastUsed));
}

export function createLogger(level: LogLevel, destination: NodeJS.WritableStream | number = 1): MockLogger {
  // Bytes, not text: request lines are encoded once, into the batch, and the destination writes the batch as it is.
  // (sonic-boom's types know only its text mode.)
  const stream = (
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false, contentMode: 'buffer' }) : destination
  ) as unknown as ByteSink;

  let batch = Buffer.allocUnsafeSlow(REQUEST_LINE_BATCH_BYTES);
  let used = 0;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  /** Hands what the batch holds to the destination and starts a new batch of `nextSize` bytes. */
  const send = (nextSize: number) => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (used === 0) return;
    const lines = batch.subarray(0, used);
    batch = Buffer.allocUnsafeSlow(nextSize);
    used = 0;
    stream.write(lines);
  };
  const writePending = () => send(nextBatchSize(used));
  /** Request lines wait a little to share a write… */
  const writeRequestLine = (line: string) => {
    if (closed) return;
    // A UTF-8 byte per UTF-16 unit, up to three: what fits for sure, without measuring the line.
    if (used + 3 * line.length > batch.length) {
      // Lines come faster than the last window's: the next batch is as large as allowed.
      if (used > 0) send(REQUEST_LINE_BATCH_BYTES);
      else if (batch.length < REQUEST_LINE_BATCH_BYTES) batch = Buffer.allocUnsafeSlow(REQUEST_LINE_BATCH_BYTES);
      if (3 * line.length > batch.length) {
        stream.write(Buffer.from(line));
        return;
      }
    }
    used += batch.write(line, used, 'utf8');
    // unref: a pending log line never keeps the process alive (shutdown flushes).
    if (timer === null) timer = setTimeout(writePending, REQUEST_LINE_WINDOW_MS).unref();
  };
  /** …other lines go out at once, after the request lines before them. */
  const direct = {
    write(line: string) {
      if (closed) return;
      writePending();
      stream.write(Buffer.from(line));
    },
  };
  const requestLine = requestLineWriter();

  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, direct);
  return {
    pino: logger,
    exchange(entry) {
      if (logger.isLevelEnabled('info')) writeRequestLine(requestLine(entry));
    },
    flush() {
      writePending();
      if (typeof stream.flushSync === 'function') {
        try {
          stream.flushSync();
        } catch {
          // not ready yet (nothing written): nothing to flush
        }
      }
    },
    close() {
      if (closed) return Promise.resolve();
      writePending();
      closed = true;
      if (typeof stream.end !== 'function' || typeof stream.once !== 'function') return Promise.resolve();
      const sink = stream as Required<ByteSink>;
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(giveUp);
          resolve();
        };
        const giveUp = setTimeout(done, CLOSE_WAIT_MS).unref();
        for (const event of ['close', 'finish', 'error']) sink.once(event, done);
        try {
          sink.end();
        } catch {
          done(); // already ended or destroyed
        }
      });
    },
  };
}

/** Where lines go: sonic-boom in buffer mode, or a stream given to createLogger. */
interface ByteSink {
  write(chunk: Uint8Array): unknown;
  flushSync?: () => void;
  end?: () => void;
  once?: (event: string, listener: () => void) => unknown;
}

/** How many connections' fixed part of the line is remembered (by client address), at most. */
const CONNECTION_PARTS_KEPT = 1024;

/**
 * Builds a request's log line: the JSON of `{level, time, listener, remote, clientCN, method, path,
 * contentID, messageID, session, scenario, rule, status, fault, durationMs, valid, upstreamMs,
 * upstreamFailure, msg: 'request'}` with absent (undefined) keys left out, byte for byte what
 * JSON.stringify makes of that object, built by concatenation instead: the part that is the same
 * for every request of a connection (listener to path) is made once per connection.
 */
export function requestLineWriter(): (entry: JournalEntry) => string {
  const connectionParts = new Map<string, { listener: string; clientCN: string | null; method: string; path: string; text: string }>();
  const connectionPart = (entry: JournalEntry): string => {
    const known = connectionParts.get(entry.remote);
    if (known !== undefined && known.listener === entry.listener && known.clientCN === entry.clientCN && known.method === entry.method && known.path === entry.path)
      return known.text;
    const text = `,"listener":${JSON.stringify(entry.listener)},"remote":${JSON.stringify(entry.remote)},"clientCN":${JSON.stringify(entry.clientCN)},"method":${JSON.stringify(entry.method)},"path":${JSON.stringify(entry.path)}`;
    if (connectionParts.size >= CONNECTION_PARTS_KEPT) connectionParts.clear();
    connectionParts.set(entry.remote, { listener: entry.listener, clientCN: entry.clientCN, method: entry.method, path: entry.path, text });
    return text;
  };
  return (entry) => {
    const request = entry.request as Record<string, unknown> | null;
    const response = entry.response;
    const upstream = entry.upstream;
    let line = '{"level":' + INFO + ',"time":"' + isoNow() + '"' + connectionPart(entry);
    if (request !== null && typeof request === 'object') {
      line += field('contentID', request.contentID);
      line += field('messageID', request.messageID);
    }
    // Only for a request that belonged to a session.
    if (entry.session !== null) line += ',"session":' + JSON.stringify(entry.session);
    line += ',"scenario":' + JSON.stringify(entry.scenario) + ',"rule":' + JSON.stringify(entry.rule) + ',"status":' + JSON.stringify(response.status);
    if (response.fault !== null) line += ',"fault":' + JSON.stringify(response.fault);
    line += ',"durationMs":' + JSON.stringify(entry.durationMs) + ',"valid":' + entry.valid;
    // Record mode only.
    if (upstream !== undefined) {
      line += field('upstreamMs', upstream.ms);
      if (upstream.outcome === 'failed') line += field('upstreamFailure', upstream.reason);
    }
    return line + ',"msg":"request"}\n';
  };
}

/** `,"name":value` as JSON.stringify writes an object's key: nothing for a value it leaves out. */
function field(name: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? '' : ',"' + name + '":' + json;
}
