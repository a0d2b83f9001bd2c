/**
 * The journal federation: one object the admin API asks for journal queries, counts, waits,
 * the report card's input, the live feed and refused connections, answered over several
 * journal sources (source.ts: this process's journal, workers over IPC, peers over HTTP) and
 * merged in time order.
 *
 * Fail closed: a source that does not answer (an error, or nothing within the timeout) fails
 * the question with SourcesUnavailable naming it (the admin API answers 503), unless the caller
 * asked `partial`: then the answer is made of the sources that answered and lists the others
 * in `missing`.
 */
import type { JournalEntry } from '../journal/entry.js';
import type { JournalFilter } from '../journal/journal.js';
import type { TlsFailure, TlsFailureListing } from '../journal/tls-failures.js';
import { entryKey } from '../journal/waits.js';
import type { ReportScope } from './report-input.js';
import { askedByPeer } from './asked-by-peer.js';
import { SourceDidNotAnswer, isSourceDidNotAnswer, type JournalCounts, type JournalSource, type ReportInput, type SourceListener } from './source.js';

/** A source that has not answered after this long counts as not answering. */
export const SOURCE_TIMEOUT_MS = 5000;

/** Some sources did not answer a question that needed all of them. */
export class SourcesUnavailable extends Error {
  override readonly name = 'SourcesUnavailable';
  constructor(readonly missing: readonly string[]) {
    super(`${missing.length === 1 ? 'a journal source' : 'journal sources'} did not answer: ${missing.join(', ')}`);
  }
}

/**
 * SourcesUnavailable from any copy of this module: under the tests' loader (tsx) a module that is
 * also reached through a dynamic import (the admin app is) is loaded twice, and instanceof fails.
 */
export function isSourcesUnavailable(error: unknown): error is SourcesUnavailable {
  return error instanceof Error && error.name === 'SourcesUnavailable' && Array.isArray((error as Partial<SourcesUnavailable>).missing);
}

/** Told of what happens in any source; `source` names it (ids are unique within one source). */
export interface FederationListener {
  appended?(entry: JournalEntry, source: string): void;
  ended?(entry: JournalEntry, source: string): void;
  cleared?(source: string): void;
  tlsFailure?(failure: TlsFailure, source: string): void;
}

/** What every answer built from several sources adds: the sources left out (only with `partial`). */
export interface Missing {
  missing: string[];
}

export class JournalFederation {
  private sources: JournalSource[] = [];
  private readonly listeners = new Set<FederationListener>();
  /** Per source, how to stop listening to it (only while someone listens). */
  private readonly subscriptions = new Map<JournalSource, () => void>();

  constructor(
    sources: readonly JournalSource[],
    private readonly timeoutMs = SOURCE_TIMEOUT_MS,
  ) {
    for (const source of sources) this.add(source);
  }

  get sourceNames(): string[] {
    return this.sources.map((source) => source.name);
  }

  /** A new source (a worker started, a peer found); listeners present hear it too. */
  add(source: JournalSource): void {
    this.sources = [...this.sources, source];
    if (this.listeners.size > 0) this.subscribeTo(source);
  }

  remove(source: JournalSource): void {
    this.sources = this.sources.filter((each) => each !== source);
    this.subscriptions.get(source)?.();
    this.subscriptions.delete(source);
  }

  async query(filter: JournalFilter, partial = false): Promise<{ total: number; dropped: number; requests: JournalEntry[] } & Missing> {
    const { answers, missing } = await this.ask((source) => Promise.all([source.query(filter), source.counts()]), partial);
    let total = 0;
    let dropped = 0;
    for (const [, counts] of answers) {
      total += counts.total;
      dropped += counts.dropped;
    }
    const merged = mergeInTimeOrder(answers.map(([entries]) => entries));
    const requests = filter.limit !== undefined && merged.length > filter.limit ? merged.slice(merged.length - filter.limit) : merged;
    return { total, dropped, requests, missing };
  }

  async count(filter: JournalFilter, partial = false): Promise<{ count: number } & Missing> {
    const { answers, missing } = await this.ask((source) => source.count(filter), partial);
    const count = answers.reduce((sum, each) => sum + each, 0);
    return { count: filter.limit !== undefined ? Math.min(count, filter.limit) : count, missing };
  }

  /** Keys (`source#id`) of the entries matching a filter now: what a wait counts before it listens. */
  async matchingKeys(filter: JournalFilter, partial = false): Promise<{ keys: string[] } & Missing> {
    const { answers, missing, answered } = await this.askNamed((source) => source.matchingIds(filter), partial);
    return { keys: answers.flatMap((ids, at) => ids.map((id) => entryKey(answered[at] as string, id))), missing };
  }

  async counts(partial = false): Promise<JournalCounts & Missing> {
    const { answers, missing } = await this.ask((source) => source.counts(), partial);
    const sum = { length: 0, total: 0, dropped: 0, capacity: 0 };
    for (const counts of answers) for (const key of Object.keys(sum) as (keyof JournalCounts)[]) sum[key] += counts[key];
    return { ...sum, missing };
  }

  /** Clear every source's journal; all must answer. */
  async clear(): Promise<void> {
    await this.ask((source) => source.clear(), false);
  }

