/**
 * Another replica's journal (--peers), asked over its admin API: a JournalSource like the
 * local one, so the federation merges its entries in time order and fails closed when it does
 * not answer (503 naming its URL) unless the question is `partial`.
 *
 * - Every question carries PEER_HEADER, so the peer answers from its own journals only
 *   (asked-by-peer.ts), and is bounded by `timeoutMs`; a refused connection, a timeout or an
 *   answer other than 200 is SourceDidNotAnswer.
 * - Entries that come from a peer carry `replica`: the peer's admin URL.
 * - An address that turns out to be this very replica (a headless Service resolves to every
 *   replica, this one included) answers REPLICA_HEADER with this replica's id: it is then
 *   treated as empty, its entries being the local source's.
 * - Subscribing (the live feed, waits) polls the peer's journal for new entries every
 *   POLL_MS while someone listens; nothing runs otherwise.
 */
import type { JournalEntry } from '../journal/entry.js';
import type { JournalFilter } from '../journal/journal.js';
import { TlsFailureLog, type TlsFailureListing } from '../journal/tls-failures.js';
import { inScope } from '../report/scope.js';
import type { ReportScope } from './report-input.js';
import { SourceDidNotAnswer, type JournalCounts, type JournalSource, type ReportInput, type SourceListener } from './source.js';
import { PEER_HEADER, REPLICA_HEADER } from './asked-by-peer.js';

/** How often a subscribed peer is asked for new entries. */
export const POLL_MS = 100;

export interface PeerOptions {
  /** This replica's id (REPLICA_HEADER of its own answers). */
  readonly replica: string;
  /** The admin token the replicas share (null: none). */
  readonly adminToken: string | null;
  /** One question's time limit. */
  readonly timeoutMs: number;
}

const NO_COUNTS: JournalCounts = Object.freeze({ length: 0, total: 0, dropped: 0, capacity: 0 });

export class PeerSource implements JournalSource {
  readonly peer = true;
  /** Learnt from an answer: this address is this replica. */
  private self = false;

  constructor(
    /** The peer's admin URL, e.g. `http://10.1.2.3:8080`. */
    readonly name: string,
    private readonly options: PeerOptions,
  ) {}

  async query(filter: JournalFilter): Promise<JournalEntry[]> {
    const answer = await this.get<{ requests: JournalEntry[] }>(`/admin/requests${queryString(filter)}`);
    return answer === null ? [] : answer.requests.map((entry) => this.tagged(entry));
  }

  async count(filter: JournalFilter): Promise<number> {
    return (await this.get<{ count: number }>(`/admin/requests/count${queryString(filter)}`))?.count ?? 0;
  }

  async matchingIds(filter: JournalFilter): Promise<number[]> {
    const { limit: _limit, ...matching } = filter;
    return (await this.query(matching)).map((entry) => entry.id);
  }

  async counts(): Promise<JournalCounts> {
    const answer = await this.get<{ total: number; dropped: number }>('/admin/requests?limit=0');
    // The admin API does not say a peer's capacity; what it holds is what it took less what it dropped.
    return answer === null ? NO_COUNTS : { length: answer.total - answer.dropped, total: answer.total, dropped: answer.dropped, capacity: 0 };
  }

  async clear(): Promise<void> {
    await this.send('DELETE', '/admin/requests');
  }

  async report({ session, since }: ReportScope): Promise<ReportInput> {
    const entries = (await this.query(session === null ? {} : { session })).filter((entry) => inScope(entry, session, since));
    const scoped = session !== null || since !== null;
    const counts = await this.counts();
    // Refusals belong to no session: only a report on everything counts them (as the local source does).
    const refusals = scoped ? null : refusalLog(await this.tlsFailures());
    return {
      entries,
      dropped: counts.dropped,
      wrongRefusals: refusals?.countsOfWrongRefusals() ?? {},
      troubleCertificatesRefused: refusals?.troubleCertificatesRefused ?? 0,
    };
  }

  async tlsFailures(): Promise<TlsFailureListing> {
    return (await this.get<TlsFailureListing>('/admin/tls-failures')) ?? { total: 0, dropped: 0, counts: {}, failures: [] };
  }

  /** A peer's refusals are cleared by its own reset (with --store, every replica is reset together). */
  async clearTlsFailures(): Promise<void> {}

  subscribe(listener: SourceListener): () => void {
    let stopped = false;
    void this.poll(listener, () => stopped);
    return () => {
      stopped = true;
    };
  }

  private async poll(listener: SourceListener, stopped: () => boolean): Promise<void> {
    let since: number | null = null;
    let total = 0;
    while (!stopped() && !this.self) {
      try {
        // First the newest entry (where to start), then whatever came after the last one seen.
        const answer: { total: number; requests: JournalEntry[] } | null = await this.get<{ total: number; requests: JournalEntry[] }>(`/admin/requests?${since === null ? 'limit=1' : `since=${since}`}`);
        if (answer === null || stopped()) return;
        if (since !== null) {
          if (answer.total < total) listener.cleared?.();
          for (const entry of answer.requests) listener.appended?.(this.tagged(entry));
        }
        since = answer.requests.at(-1)?.id ?? since ?? 0;
        total = answer.total;
      } catch {
        // Not answering now: asked again at the next turn.
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
    }
  }

  private tagged(entry: JournalEntry): JournalEntry {
    entry.replica ??= this.name;
    return entry;
  }

  private async get<T>(path: string): Promise<T | null> {
    return this.send('GET', path) as Promise<T | null>;
  }

  /** The JSON answer, or null when this address is this replica. */
  private async send(method: string, path: string): Promise<unknown> {
    if (this.self) return null;
    const headers: Record<string, string> = { [PEER_HEADER]: this.options.replica };
    if (this.options.adminToken !== null) headers.authorization = `Bearer ${this.options.adminToken}`;
    let response: Response;
    try {
      response = await fetch(`${this.name}${path}`, { method, headers, signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new SourceDidNotAnswer(`${this.name}: ${cause}`);
    }
    if (response.headers.get(REPLICA_HEADER) === this.options.replica) {
      this.self = true;
      await response.body?.cancel();
      return null;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new SourceDidNotAnswer(`${this.name} answered ${response.status}`);
    }
    try {
      return await response.json();
    } catch (error) {
      throw new SourceDidNotAnswer(`${this.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** A journal query as the admin API's query string. */
function queryString(filter: JournalFilter): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** A peer's refusals as a log, to count them the way the local log does. */
function refusalLog(listing: TlsFailureListing): TlsFailureLog {
  const log = new TlsFailureLog(Math.max(1, listing.failures.length));
  for (const failure of listing.failures) log.record(failure);
  return log;
}
