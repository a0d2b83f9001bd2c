/**
 * The shared rule state in Redis (state/shared.ts's SharedRuleState), one atomic operation
 * each: a check-and-count is a Lua script (no read-modify-write race between replicas), a
 * state is one key whose lifetime is a Redis expiry (it ends for every replica at once).
 *
 * Keys (all under `em:scope:<scope>:` so that a reset or a switch can drop a rule set's):
 *   em:scope:<scope>:counts        hash: counter name -> count
 *   em:scope:<scope>:state:<key>   string: JSON {state, setAt}, PX = stateTtl
 */
import type { Redis } from 'ioredis';
import type { SharedRuleState, StateScope } from '../scenario/runtime/state/shared.js';
import type { StateRecord } from '../scenario/runtime/state/store.js';

const TAKE = `
local count = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local limit = tonumber(ARGV[2])
if limit >= 0 and count >= limit then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return count`;

/** The prefix of every key of a scope (also what a reset drops: `em:scope:*`). */
export const SCOPE_PREFIX = 'em:scope:';

const countsKey = (scope: StateScope) => `${SCOPE_PREFIX}${scope}:counts`;
const statePrefix = (scope: StateScope) => `${SCOPE_PREFIX}${scope}:state:`;

/** A SCAN MATCH pattern for keys starting with `prefix` (its glob characters escaped). */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

export class RedisRuleState implements SharedRuleState {
  constructor(
    private readonly redis: Redis,
    readonly description: string,
  ) {
    redis.defineCommand('emTake', { numberOfKeys: 1, lua: TAKE });
  }

  async take(scope: StateScope, counter: string, limit: number): Promise<number | null> {
    const take = (this.redis as unknown as { emTake(key: string, counter: string, limit: number): Promise<number> }).emTake;
    const count = await take.call(this.redis, countsKey(scope), counter, limit === Infinity ? -1 : limit);
    return count < 0 ? null : count;
  }

  async counts(scope: StateScope, counters: readonly string[]): Promise<number[]> {
    if (counters.length === 0) return [];
    const values = await this.redis.hmget(countsKey(scope), ...counters);
    return values.map((value) => (value === null ? 0 : Number(value)));
  }

  async getState(scope: StateScope, key: string): Promise<string | null> {
    const value = await this.redis.get(statePrefix(scope) + key);
    return value === null ? null : (JSON.parse(value) as { state: string }).state;
  }

  async setState(scope: StateScope, key: string, state: string, ttlMs: number | null): Promise<void> {
    const value = JSON.stringify({ state, setAt: Date.now() });
    if (ttlMs === null) await this.redis.set(statePrefix(scope) + key, value);
    else await this.redis.set(statePrefix(scope) + key, value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async deleteState(scope: StateScope, key: string): Promise<void> {
    await this.redis.del(statePrefix(scope) + key);
  }

  async listStates(scope: StateScope): Promise<[string, StateRecord][]> {
    const prefix = statePrefix(scope);
    const keys = await scanKeys(this.redis, prefixPattern(prefix));
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.get(key).pttl(key);
    const replies = (await pipeline.exec()) ?? [];
    const now = Date.now();
    const listed: [string, StateRecord][] = [];
    keys.forEach((key, i) => {
      const [valueError, value] = replies[2 * i] ?? [];
      const [, ttl] = replies[2 * i + 1] ?? [];
      if (valueError || typeof value !== 'string') return; // expired between SCAN and GET
      const { state, setAt } = JSON.parse(value) as { state: string; setAt: number };
      listed.push([key.slice(prefix.length), { state, setAt, expiresAt: typeof ttl === 'number' && ttl >= 0 ? now + ttl : null }]);
    });
    return listed.sort((a, b) => a[1].setAt - b[1].setAt);
  }

  async clear(scope: StateScope, what: 'states' | 'counters-and-states'): Promise<number> {
    const keys = await scanKeys(this.redis, prefixPattern(statePrefix(scope)));
    const states = keys.length;
    if (what === 'counters-and-states') keys.push(countsKey(scope));
    if (keys.length > 0) await this.redis.del(...keys);
    return states;
  }
}

/** Every key matching `pattern` (SCAN: never blocks Redis the way KEYS does). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
