/**
 * POST /admin/reset on this process alone: waits end, the journal, sessions, seen messageIDs and
 * TLS refusals go, files are re-read and counters reset. With --store, what a replica does when
 * another replica was reset (the admin route itself resets every journal source it answers for).
 */
import type { JournalWaits } from '../journal/waits.js';
import type { SessionStore } from '../session/store.js';
import type { SeenMessageIds } from '../journal/seen-message-ids.js';
import type { JournalSource } from '../federation/source.js';

export interface Resettable {
  waits: Pick<JournalWaits, 'endAll'>;
  /** This process's journal and TLS refusals (listeners such as the live feed are told). */
  local: Pick<JournalSource, 'clear' | 'clearTlsFailures'>;
  sessions: Pick<SessionStore, 'clear'>;
  seenMessageIds: Pick<SeenMessageIds, 'clear'>;
  scenarios: { reload(): Promise<void> };
}

export async function resetLocally(parts: Resettable): Promise<void> {
  parts.waits.endAll('reset');
  await Promise.all([parts.local.clear(), parts.local.clearTlsFailures()]);
  parts.sessions.clear();
  parts.seenMessageIds.clear();
  await parts.scenarios.reload();
}
