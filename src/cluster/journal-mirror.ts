/**
 * In a --workers primary: a copy of the workers' journal entries for conformance runs, whose
 * verdicts read a journal synchronously (conformance/runs.ts). It listens to the federation only
 * while a run exists, so entries cross from the workers only then; each entry keeps its id, and
 * its duration is filled in when the worker says the exchange ended.
 */
import { Journal } from '../journal/journal.js';
import type { KeptEntry } from '../journal/kept-entry.js';
import type { JournalFederation } from '../federation/federation.js';
import { entryKey } from '../journal/waits.js';

export class JournalMirror {
  readonly journal: Journal;
  /** The id the next append takes: the mirrored entry's own. */
  private appending = 0;
  /** Mirrored entries whose exchange has not ended yet, by source and id. */
  private readonly open = new Map<string, KeptEntry>();
  private stop: (() => void) | null = null;
  private federation: Pick<JournalFederation, 'subscribe'> | null = null;

  constructor(capacity: number) {
    this.journal = new Journal(capacity, undefined, () => this.appending);
  }

  /** Where the entries come from (the primary's federation, made after the mirror). */
  bind(federation: Pick<JournalFederation, 'subscribe'>): void {
    this.federation = federation;
  }

  get listening(): boolean {
    return this.stop !== null;
  }

  /** Mirror from now on (or stop mirroring and forget what was mirrored). */
  mirror(wanted: boolean): void {
    if (wanted && this.stop === null && this.federation !== null) {
      this.stop = this.federation.subscribe({
        appended: (entry, source) => {
          this.appending = entry.id;
          const kept = this.journal.append(entry);
          if (entry.durationMs === null) this.open.set(entryKey(source, entry.id), kept);
        },
        ended: (entry, source) => {
          const mirrored = this.open.get(entryKey(source, entry.id));
          if (mirrored === undefined) return;
          this.open.delete(entryKey(source, entry.id));
          mirrored.durationMs = entry.durationMs;
        },
        cleared: () => {
          this.journal.clear();
          this.open.clear();
        },
      });
    } else if (!wanted && this.stop !== null) {
      this.stop();
      this.stop = null;
      this.journal.clear();
      this.open.clear();
    }
  }
}
