/**
 * The live feed behind GET /admin/events (the dashboard's request list): journal
 * entries, journal clears, scenario changes and refused handshakes, as
 * server-sent events to every open stream.
 *
 * - Each entry is one event whose `id:` is its journal id, so a client that
 *   reconnects with `Last-Event-ID` (or `?since=`) resumes after the last entry it
 *   saw: the replay and the live entries come from one ordered queue per stream,
 *   so nothing is missed or sent twice.
 * - Nothing runs on the request path unless a stream is open: the feed subscribes
 *   to the journal federation (every journal source: this process, workers, peers)
 *   only while it has streams, and appending only queues a reference.
 *   Replayed entries come from every source that answers (a dashboard shows what
 *   there is rather than nothing). Entries are serialised FLUSH_DELAY_MS later, when most exchanges
 *   are over and their durationMs known; one still going then (a delay, a hang)
 *   gets an `ended` event with its duration when it ends.
 * - A stream is written as fast as its socket drains; one whose client falls
 *   MAX_QUEUED_EVENTS behind is ended, and its client resumes by reconnecting.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Type, type Static } from '@sinclair/typebox';
import { JournalEntry } from '../journal/entry.js';
import type { JournalFilter } from '../journal/journal.js';
import type { FederationListener } from '../federation/federation.js';
import type { JournalCounts as Counts } from '../federation/source.js';
import { TlsFailure } from '../journal/tls-failures.js';

/** Entries wait this long before they are written, so the exchange has usually ended and its duration is known. */
export const FLUSH_DELAY_MS = 25;
/** A comment line this often keeps proxies from timing the stream out and lets the client notice a dead one. */
export const HEARTBEAT_MS = 15_000;
/** Events serialised per turn of the event loop, so a replay of a full journal does not stall the listeners. */
const EVENTS_PER_TURN = 500;
/** A stream whose client reads so slowly that this many events wait is ended (the client resumes by reconnecting). */
const MAX_QUEUED_EVENTS = 50_000;

/** Why the active scenario (or its rules) may have changed. */
export const ScenarioChange = Type.Union([Type.Literal('switch'), Type.Literal('post'), Type.Literal('remove'), Type.Literal('reload'), Type.Literal('reset')]);
export type ScenarioChange = Static<typeof ScenarioChange>;

const JournalCounts = Type.Object(
  { length: Type.Integer(), total: Type.Integer(), dropped: Type.Integer(), capacity: Type.Integer() },
  { $id: 'JournalCounts', additionalProperties: false, description: 'The journal now: entries held, requests since the last clear, dropped, and how many it can hold' },
);
const Epoch = Type.String({ description: 'Names the journal a client mirrors (`<process>.<clears>`): when it changes, drop what you hold' });

/**
 * One event of the stream: its `event:` name and its `data:` (JSON). A TypeBox definition, so what
 * the stream writes is typed here and the dashboard's types (ui/api-types.d.ts) come from it.
 */
export const LiveEvent = Type.Union(
  [
    Type.Object(
      { name: Type.Literal('hello'), data: Type.Object({ epoch: Epoch, active: Type.String(), replay: Type.Integer({ description: 'Entries replayed next' }), journal: JournalCounts }) },
      { description: 'First on every stream' },
    ),
    Type.Object({ name: Type.Literal('entry'), data: JournalEntry }, { description: "A journal entry; the event's `id:` is the entry's id" }),
    Type.Object(
      { name: Type.Literal('ended'), data: Type.Object({ id: Type.Integer(), durationMs: Type.Union([Type.Number(), Type.Null()]) }) },
      { description: 'The exchange of an entry sent while it was still going has ended' },
    ),
    Type.Object({ name: Type.Literal('cleared'), data: Type.Object({ epoch: Epoch, journal: JournalCounts }) }, { description: 'The journal was cleared or reset' }),
    Type.Object({ name: Type.Literal('scenario'), data: Type.Object({ active: Type.String(), cause: ScenarioChange }) }, { description: 'The active scenario or its rules may have changed' }),
    Type.Object({ name: Type.Literal('tls-failure'), data: TlsFailure }, { description: 'A connection was refused before any request' }),
  ],
  { description: 'One event of GET /admin/events' },
);
export type LiveEvent = Static<typeof LiveEvent>;
/** The events that are not an entry or its end: written at once, kept when the journal is cleared. */
type NamedEvent = Exclude<LiveEvent, { name: 'entry' | 'ended' }>;

