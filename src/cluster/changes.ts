/**
 * The admin changes a --workers primary makes to its scenarios, sessions and seen messageIDs,
 * as messages its workers apply in the same order (IPC keeps the order per worker), so every
 * process answers from the same rules. The primary awaits every worker's acknowledgement
 * before its admin answer (ClusterRole.settle).
 */
import type { MockCore } from '../server/mock.js';
import { scopesResetBy, type SharedChange } from '../store/shared-changes.js';
import type { MemoryRuleState } from '../scenario/runtime/state/shared.js';

export type Change =
  | { kind: 'activate'; name: string }
  | { kind: 'upload'; text: string; activate: boolean }
  | { kind: 'remove'; name: string }
  | { kind: 'reload' }
  | { kind: 'clear-scenario-state' }
  | { kind: 'session-create'; text: string; id: string; createdAt: number }
  | { kind: 'session-delete'; id: string }
  | { kind: 'sessions-clear' }
  | { kind: 'session-states-clear' }
  | { kind: 'seen-clear' };

export async function applyChange({ scenarios, sessions, exchange }: MockCore, change: Change): Promise<void> {
  switch (change.kind) {
    case 'activate':
      return void scenarios.setActive(change.name);
    case 'upload':
      return void scenarios.post(change.text, { activate: change.activate });
    case 'remove':
      return void scenarios.remove(change.name);
    case 'reload':
      return scenarios.reload();
    case 'clear-scenario-state':
      return void scenarios.clearState();
    case 'session-create':
      return void sessions.create(change.text, { id: change.id, createdAt: change.createdAt });
    case 'session-delete':
      return void sessions.delete(change.id);
    case 'sessions-clear':
      return sessions.clear();
    case 'session-states-clear':
      return void sessions.clearStates();
    case 'seen-clear':
      return exchange.seenMessageIds.clear();
  }
}

/**
 * In the primary: every change its scenarios, sessions and seen messageIDs take is also sent
 * to `broadcast` (which sends it to every worker and keeps the acknowledgement for settle()).
 * The objects stay the ones the admin routes and conformance runs already use.
 */
export function broadcastChanges({ scenarios, sessions, exchange }: MockCore, broadcast: (change: Change) => void): void {
  const setActive = scenarios.setActive.bind(scenarios);
  scenarios.setActive = (name) => {
    const outcome = setActive(name);
    if (outcome.ok) broadcast({ kind: 'activate', name });
    return outcome;
  };
  const post = scenarios.post.bind(scenarios);
  scenarios.post = (text, options) => {
    const outcome = post(text, options);
    if (outcome.ok) broadcast({ kind: 'upload', text, activate: options.activate });
    return outcome;
  };
  const remove = scenarios.remove.bind(scenarios);
  scenarios.remove = (name) => {
    const outcome = remove(name);
    if (outcome.ok) broadcast({ kind: 'remove', name });
    return outcome;
  };
  const reload = scenarios.reload.bind(scenarios);
  scenarios.reload = async () => {
    await reload();
    broadcast({ kind: 'reload' });
  };
  const clearState = scenarios.clearState.bind(scenarios);
  scenarios.clearState = () => {
    broadcast({ kind: 'clear-scenario-state' });
    return clearState();
  };
  const create = sessions.create.bind(sessions);
  sessions.create = (text, as) => {
    const outcome = create(text, as);
    if (outcome.kind === 'created') broadcast({ kind: 'session-create', text, id: outcome.session.id, createdAt: Date.parse(outcome.session.createdAt) });
    return outcome;
  };
  const remove1 = sessions.delete.bind(sessions);
  sessions.delete = (id) => {
    const removed = remove1(id);
    if (removed) broadcast({ kind: 'session-delete', id });
    return removed;
  };
  const clear = sessions.clear.bind(sessions);
  sessions.clear = () => {
    clear();
    broadcast({ kind: 'sessions-clear' });
  };
  const clearStates = sessions.clearStates.bind(sessions);
  sessions.clearStates = () => {
    broadcast({ kind: 'session-states-clear' });
    return clearStates();
  };
  const seen = exchange.seenMessageIds;
  const clearSeen = seen.clear.bind(seen);
  seen.clear = () => {
    clearSeen();
    broadcast({ kind: 'seen-clear' });
  };
}

/** In the primary: what the admin routes announce resets the counters and states it holds for the workers. */
export async function resetSharedState(state: MemoryRuleState, change: SharedChange): Promise<void> {
  const scopes = scopesResetBy(change);
  if (scopes === 'all') state.clearAll();
  else for (const scope of scopes) await state.clear(scope, 'counters-and-states');
}
