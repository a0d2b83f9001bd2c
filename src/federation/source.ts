/**
 * One journal the admin API answers for: this process's own (LocalSource), a worker's over
 * IPC (--workers), a replica's over HTTP (--peers). Every question is asynchronous, since a
 * source may be another process; the federation (federation.ts) asks them all and merges.
 */
import type { JournalEntry } from '../journal/entry.js';
import type { JournalFilter } from '../journal/journal.js';
import type { TlsFailure, TlsFailureListing } from '../journal/tls-failures.js';
import type { ReportScope } from './report-input.js';

/** The journal's size now: entries held, requests since the last clear, dropped, and how many it can hold. */
export interface JournalCounts {
  length: number;
  total: number;
  dropped: number;
  capacity: number;
}

/** What a report card needs of one source: its entries in scope and its refusals. */
export interface ReportInput {
  entries: Iterable<JournalEntry>;
  dropped: number;
  /** Refusals by reason less the trouble certificates the client was right to refuse. */
  wrongRefusals: Record<string, number>;
  troubleCertificatesRefused: number;
}

/** Told of what happens in a source while subscribed (the live feed, waits). */
export interface SourceListener {
  appended?(entry: JournalEntry): void;
  /** The exchange of an entry told earlier has ended (its durationMs is set). */
  ended?(entry: JournalEntry): void;
  cleared?(): void;
  tlsFailure?(failure: TlsFailure): void;
}

export interface JournalSource {
  /** Names the source in a 503 and in `missing`: `local`, `worker 2`, a peer's URL. */
  readonly name: string;
  /** Another replica (--peers): left out of questions that a peer asks (asked-by-peer.ts). */
  readonly peer?: boolean;
  /** Matching entries in this source's order (its ids grow with time). `limit` keeps the newest. */
  query(filter: JournalFilter): Promise<JournalEntry[]>;
  count(filter: JournalFilter): Promise<number>;
  /** Ids of the matching entries (what a wait counts before it listens for more). */
  matchingIds(filter: JournalFilter): Promise<number[]>;
  counts(): Promise<JournalCounts>;
  clear(): Promise<void>;
  report(scope: ReportScope): Promise<ReportInput>;
  tlsFailures(): Promise<TlsFailureListing>;
  clearTlsFailures(): Promise<void>;
  /** Listen for new entries, ends, clears and refusals; returns the function that stops. A source pays nothing while nobody listens. */
  subscribe(listener: SourceListener): () => void;
}

/**
 * How a remote source says it did not answer (gone, disconnected, timed out): the federation
 * then leaves it out (partial) or fails closed. Any other error is a bug and propagates.
 */
export class SourceDidNotAnswer extends Error {
  override readonly name = 'SourceDidNotAnswer';
}

/** SourceDidNotAnswer from any copy of this module (see isSourcesUnavailable in federation.ts). */
export function isSourceDidNotAnswer(error: unknown): error is SourceDidNotAnswer {
  return error instanceof Error && error.name === 'SourceDidNotAnswer';
}
