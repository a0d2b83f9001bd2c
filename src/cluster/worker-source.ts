/** One worker's journal as a source of the primary's federation: each question is one IPC question. */
import type { JournalEntry } from '../journal/entry.js';
import type { JournalFilter } from '../journal/journal.js';
import type { TlsFailure, TlsFailureListing } from '../journal/tls-failures.js';
import type { JournalCounts, JournalSource, ReportInput, SourceListener } from '../federation/source.js';
import type { ReportScope } from '../federation/report-input.js';
import type { Asker, Tell } from './ipc.js';

export class WorkerSource implements JournalSource {
  private readonly listeners = new Set<SourceListener>();
  /** Entries the worker's journal held when it last said (its size once a second, or any counts it answered): what its death loses. */
  held = 0;
  /** Resolves once the worker sends its entries (after the last subscribe). */
  subscribed: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly worker: Asker,
  ) {}

  query(filter: JournalFilter): Promise<JournalEntry[]> {
    return this.worker.ask('query', filter);
  }
  count(filter: JournalFilter): Promise<number> {
    return this.worker.ask('count', filter);
  }
  matchingIds(filter: JournalFilter): Promise<number[]> {
    return this.worker.ask('matchingIds', filter);
  }
  async counts(): Promise<JournalCounts> {
    const counts = await this.worker.ask<JournalCounts>('counts');
    this.held = counts.length;
    return counts;
  }
  async clear(): Promise<void> {
    await this.worker.ask('clear');
  }
  report(scope: ReportScope): Promise<ReportInput> {
    return this.worker.ask('report', scope);
  }
  tlsFailures(): Promise<TlsFailureListing> {
    return this.worker.ask('tlsFailures');
  }
  async clearTlsFailures(): Promise<void> {
    await this.worker.ask('clearTlsFailures');
  }

  /** The worker sends its entries only while someone here listens. */
  subscribe(listener: SourceListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.subscribed = this.worker.ask('subscribe').catch(() => {});
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.worker.ask('unsubscribe').catch(() => {});
    };
  }

  /** News from the worker (entries while subscribed). */
  told(message: Tell): void {
    for (const listener of this.listeners) {
      if (message.kind === 'appended') listener.appended?.(message.data as JournalEntry);
      else if (message.kind === 'ended') listener.ended?.(message.data as JournalEntry);
      else if (message.kind === 'cleared') listener.cleared?.();
      else if (message.kind === 'tlsFailure') listener.tlsFailure?.(message.data as TlsFailure);
    }
  }
}
