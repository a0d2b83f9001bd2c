/**
 * Shared rule state: where a rule set's counters (sequence steps, `times:`, `perKey:`) and
 * per-key states live when several processes answer as one — replicas sharing Redis
 * (`--store`), workers sharing their primary (`--workers`).
 *
 * Without one (the default) a rule set keeps its counters and states in its own objects
 * (counts.ts, store.ts, CompiledRule) and answers synchronously, as it always did. With one,
 * only what needs shared things asks it: a rule with `times:`, a sequence or `perKey:`, and
 * a scenario's per-key state. A request answered by a rule that needs none of these is
 * answered synchronously without asking (scenario-runtime.ts, shared-answer.ts).
 *
 * Every operation is atomic on the holder's side (a check-and-count is one operation, never a
 * read then a write), and may reject (the holder is unreachable): the request is then
 * answered 503 naming the holder (shared-answer.ts), never hangs and never crashes anything.
 */
import type { StateRecord } from './store.js';

/**
 * A rule set's name in the shared state: `scenario:<name>` or `session:<id>`. Every
 * process compiles the same rule sets from the same definitions, so the same scope and
 * counter names meet in the holder.
 */
export type StateScope = string;

export interface SharedRuleState {
  /** Who holds the state, for messages: e.g. `Redis at redis://10.0.0.5:6379/0`. */
  readonly description: string;
  /**
   * Count one answer of `counter` if it has counted fewer than `limit` (Infinity: no limit):
   * resolves to its count before (from 0), or null when used up (nothing counted).
   */
  take(scope: StateScope, counter: string, limit: number): Promise<number | null>;
  /** Each counter's count (0 when never counted): near misses of unmatched requests. */
  counts(scope: StateScope, counters: readonly string[]): Promise<number[]>;
  /** A key's state, or null (none, or expired). */
  getState(scope: StateScope, key: string): Promise<string | null>;
  /** Set a key's state; with ttlMs it expires that long after (everywhere at once). */
  setState(scope: StateScope, key: string, state: string, ttlMs: number | null): Promise<void>;
  deleteState(scope: StateScope, key: string): Promise<void>;
  /** Live states of a rule set, oldest first (GET /admin/state). */
  listStates(scope: StateScope): Promise<[string, StateRecord][]>;
  /** Forget a rule set's states (and, with `counters`, its counters); resolves to how many keys held a state. */
  clear(scope: StateScope, what: 'states' | 'counters-and-states'): Promise<number>;
}

/** The scope of a scenario's counters and states. */
export function scenarioScope(name: string): StateScope {
  return `scenario:${name}`;
}

/** The scope of a session's counters and states. */
export function sessionScope(id: string): StateScope {
  return `session:${id}`;
}

/** A rule set and where its shared state lives: what compileScenario takes to share a rule set. */
export interface SharedScope {
  readonly store: SharedRuleState;
  readonly scope: StateScope;
}

/** The name of a counter: a rule's, or a rule's for one key value of `perKey:` (null: requests without the key). */
export function counterName(rule: string, perKey: boolean, key: string | null): string {
  return perKey ? JSON.stringify([rule, key]) : rule;
}

/**
 * The shared state kept in this process's memory, with the same semantics as the local
 * counters and StateStore (same capacity rules do not apply: it is not bounded). Used by
 * tests of the shared path, and by a primary that holds the state for its workers (IPC).
 */
export class MemoryRuleState implements SharedRuleState {
  readonly description: string = 'the in-memory shared state';
  private readonly counters = new Map<StateScope, Map<string, number>>();
  private readonly states = new Map<StateScope, Map<string, StateRecord>>();

  constructor(private readonly clock: () => number = Date.now) {}

  takeNow(scope: StateScope, counter: string, limit: number): number | null {
    let counts = this.counters.get(scope);
    if (counts === undefined) this.counters.set(scope, (counts = new Map()));
    const count = counts.get(counter) ?? 0;
    if (count >= limit) return null;
    counts.set(counter, count + 1);
    return count;
  }

  async take(scope: StateScope, counter: string, limit: number): Promise<number | null> {
    return this.takeNow(scope, counter, limit);
  }

  async counts(scope: StateScope, counters: readonly string[]): Promise<number[]> {
    const counts = this.counters.get(scope);
    return counters.map((counter) => counts?.get(counter) ?? 0);
  }

  getStateNow(scope: StateScope, key: string): string | null {
    const states = this.states.get(scope);
    const record = states?.get(key);
    if (record === undefined) return null;
    if (record.expiresAt !== null && record.expiresAt <= this.clock()) {
      states!.delete(key);
      return null;
    }
    return record.state;
  }

  async getState(scope: StateScope, key: string): Promise<string | null> {
    return this.getStateNow(scope, key);
  }

  async setState(scope: StateScope, key: string, state: string, ttlMs: number | null): Promise<void> {
    let states = this.states.get(scope);
    if (states === undefined) this.states.set(scope, (states = new Map()));
    const now = this.clock();
    states.delete(key);
    states.set(key, { state, setAt: now, expiresAt: ttlMs === null ? null : now + ttlMs });
  }

  async deleteState(scope: StateScope, key: string): Promise<void> {
    this.states.get(scope)?.delete(key);
  }

  async listStates(scope: StateScope): Promise<[string, StateRecord][]> {
    const now = this.clock();
    return [...(this.states.get(scope) ?? [])].filter(([, record]) => record.expiresAt === null || record.expiresAt > now);
  }

  /** Forget every rule set's counters and states (a reset). */
  clearAll(): void {
    this.counters.clear();
    this.states.clear();
  }

  async clear(scope: StateScope, what: 'states' | 'counters-and-states'): Promise<number> {
    const size = (await this.listStates(scope)).length;
    this.states.delete(scope);
    if (what === 'counters-and-states') this.counters.delete(scope);
    return size;
  }
}
