/**
 * A worker of a --workers group: the entitlement listeners (and trouble listeners) on the
 * group's shared ports, no admin API. It answers the primary's questions about its journal
 * (federation/local-source.ts over IPC), applies the admin changes the primary sends before
 * the primary answers, and asks the primary for shared counters and states.
 */
import { startMock, type RunningMock } from '../server/mock.js';
import type { MockOptions } from '../server/options.js';
import type { MockLogger } from '../server/logger.js';
import type { MockCore } from '../server/mock.js';
import { reportInput } from '../federation/local-source.js';
import type { LocalSource } from '../federation/local-source.js';
import type { JournalFilter } from '../journal/journal.js';
import type { ReportScope } from '../federation/report-input.js';
import { answerQuestions, Asker, isMessage, type Channel, type Message } from './ipc.js';
import { PrimaryRuleState } from './rule-state-client.js';
import { workerEntryIds } from './entry-ids.js';
import { applyChange, type Change } from './changes.js';
import { openRuleState } from '../store/open.js';
import { parseStoreUrl } from '../store/url.js';
import { REPLICA_SLOTS, replicaEntryIds } from '../federation/replica-entry-ids.js';

/** What the primary passes each worker in its environment. */
export const WORKER_ENV = {
  index: 'EM_CLUSTER_WORKER',
  startedAt: 'EM_CLUSTER_STARTED_AT',
  ticketKeys: 'EM_CLUSTER_TICKET_KEYS',
  /** With --peers: worker i's journal ids take slot (this + i) % REPLICA_SLOTS. */
  firstIdSlot: 'EM_CLUSTER_FIRST_ID_SLOT',
} as const;

/** How often a worker tells the primary how many entries it holds (what is lost if it dies). */
const SIZE_EVERY_MS = 1000;

export async function startWorker(options: MockOptions, logger: MockLogger): Promise<RunningMock> {
  const channel = process as unknown as Channel;
  const index = Number(process.env[WORKER_ENV.index]);
  const primary = new Asker(channel, 'the cluster primary');
  let core: (MockCore & { listeners: { server: { setTicketKeys(keys: Buffer): void } }[] }) | null = null;
  const early: Message[] = [];
  const onMessage = (message: unknown) => {
    if (!isMessage(message) || primary.received(message)) return;
    if (core === null) early.push(message);
    else handle(message);
  };
  // One set of handlers for the worker's life: it holds whether the primary listens.
  let handlers: ReturnType<typeof questions> | null = null;
  const handle = (message: Message) => {
    if (message.em !== 'ask' || core === null) return;
    handlers ??= questions(core, channel);
    answerQuestions(channel, message, handlers);
  };
  channel.on('message', onMessage);
  process.once('disconnect', () => primary.close('disconnected'));

  // With --store the worker asks Redis itself, as a replica does (one atomic operation each); the
  // primary alone follows the other replicas' changes and passes them on, as it does admin changes.
  // (--peers too is the primary's: it answers the admin API.)
  const store = options.store === null ? null : await openRuleState(parseStoreUrl(options.store), `entitlement-mock-worker-${index}`);
  const mock = await startMock({ ...options, store: null, peers: null }, logger, {
    kind: 'worker',
    shared: store?.rules ?? new PrimaryRuleState(primary),
    entryIds: entryIds(options, index),
    attach: (made) => {
      core = made;
    },
  });
  const ready = core as unknown as MockCore & { listeners: { server: { setTicketKeys(keys: Buffer): void } }[] };
  // Session tickets any worker issued resume on any other: the group shares its ticket keys.
  const ticketKeys = process.env[WORKER_ENV.ticketKeys];
  if (ticketKeys) for (const listener of ready.listeners) listener.server.setTicketKeys(Buffer.from(ticketKeys, 'hex'));
  for (const message of early.splice(0)) handle(message);
  let lastSize = -1;
  setInterval(() => {
    const size = ready.journal.length;
    if (size !== lastSize) channel.send({ em: 'tell', kind: 'size', data: (lastSize = size) });
  }, SIZE_EVERY_MS).unref();
  channel.send({ em: 'tell', kind: 'listening', data: { port: mock.port, troublePorts: mock.troublePorts, crlUrl: mock.crlUrl } });
  if (store === null) return mock;
  return {
    ...mock,
    close: async (graceMs) => {
      // After the in-flight exchanges: they may still need the store.
      await mock.close(graceMs);
      store.close();
    },
  };
}

/**
 * Ids unique and growing with time across the group; with --peers across replicas too, as a
 * replica's own (federation/replica-entry-ids.ts), the group's workers taking neighbouring slots.
 */
function entryIds(options: MockOptions, index: number): () => number {
  if (options.peers === null) return workerEntryIds(Number(process.env[WORKER_ENV.startedAt]), index);
  return replicaEntryIds((Number(process.env[WORKER_ENV.firstIdSlot]) + index) % REPLICA_SLOTS);
}

function questions(core: MockCore, channel: Channel): Record<string, (...args: never[]) => unknown> {
  const local: LocalSource = core.local;
  let unsubscribe: (() => void) | null = null;
  const tell = (kind: string, data: unknown) => channel.send({ em: 'tell', kind, data });
  return {
    query: (filter: JournalFilter) => local.query(filter),
    count: (filter: JournalFilter) => local.count(filter),
    matchingIds: (filter: JournalFilter) => local.matchingIds(filter),
    counts: () => local.counts(),
    clear: () => local.clear(),
    report: ({ session, since }: ReportScope) => {
      const input = reportInput(core.journal, core.tlsFailures, { session, since });
      return { ...input, entries: [...input.entries] };
    },
    tlsFailures: () => local.tlsFailures(),
    clearTlsFailures: () => local.clearTlsFailures(),
    subscribe: () => {
      // Entries cross to the primary only while someone there listens (a live feed, a wait).
      unsubscribe ??= local.subscribe({
        appended: (entry) => tell('appended', entry),
        ended: (entry) => tell('ended', entry),
        cleared: () => tell('cleared', null),
        tlsFailure: (failure) => tell('tlsFailure', failure),
      });
    },
    unsubscribe: () => {
      unsubscribe?.();
      unsubscribe = null;
    },
    change: (change: Change) => applyChange(core, change),
    metrics: () => core.metrics.renderJson(),
  };
}