/** What the feed reads: the journal federation. */
export interface FeedJournal {
  query(filter: JournalFilter, partial?: boolean): Promise<{ requests: JournalEntry[] }>;
  counts(partial?: boolean): Promise<Counts>;
  subscribe(listener: FederationListener): () => void;
}

type QueuedEvent =
  | { kind: 'entry'; entry: JournalEntry }
  | { kind: 'ended'; id: number; durationMs: number | null }
  | { kind: 'named'; event: NamedEvent };

export class LiveEvents {
  private readonly streams = new Set<EventStream>();
  private unsubscribe: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** Changes whenever the journal a client mirrored is gone: per process, plus the count of clears. */
  private readonly instance = randomBytes(4).toString('hex');
  private clears = 0;
  private closed = false;
  /** The journal's capacity as last heard (a `cleared` event reports it with zero counts). */
  private capacity = 0;

  constructor(
    private readonly journal: FeedJournal,
    private readonly heartbeatMs = HEARTBEAT_MS,
  ) {}

  /** Identifies the journal's contents: a client that sees it change drops what it holds and replays from 0. */
  get epoch(): string {
    return `${this.instance}.${this.clears}`;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Serve `res` as an event stream: a `hello`, then the kept entries after `since`
   * (at most the newest `limit`; none when `since` is null), then live events.
   */
  open(res: ServerResponse, replay: { since: number | null; limit: number | null }, active: string): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      // Ending the stream also frees the connection, so shutdown never waits on an idle keep-alive.
      Connection: 'close',
    });
    res.socket?.setNoDelay(true);
    if (this.closed) return void res.end();
    const stream = new EventStream(res, () => this.forget(stream));
    this.streams.add(stream);
    this.unsubscribe ??= this.journal.subscribe({
      appended: (entry) => this.appended(entry),
      ended: (entry) => this.exchangeEnded(entry),
      cleared: () => this.cleared(),
      tlsFailure: (failure) => this.tlsFailure(failure),
    });
    this.heartbeat ??= setInterval(() => this.beat(), this.heartbeatMs).unref();
    stream.write(`retry: 2000\n\n`);
    // Live events wait until the replay is written; an entry in both is sent once.
    stream.hold();
    const backlog =
      replay.since === null
        ? Promise.resolve({ requests: [] as JournalEntry[] })
        : this.journal.query({ since: replay.since, ...(replay.limit === null ? {} : { limit: replay.limit }) }, true);
    Promise.all([backlog, this.journal.counts(true)]).then(
      ([{ requests }, counts]) => {
        this.capacity = counts.capacity;
        const journal = { length: counts.length, total: counts.total, dropped: counts.dropped, capacity: counts.capacity };
        stream.release([
          { kind: 'named', event: { name: 'hello', data: { epoch: this.epoch, active, replay: requests.length, journal } } },
          ...requests.map((entry): QueuedEvent => ({ kind: 'entry', entry })),
        ]);
      },
      () => stream.end(),
    );
  }

  /** The exchange of a journaled entry is over (response sent, fault done, or hung socket closed). */
  private exchangeEnded(entry: JournalEntry): void {
    for (const stream of this.streams) stream.ended(entry);
  }

  scenarioChanged(active: string, cause: ScenarioChange): void {
    this.broadcast({ name: 'scenario', data: { active, cause } });
  }

  private tlsFailure(failure: TlsFailure): void {
    this.broadcast({ name: 'tls-failure', data: failure });
  }

  /** End every stream (the mock is shutting down); later ones are ended at once. */
  close(): void {
    this.closed = true;
    for (const stream of [...this.streams]) stream.end();
  }

  private appended(entry: JournalEntry): void {
    for (const stream of this.streams) stream.push({ kind: 'entry', entry }, FLUSH_DELAY_MS);
  }

  private cleared(): void {
    this.clears++;
    for (const stream of this.streams) {
      stream.dropQueuedEntries();
      stream.push({ kind: 'named', event: { name: 'cleared', data: { epoch: this.epoch, journal: { length: 0, total: 0, dropped: 0, capacity: this.capacity } } } }, 0);
    }
  }

  private broadcast(event: NamedEvent): void {
    for (const stream of this.streams) stream.push({ kind: 'named', event }, 0);
  }

  private beat(): void {
    for (const stream of this.streams) stream.write(': heartbeat\n\n');
  }

  private forget(stream: EventStream): void {
    this.streams.delete(stream);
    if (this.streams.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

/** One client's stream: an ordered queue of events, written in batches as the socket takes them. */
class EventStream {
  private queue: QueuedEvent[] = [];
  /** Events that came while the replay was being fetched (null: none is being fetched). */
  private held: QueuedEvent[] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private waitingForDrain = false;
  /** Ids of entries sent before their exchange ended: they get an `ended` event. */
  private readonly unfinished = new Set<number>();
  private gone = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly onGone: () => void,
  ) {
    res.once('close', () => this.end());
  }

  /** Keep live events aside until release(): the replay goes first. */
  hold(): void {
    this.held = [];
  }

  /** Queue the replay (the hello and the entries), then the held events but the entries the replay already had. */
  release(replay: readonly QueuedEvent[]): void {
    const held = this.held ?? [];
    this.held = null;
    const replayed = new Set<number>();
    for (const event of replay) {
      if (event.kind === 'entry') replayed.add(event.entry.id);
      this.push(event, 0);
    }
    for (const event of held) if (event.kind !== 'entry' || !replayed.has(event.entry.id)) this.push(event, event.kind === 'named' ? 0 : FLUSH_DELAY_MS);
  }

  push(event: QueuedEvent, delayMs: number): void {
    if (this.gone) return;
    if (this.held !== null) {
      this.held.push(event);
      return;
    }
    this.queue.push(event);
    // A client that reads nothing while the journal turns over twice is dropped; it resumes when it reconnects.
    if (this.queue.length > MAX_QUEUED_EVENTS) return this.end();
    if (this.immediate || this.waitingForDrain) return;
    if (delayMs === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => this.flush());
    } else {
      this.timer ??= setTimeout(() => this.flush(), delayMs);
    }
  }

  ended(entry: JournalEntry): void {
    if (this.unfinished.delete(entry.id)) this.push({ kind: 'ended', id: entry.id, durationMs: entry.durationMs }, FLUSH_DELAY_MS);
  }

  /** The journal was cleared: entries not yet sent are no longer in it. */
  dropQueuedEntries(): void {
    this.queue = this.queue.filter((event) => event.kind === 'named');
    if (this.held !== null) this.held = this.held.filter((event) => event.kind === 'named');
    this.unfinished.clear();
  }

  /** Write now, ahead of the queue (the retry hint, heartbeats). */
  write(text: string): boolean {
    return this.gone ? false : this.res.write(text);
  }

  end(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.queue = [];
    this.res.end();
    this.onGone();
  }

  private flush(): void {
    this.timer = null;
    this.immediate = null;
    this.waitingForDrain = false;
    if (this.gone) return;
    const batch = this.queue.length > EVENTS_PER_TURN ? this.queue.splice(0, EVENTS_PER_TURN) : this.queue;
    if (batch === this.queue) this.queue = [];
    let text = '';
    for (const event of batch) text += this.format(event);
    if (!this.write(text)) {
      this.waitingForDrain = true;
      this.res.once('drain', () => this.flush());
    } else if (this.queue.length > 0) {
      this.immediate = setImmediate(() => this.flush());
    }
  }

  private format(event: QueuedEvent): string {
    switch (event.kind) {
      case 'entry':
        if (event.entry.durationMs === null) this.unfinished.add(event.entry.id);
        return `id: ${event.entry.id}\nevent: entry\ndata: ${JSON.stringify(event.entry)}\n\n`;
      case 'ended':
        return `event: ended\ndata: ${JSON.stringify({ id: event.id, durationMs: event.durationMs })}\n\n`;
      case 'named':
        return `event: ${event.event.name}\ndata: ${JSON.stringify(event.event.data)}\n\n`;
    }
  }
}
