/**
 * JSON logs on stdout (pino). Three things keep a request's log line cheap (bench/README.md
 * has the figures):
 * - the per-request line is built with one JSON.stringify in pino's own line format
 *   (`{"level":30,"time":…,…,"msg":"request"}`) instead of going through pino's generic
 *   serializer;
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
  /** Write out whatever is buffered (at shutdown). */
  flush(): void;
}

/** pino's number for `info`. */
const INFO = 30;
/** The longest a request's log line waits before it is written. */
export const REQUEST_LINE_WINDOW_MS = 10;
/** Gathered request lines are written at once when they reach this size. */
const REQUEST_LINE_BATCH_BYTES = 64 * 1024;

export function createLogger(level: LogLevel, destination: NodeJS.WritableStream | number = 1): MockLogger {
  const stream =
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination;

  let pending = '';
  let timer: NodeJS.Timeout | null = null;
  const writePending = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (pending === '') return;
    const lines = pending;
    pending = '';
    stream.write(lines);
  };
  /** Request lines wait a little to share a write… */
  const writeRequestLine = (line: string) => {
    pending += line;
    if (pending.length >= REQUEST_LINE_BATCH_BYTES) writePending();
    // unref: a pending log line never keeps the process alive (shutdown flushes).
    else if (timer === null) timer = setTimeout(writePending, REQUEST_LINE_WINDOW_MS).unref();
  };
  /** …other lines go out at once, after the request lines before them. */
  const direct = {
    write(line: string) {
      if (pending !== '') writePending();
      stream.write(line);
    },
  };

  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, direct);
  return {
    pino: logger,
    exchange(entry) {
      if (!logger.isLevelEnabled('info')) return;
      const request = entry.request as Record<string, unknown> | null;
      writeRequestLine(
        `${JSON.stringify({
          level: INFO,
          time: isoNow(),
          listener: entry.listener,
          remote: entry.remote,
          clientCN: entry.clientCN,
          method: entry.method,
          path: entry.path,
          contentID: request?.contentID,
          messageID: request?.messageID,
          // Only for a request that belonged to a session (absent keys are left out of the line).
          session: entry.session ?? undefined,
          scenario: entry.scenario,
          rule: entry.rule,
          status: entry.response.status,
          fault: entry.response.fault ?? undefined,
          durationMs: entry.durationMs,
          valid: entry.valid,
          // Record mode only (absent keys are left out of the line).
          upstreamMs: entry.upstream?.ms,
          upstreamFailure: entry.upstream?.outcome === 'failed' ? entry.upstream.reason : undefined,
          msg: 'request',
        })}\n`,
      );
    },
    flush() {
      writePending();
      if ('flushSync' in stream && typeof stream.flushSync === 'function') {
        try {
          stream.flushSync();
        } catch {
          // not ready yet (nothing written): nothing to flush
        }
      }
    },
  };
}
