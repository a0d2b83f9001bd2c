/**
 * Waiting on the journal instead of polling it: a wait ends as soon as `count` entries match
 * its filter (those already recorded count too), or when its time runs out, or at once when
 * the journal is cleared, the mock is reset or shut down, or the session it filters on ends.
 *
 * New entries are matched one at a time as they are appended (the target's subscribe), never by
 * rescanning the journal; the target is subscribed to only while some wait is pending, so a
 * mock nobody waits on pays nothing per request. The target is the journal federation
 * (federation/): entries of every journal source count, each once (by source and id).
 */
import { Type, type Static } from '@sinclair/typebox';
import { entryMatches, type JournalFilter } from './journal.js';
import type { JournalEntry } from './entry.js';

/** The longest a wait may last. */
export const MAX_WAIT_MS = 60_000;

/**
 * Why a wait ended: `matched` (enough entries), `timeout` (the time ran out first), `cleared`
 * (DELETE /admin/requests emptied the journal), `reset` (POST /admin/reset), `shutdown` (the
 * mock is stopping), `session-ended` (the wait filtered on a session that was deleted or expired).
 */
export const WaitEndReason = Type.Union([
  Type.Literal('matched'),
  Type.Literal('timeout'),
  Type.Literal('cleared'),
  Type.Literal('reset'),
  Type.Literal('shutdown'),
  Type.Literal('session-ended'),
]);
export type WaitEndReason = Static<typeof WaitEndReason>;

/** How a wait ended (the `waited` part of a journal answer that asked to wait). */
export const WaitOutcome = Type.Object(
  {
    satisfied: Type.Boolean({ description: 'True when `count` matching entries were there: the reason is then `matched`' }),
    reason: WaitEndReason,
    waitedMs: Type.Integer({ minimum: 0, description: 'How long the wait lasted, in whole milliseconds' }),
  },
  { $id: 'WaitOutcome', additionalProperties: false, description: 'How a wait ended: matched, timeout, cleared, reset, shutdown or session-ended' },
);
export type WaitOutcome = Static<typeof WaitOutcome>;

export interface WaitRequest {
  filter: JournalFilter;
  /** How many matching entries to wait for (at least 1). */
  count: number;
  timeoutMs: number;
  /** Aborted when whoever waits went away: the wait is dropped and resolves with null. */
  signal?: AbortSignal;
  /** Count what the sources that answer hold when some do not (else the wait fails with their names). */
  partial?: boolean;
}

/** What waits count on: the entries matching now (each named `source#id`), and news of the next ones. */
export interface WaitTarget {
  matchingKeys(filter: JournalFilter, partial?: boolean): Promise<{ keys: string[] }>;
  subscribe(listener: { appended?(entry: JournalEntry, source: string): void; cleared?(source: string): void }): () => void;
}

interface PendingWait {
  readonly filter: JournalFilter;
  readonly count: number;
  /** The matching entries seen (`source#id`): an entry told while the first count was under way counts once. */
  readonly matched: Set<string>;
  readonly startedAt: number;
  finish(reason: WaitEndReason | null): void;
}

/** Identifies an entry across journal sources (ids are unique within one source). */
export function entryKey(source: string, id: number): string {
  return `${source}#${id}`;
}

export class JournalWaits {
  private readonly pending = new Set<PendingWait>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly target: WaitTarget) {}

  /** How many waits are pending. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Resolves with how the wait ended, or null when its signal aborted it; rejects when a source
   * does not answer the first count (SourcesUnavailable) unless `partial`.
   */
  async wait({ filter, count, timeoutMs, signal, partial = false }: WaitRequest): Promise<WaitOutcome | null> {
    const startedAt = performance.now();
    const { limit: _limit, ...matching } = filter;
    if (signal?.aborted) return null;
    let resolveWait: (outcome: WaitOutcome | null) => void = () => {};
    const outcome = new Promise<WaitOutcome | null>((resolve) => (resolveWait = resolve));
    const onAbort = () => wait.finish(null);
    const timer = setTimeout(() => wait.finish('timeout'), timeoutMs);
    timer.unref();
    const wait: PendingWait = {
      filter: matching,
      count,
      matched: new Set(),
      startedAt,
      finish: (reason) => {
        if (!this.pending.delete(wait)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.size === 0) this.stopListening();
        resolveWait(reason === null ? null : { satisfied: reason === 'matched', reason, waitedMs: Math.round(performance.now() - startedAt) });
      },
    };
    // Listening before counting: an entry appended meanwhile is in one of the two, or both (counted once).
    this.pending.add(wait);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.startListening();
    try {
      const { keys } = await this.target.matchingKeys(matching, partial);
      for (const key of keys) wait.matched.add(key);
    } catch (error) {
      wait.finish(null);
      throw error;
    }
    if (wait.matched.size >= count) wait.finish('matched');
    return outcome;
  }

  /** End every pending wait now (reset, shutdown). */
  endAll(reason: 'cleared' | 'reset' | 'shutdown'): void {
    for (const wait of [...this.pending]) wait.finish(reason);
  }

  /** End the waits filtered on this session (it was deleted or expired: nothing more will match). */
  endSession(id: string): void {
    for (const wait of [...this.pending]) if (wait.filter.session === id) wait.finish('session-ended');
  }

  private startListening(): void {
    this.unsubscribe ??= this.target.subscribe({
      appended: (entry, source) => this.appended(entry, source),
      cleared: () => this.endAll('cleared'),
    });
  }

  private stopListening(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private appended(entry: JournalEntry, source: string): void {
    for (const wait of this.pending) {
      if (!entryMatches(entry, wait.filter)) continue;
      wait.matched.add(entryKey(source, entry.id));
      if (wait.matched.size >= wait.count) wait.finish('matched');
    }
  }
}
