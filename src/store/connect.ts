/**
 * The `--store redis://HOST:PORT[/DB]` connection: a well-kept client (ioredis) set up so that a
 * request never waits on a dead Redis: commands time out (COMMAND_TIMEOUT_MS), nothing queues
 * while disconnected (a command then fails at once), and the client keeps reconnecting in the
 * background, so everything recovers by itself when Redis returns.
 */
import { Redis } from 'ioredis';
import type { StoreUrl } from './url.js';

/** The longest a request or an admin call waits on one Redis command. */
export const COMMAND_TIMEOUT_MS = 1000;
/** Reconnection attempts back off up to this. */
const MAX_RECONNECT_DELAY_MS = 500;

/** A client that fails fast while Redis is away and reconnects by itself. */
export function openRedis(url: StoreUrl, name: string): Redis {
  return new Redis({
    host: url.host,
    port: url.port,
    db: url.db,
    username: url.username,
    password: url.password,
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 50, MAX_RECONNECT_DELAY_MS),
  });
}