  async report(scope: ReportScope, partial = false): Promise<ReportInput & Missing> {
    const { answers, missing } = await this.ask((source) => source.report(scope), partial);
    if (answers.length === 1) return { ...(answers[0] as ReportInput), missing };
    const wrongRefusals: Record<string, number> = {};
    for (const answer of answers) for (const [reason, count] of Object.entries(answer.wrongRefusals)) wrongRefusals[reason] = (wrongRefusals[reason] ?? 0) + count;
    return {
      entries: mergeInTimeOrder(answers.map((answer) => [...answer.entries])),
      dropped: answers.reduce((sum, answer) => sum + answer.dropped, 0),
      wrongRefusals,
      troubleCertificatesRefused: answers.reduce((sum, answer) => sum + answer.troubleCertificatesRefused, 0),
      missing,
    };
  }

  async tlsFailures(partial = false): Promise<TlsFailureListing & Missing> {
    const { answers, missing } = await this.ask((source) => source.tlsFailures(), partial);
    const counts: Record<string, number> = {};
    for (const answer of answers) for (const [reason, count] of Object.entries(answer.counts)) counts[reason] = (counts[reason] ?? 0) + count;
    return {
      total: answers.reduce((sum, answer) => sum + answer.total, 0),
      dropped: answers.reduce((sum, answer) => sum + answer.dropped, 0),
      counts,
      failures: mergeInTimeOrder(answers.map((answer) => answer.failures)),
      missing,
    };
  }

  async clearTlsFailures(): Promise<void> {
    await this.ask((source) => source.clearTlsFailures(), false);
  }

  /**
   * This replica's own journals and refusals (this process's, or its workers'), its peers left
   * out: what a replica clears when another replica's reset reaches it through the store.
   */
  get ownJournals(): Pick<JournalSource, 'clear' | 'clearTlsFailures'> {
    return {
      clear: () => askedByPeer.run(true, () => this.clear()),
      clearTlsFailures: () => askedByPeer.run(true, () => this.clearTlsFailures()),
    };
  }

  /** Listen to every source (and those added later); returns the function that stops. Sources are subscribed only while someone listens. */
  subscribe(listener: FederationListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) for (const source of this.sources) this.subscribeTo(source);
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      for (const stop of this.subscriptions.values()) stop();
      this.subscriptions.clear();
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private subscribeTo(source: JournalSource): void {
    const name = source.name;
    const listeners = this.listeners;
    const relay: SourceListener = {
      appended: (entry) => {
        for (const listener of listeners) listener.appended?.(entry, name);
      },
      ended: (entry) => {
        for (const listener of listeners) listener.ended?.(entry, name);
      },
      cleared: () => {
        for (const listener of listeners) listener.cleared?.(name);
      },
      tlsFailure: (failure) => {
        for (const listener of listeners) listener.tlsFailure?.(failure, name);
      },
    };
    this.subscriptions.set(source, source.subscribe(relay));
  }

  private async ask<T>(question: (source: JournalSource) => Promise<T>, partial: boolean): Promise<{ answers: T[] } & Missing> {
    const { answers, missing } = await this.askNamed(question, partial);
    return { answers, missing };
  }

  /** Ask every source at once; the answers (in source order) of those that answered, and the names of the others. */
  private async askNamed<T>(question: (source: JournalSource) => Promise<T>, partial: boolean): Promise<{ answers: T[]; answered: string[] } & Missing> {
    // A question from another replica is about this replica's own journals only.
    const sources = askedByPeer.getStore() === undefined ? this.sources : this.sources.filter((source) => source.peer !== true);
    const settled = await Promise.allSettled(sources.map((source) => withTimeout(question(source), this.timeoutMs)));
    const answers: T[] = [];
    const answered: string[] = [];
    const missing: string[] = [];
    settled.forEach((outcome, at) => {
      const name = (sources[at] as JournalSource).name;
      if (outcome.status === 'fulfilled') {
        answers.push(outcome.value);
        answered.push(name);
      } else if (isSourceDidNotAnswer(outcome.reason)) missing.push(name);
      // A source that answered with an error of ours: the admin route's 500, not a missing source.
      else throw outcome.reason;
    });
    if (missing.length > 0 && !partial) throw new SourcesUnavailable(missing);
    return { answers, answered, missing };
  }
}

/**
 * Several lists, each in its source's order, merged by arrival time: each list's own order is
 * kept (its ids), and the earliest head goes first (ISO 8601 times of one format compare as text).
 */
export function mergeInTimeOrder<T extends { time: string }>(lists: readonly (readonly T[])[]): T[] {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty.length === 0 ? [] : [...(nonEmpty[0] as readonly T[])];
  const heads = nonEmpty.map(() => 0);
  const merged: T[] = [];
  for (;;) {
    let pick = -1;
    for (let at = 0; at < nonEmpty.length; at++) {
      const list = nonEmpty[at] as readonly T[];
      const head = heads[at] as number;
      if (head >= list.length) continue;
      if (pick < 0 || (list[head] as T).time < ((nonEmpty[pick] as readonly T[])[heads[pick] as number] as T).time) pick = at;
    }
    if (pick < 0) return merged;
    merged.push((nonEmpty[pick] as readonly T[])[heads[pick] as number] as T);
    heads[pick] = (heads[pick] as number) + 1;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SourceDidNotAnswer(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
