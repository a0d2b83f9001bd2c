/** `--store`: the Redis connections, the shared rule state and the shared changes of one replica. */
import type { Redis } from 'ioredis';
import type { SharedRuleState } from '../scenario/runtime/state/shared.js';
import { openRedis } from './connect.js';
import { RedisRuleState } from './redis-rule-state.js';
import { SharedChanges, type ChangeLog, type LocalReplica } from './shared-changes.js';
import type { StoreUrl } from './url.js';

export interface OpenedStore {
  readonly rules: SharedRuleState;
  /** Set once the replica's scenarios and sessions exist (start()). */
  changes: SharedChanges | null;
  /** Subscribe, catch up with what is stored, and keep in line from then on. */
  start(replica: string, local: LocalReplica, log: ChangeLog): Promise<SharedChanges>;
  close(): void;
}

export function openStore(url: StoreUrl): OpenedStore {
  const redis = quietClient(url, 'entitlement-mock');
  const subscriber = quietClient(url, 'entitlement-mock-changes');
  const rules = new RedisRuleState(redis, describe(url));
  const opened: OpenedStore = {
    rules,
    changes: null,
    async start(replica, local, log) {
      const changes = new SharedChanges(replica, redis, subscriber, rules, local, log);
      opened.changes = changes;
      await changes.start();
      return changes;
    },
    close() {
      opened.changes?.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
  return opened;
}

/** The shared rule state alone, on a connection of its own: what a --workers worker asks directly (its primary shares the changes). */
export interface OpenedRuleState {
  readonly rules: SharedRuleState;
  close(): void;
}

/**
 * Connect before the first request needs it (a client that fails fast queues nothing). A Redis
 * that does not answer yet is no reason not to start: the client keeps trying, and the rules
 * that need it answer 503 meanwhile (the replica's primary says so in its log).
 */
export async function openRuleState(url: StoreUrl, name: string): Promise<OpenedRuleState> {
  const redis = quietClient(url, name);
  await redis.connect().catch(() => undefined);
  return { rules: new RedisRuleState(redis, describe(url)), close: () => redis.disconnect() };
}

/** How rules, admin answers and logs name the store: `Redis at redis://host:port/db`. */
function describe(url: StoreUrl): string {
  return `Redis at ${url.display}`;
}

function quietClient(url: StoreUrl, name: string): Redis {
  const client = openRedis(url, name);
  // Connection errors are the failures rules and admin calls report (503); ioredis would also print them unhandled.
  client.on('error', () => undefined);
  return client;
}
