/**
 * Waiting on the journal instead of polling it: a wait ends as soon as `count` entries match
 * its filter (those already recorded count too), or when its time runs out, or at once when
 * the journal is cleared, the mock is reset or shut down, or the session it filters on ends.
 *
 * New entries are matched one at a time as they are appended (Journal.subscribe), never by
 * rescanning the journal; the journal is subscribed to only while some wait is pending, so a
 * mock nobody waits on pays nothing per request.
 */
import { Type, type Static } from '@sinclair/typebox';
import { entryMatches, type Journal, type JournalFilter } from './journal.js';
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
}

interface PendingWait {
  readonly filter: JournalFilter;
  readonly count: number;
  matched: number;
  readonly startedAt: number;
  finish(reason: WaitEndReason | null): void;
}

export class JournalWaits {
  private readonly pending = new Set<PendingWait>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly journal: Journal) {}

  /** How many waits are pending. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves with how the wait ended, or null when its signal aborted it. */
  wait({ filter, count, timeoutMs, signal }: WaitRequest): Promise<WaitOutcome | null> {
    const startedAt = performance.now();
    const { limit: _limit, ...matching } = filter;
    const already = this.journal.count(matching);
    if (already >= count) return Promise.resolve({ satisfied: true, reason: 'matched', waitedMs: 0 });
    if (signal?.aborted) return Promise.resolve(null);

    return new Promise((resolve) => {
      const onAbort = () => wait.finish(null);
      const timer = setTimeout(() => wait.finish('timeout'), timeoutMs);
      timer.unref();
      const wait: PendingWait = {
        filter: matching,
        count,
        matched: already,
        startedAt,
        finish: (reason) => {
          if (!this.pending.delete(wait)) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (this.pending.size === 0) this.stopListening();
          resolve(reason === null ? null : { satisfied: reason === 'matched', reason, waitedMs: Math.round(performance.now() - startedAt) });
        },
      };
      this.pending.add(wait);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.startListening();
    });
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
    this.unsubscribe ??= this.journal.subscribe({
      appended: (entry) => this.appended(entry),
      cleared: () => this.endAll('cleared'),
    });
  }

  private stopListening(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private appended(entry: JournalEntry): void {
    for (const wait of this.pending) {
      if (entryMatches(entry, wait.filter) && ++wait.matched >= wait.count) wait.finish('matched');
    }
  }
}
