/**
 * This process's own journal and refusals as a source of the federation. Synchronous
 * underneath: answering through a promise costs a microtask per admin question, never
 * anything on the request path (subscribe() is the journal's own, used only while someone listens).
 */
import type { Journal, JournalFilter } from '../journal/journal.js';
import type { JournalEntry } from '../journal/entry.js';
import type { TlsFailure, TlsFailureListing, TlsFailureLog } from '../journal/tls-failures.js';
import { inScope } from '../report/scope.js';
import type { JournalCounts, JournalSource, ReportInput, SourceListener } from './source.js';
import type { ReportScope } from './report-input.js';

/** Where the local source hears of exchanges that ended and of refusals (the mock's observers call these). */
export class LocalEvents {
  private listeners: SourceListener[] = [];

  get listening(): boolean {
    return this.listeners.length > 0;
  }

  add(listener: SourceListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((each) => each !== listener);
    };
  }

  ended(entry: JournalEntry): void {
    if (this.listeners.length > 0) for (const listener of this.listeners) listener.ended?.(entry);
  }

  tlsFailure(failure: TlsFailure): void {
    if (this.listeners.length > 0) for (const listener of this.listeners) listener.tlsFailure?.(failure);
  }
}

export class LocalSource implements JournalSource {
  readonly events = new LocalEvents();

  constructor(
    private readonly journal: Journal,
    private readonly tlsFailureLog: TlsFailureLog,
    readonly name = 'local',
  ) {}

  async query(filter: JournalFilter): Promise<JournalEntry[]> {
    return this.journal.query(filter);
  }

  async count(filter: JournalFilter): Promise<number> {
    return this.journal.count(filter);
  }

  async matchingIds(filter: JournalFilter): Promise<number[]> {
    return this.journal.matchingIds(filter);
  }

  async counts(): Promise<JournalCounts> {
    return journalCounts(this.journal);
  }

  async clear(): Promise<void> {
    this.journal.clear();
  }

  async report(scope: ReportScope): Promise<ReportInput> {
    return reportInput(this.journal, this.tlsFailureLog, scope);
  }

  async tlsFailures(): Promise<TlsFailureListing> {
    return this.tlsFailureLog.toJSON();
  }

  async clearTlsFailures(): Promise<void> {
    this.tlsFailureLog.clear();
  }

  subscribe(listener: SourceListener): () => void {
    const fromJournal = this.journal.subscribe({
      ...(listener.appended ? { appended: listener.appended.bind(listener) } : {}),
      ...(listener.cleared ? { cleared: listener.cleared.bind(listener) } : {}),
    });
    const fromEvents = this.events.add(listener);
    return () => {
      fromJournal();
      fromEvents();
    };
  }
}

export function journalCounts(journal: Journal): JournalCounts {
  const { length, total, dropped, capacity } = journal;
  return { length, total, dropped, capacity };
}

/** A journal's entries in a report's scope (all of them without a scope: no copy) and its refusals (none with a scope). */
export function reportInput(journal: Journal, tlsFailures: TlsFailureLog, { session, since }: ReportScope): ReportInput {
  const scoped = session !== null || since !== null;
  return {
    entries: scoped ? [...journal.entries()].filter((entry) => inScope(entry, session, since)) : journal.entries(),
    dropped: journal.dropped,
    // Refused connections belong to no session and no entry: only a report on everything counts them.
    wrongRefusals: scoped ? {} : tlsFailures.countsOfWrongRefusals(),
    troubleCertificatesRefused: scoped ? 0 : tlsFailures.troubleCertificatesRefused,
  };
}
