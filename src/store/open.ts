/** `--store`: the Redis connections, the shared rule state and the shared changes of one replica. */
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
  const redis = openRedis(url, 'entitlement-mock');
  const subscriber = openRedis(url, 'entitlement-mock-changes');
  // Connection errors are the failures rules and admin calls report (503); ioredis would also print them unhandled.
  for (const client of [redis, subscriber]) client.on('error', () => undefined);
  const rules = new RedisRuleState(redis, `Redis at ${url.display}`);
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
