/** With --store: admin changes are announced to the other replicas before the answer; a store that does not answer gives a 503. */
import type { SharedChange } from '../store/shared-changes.js';
import type { SharedRuleState } from '../scenario/runtime/state/shared.js';
import type { ErrorAnswer } from './api/define.js';

/** What the admin API uses of the shared store (null without --store). */
export interface SharedStore {
  /** Store and publish a change applied here; resolves once the other replicas applied it. */
  announce(change: SharedChange): Promise<void>;
  /** Where shared counters and states live (GET and DELETE /admin/state read and clear them there). */
  readonly rules: SharedRuleState;
}

/** Announce a change; the 503 to answer when the store does not take it, else null. */
export async function announced(shared: SharedStore | null, change: SharedChange): Promise<{ status: 503; body: ErrorAnswer } | null> {
  if (shared === null) return null;
  try {
    await shared.announce(change);
    return null;
  } catch (error) {
    return storeUnavailable(shared, error, 'the change holds on this replica only; retry it once the store answers');
  }
}

export function storeUnavailable(shared: SharedStore, error: unknown, consequence: string): { status: 503; body: ErrorAnswer } {
  const cause = error instanceof Error ? error.message : String(error);
  return { status: 503, body: { error: 'service unavailable', message: `${shared.rules.description} did not answer (${cause}): ${consequence}` } };
}
