/** JSON logs on stdout through pino's asynchronous destination: logging never blocks the request path. */
import { pino, type Logger } from 'pino';
import type { JournalEntry } from '../journal/entry.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface MockLogger {
  readonly pino: Logger;
  /** One line per exchange. */
  exchange(entry: JournalEntry): void;
  /** Write out whatever is buffered (at shutdown). */
  flush(): void;
}

export function createLogger(level: LogLevel, destination: NodeJS.WritableStream | number = 1): MockLogger {
  const stream =
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination;
  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return {
    pino: logger,
    exchange(entry) {
      if (!logger.isLevelEnabled('info')) return;
      const request = entry.request as Record<string, unknown> | null;
      logger.info(
        {
          listener: entry.listener,
          remote: entry.remote,
          clientCN: entry.clientCN,
          method: entry.method,
          path: entry.path,
          contentID: request?.contentID,
          messageID: request?.messageID,
          scenario: entry.scenario,
          rule: entry.rule,
          status: entry.response.status,
          fault: entry.response.fault ?? undefined,
          durationMs: entry.durationMs,
          valid: entry.valid,
        },
        'request',
      );
    },
    flush() {
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
