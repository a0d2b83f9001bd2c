/**
 * The shared state a request passes through after the listener: the active
 * scenario, the journal and its observers. One instance per running mock.
 */
import type { CompiledScenario } from '../scenario/runtime/engine.js';
import type { Journal } from '../journal/journal.js';
import type { JournalEntry } from '../journal/entry.js';
import type { SeenMessageIds } from '../journal/seen-message-ids.js';
import type { HeldExchanges } from '../respond/deliver.js';
import type { Recording } from '../record/recording.js';
import type { ClientIdentity } from '../protocol/types.js';
import type { SessionMatch } from '../session/store.js';

export interface ScenarioSource {
  /** The scenario answering right now (a single reference: swapped atomically on reload or switch). */
  active(): CompiledScenario;
}

export interface SessionSource {
  /** The session a request (valid or not: any parsed JSON, or null) belongs to, or null. */
  find(request: unknown, client: ClientIdentity): SessionMatch | null;
}

export interface ExchangeObserver {
  /** Called once when an exchange ends (response sent, fault done, or hung socket closed). */
  exchangeEnded(entry: JournalEntry): void;
}

export interface ExchangeState {
  scenarios: ScenarioSource;
  sessions: SessionSource;
  journal: Journal;
  seenMessageIds: SeenMessageIds;
  held: HeldExchanges;
  observers: ExchangeObserver[];
  /** Record mode: requests are forwarded to the real service instead of answered by scenarios. */
  forwarder: Pick<Recording, 'forward'> | null;
}
