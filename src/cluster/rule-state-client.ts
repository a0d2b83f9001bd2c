/** A worker's shared rule state: every operation is one question to the primary, which holds the state (MemoryRuleState). */
import type { SharedRuleState, StateScope } from '../scenario/runtime/state/shared.js';
import type { StateRecord } from '../scenario/runtime/state/store.js';
import type { Asker } from './ipc.js';

export class PrimaryRuleState implements SharedRuleState {
  readonly description = 'the cluster primary';

  constructor(private readonly primary: Asker) {}

  take(scope: StateScope, counter: string, limit: number): Promise<number | null> {
    // Infinity does not survive JSON: no limit travels as null.
    return this.primary.ask('state.take', scope, counter, Number.isFinite(limit) ? limit : null);
  }
  counts(scope: StateScope, counters: readonly string[]): Promise<number[]> {
    return this.primary.ask('state.counts', scope, counters);
  }
  getState(scope: StateScope, key: string): Promise<string | null> {
    return this.primary.ask('state.get', scope, key);
  }
  setState(scope: StateScope, key: string, state: string, ttlMs: number | null): Promise<void> {
    return this.primary.ask('state.set', scope, key, state, ttlMs);
  }
  deleteState(scope: StateScope, key: string): Promise<void> {
    return this.primary.ask('state.delete', scope, key);
  }
  listStates(scope: StateScope): Promise<[string, StateRecord][]> {
    return this.primary.ask('state.list', scope);
  }
  clear(scope: StateScope, what: 'states' | 'counters-and-states'): Promise<number> {
    return this.primary.ask('state.clear', scope, what);
  }
}
