/**
 * The primary of a --workers group (Node's cluster module): it forks the workers, which take
 * the entitlement connections on shared ports, and answers the admin API for all of them:
 * journal questions through the federation (each worker a source over IPC), the shared rule
 * state (sequence steps, `times`, `perKey` counts, per-key states) held here and asked for by
 * the workers, admin changes sent to every worker before the admin answer, /metrics
 * aggregated with prom-client's AggregatorRegistry.
 *
 * With --store the group is one replica: the workers ask Redis for counts and states
 * themselves, and the primary alone follows the other replicas' changes (store/), passing them
 * on to its workers as it does its own admin changes (see docs/scaling.md, "Both").
 *
 * A worker that dies is forked again under the same number (and gets the changes made so far);
 * its journal is lost, counted in the group's `dropped` and logged. close() stops the workers
 * (each with the grace period) and then the admin API.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes, randomInt } from 'node:crypto';
import { startMock, type RunningMock } from '../server/mock.js';
import type { JournalFederation } from '../federation/federation.js';
import type { MockOptions } from '../server/options.js';
import { PROMETHEUS_CONTENT_TYPE } from '../server/metrics.js';
import type { MockLogger } from '../server/logger.js';
import { MemoryRuleState } from '../scenario/runtime/state/shared.js';
import type { JournalSource } from '../federation/source.js';
import { answerQuestions, Asker, isMessage, type Channel } from './ipc.js';
import { WorkerSource } from './worker-source.js';
import { WORKER_ENV } from './worker.js';
import { broadcastChanges, resetSharedState, type Change } from './changes.js';
import { JournalMirror } from './journal-mirror.js';
import { writingCerts } from '../server/startup-errors.js';
import { REPLICA_SLOTS } from '../federation/replica-entry-ids.js';

export interface RunningGroup {
  readonly mock: RunningMock;
  readonly entitlementUrl: string;
  readonly workerPids: () => number[];
  close(graceMs: number): Promise<void>;
}

interface Member {
  readonly index: number;
  worker: Worker;
  asker: Asker;
  source: WorkerSource;
  listening: boolean;
}

export async function startGroup(options: MockOptions, logger: MockLogger): Promise<RunningGroup> {
  const log = logger.pino;
  const startedAt = Date.now();
  // With --peers, journals merge across replicas: each worker takes a slot of its own among the replicas' (see worker.ts).
  const firstIdSlot = randomInt(REPLICA_SLOTS);
  // Fixed for the run: a ticket any worker issued resumes on any other (Node keeps its own fixed per process too).
  const ticketKeys = randomBytes(48).toString('hex');
  // Without --store the primary holds the counters and states its workers ask for; with it, Redis does and each worker asks it.
  const memoryRules = options.store === null ? new MemoryRuleState() : null;
  const members = new Map<number, Member>();
  /** The changes made so far (through the admin API or the store), replayed to a worker once it listens. */
  const changes: Change[] = [];
  let pending: Promise<unknown>[] = [];
  let federation: JournalFederation | null = null;
  let stopping = false;
  const lost = new LostEntries();
  const mirror = new JournalMirror(options.journalSize);
  /** Every worker listens on the same ports; the first to listen says which. */
  const troublePorts: Record<string, number> = {};
  let crlUrl: string | null = null;
  let conformance: { readonly size: number } | null = null;
  /** Conformance runs read the workers' entries from the mirror: it listens while a run exists. */
  const mirrorWhileRuns = () => {
    const was = mirror.listening;
    mirror.mirror((conformance?.size ?? 0) > 0);
    // The admin answer that started the run waits until every worker sends its entries.
    if (!was && mirror.listening) for (const member of members.values()) pending.push(member.source.subscribed);
  };

  const broadcast = (change: Change) => {
    changes.push(change);
    // A worker still starting gets it with the rest, in order, once it listens.
    for (const member of members.values()) if (member.listening) pending.push(member.asker.ask('change', change).catch(() => {}));
    // A run registers itself after creating its session: look once it has.
    if (change.kind.startsWith('session')) queueMicrotask(mirrorWhileRuns);
  };
  // The trouble certificates are written here, once, not by every worker at the same time.
  if (options.troublePort !== null) {
    const { ensureTroublePki } = await import('../pki/trouble.js');
    const pki = { outDir: options.certs, sans: options.sans, keyType: options.keyType };
    await writingCerts(options.certs, () => ensureTroublePki(pki));
  }
  const mock = await startMock(options, logger, {
    kind: 'primary',
    shared: memoryRules,
    // Admin changes reach the workers through broadcastChanges, conformance-run sessions included, and so do
    // the changes of other replicas the store brings; what the routes announce starts the counters and states
    // of the rule sets they changed afresh (with --store, the store does: in Redis, for every replica).
    ...(memoryRules === null ? {} : { store: { rules: memoryRules, announce: (change) => resetSharedState(memoryRules, change) } }),
    watch: (core) => broadcastChanges(core, broadcast),
    settle: async () => {
      while (pending.length > 0) {
        const waiting = pending;
        pending = [];
        await Promise.all(waiting);
      }
    },
    metrics: {
      contentType: PROMETHEUS_CONTENT_TYPE,
      render: async () => {
        const { AggregatorRegistry } = (await import('prom-client')).default;
        const each = await Promise.all([...members.values()].map((member) => member.asker.ask<object[]>('metrics')));
        return AggregatorRegistry.aggregate(each as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
      },
    },
    conformanceJournal: mirror.journal,
    troublePorts,
    attach: (made) => {
      federation = made.federation;
      conformance = made.conformance;
      mirror.bind(made.federation);
      made.sessions.on('ended', () => queueMicrotask(mirrorWhileRuns));
    },
  });
  const sources = federation as unknown as JournalFederation;
  sources.add(lost);

  const stateQuestions = memoryRules === null ? {} : stateQuestionsOf(memoryRules);

  let onListening: (port: number) => void = () => {};
  let onFailedStart: (why: string) => void = () => {};

  const fork = (index: number, again = false): Member => {
    const worker = cluster.fork({
      [WORKER_ENV.index]: String(index),
      [WORKER_ENV.startedAt]: String(startedAt),
      [WORKER_ENV.ticketKeys]: ticketKeys,
      [WORKER_ENV.firstIdSlot]: String(firstIdSlot),
    });
    const channel = worker as unknown as Channel;
    const asker = new Asker(channel, `worker ${index}`);
    const member: Member = { index, worker, asker, source: new WorkerSource(`worker ${index}`, asker), listening: false };
    worker.on('message', (message: unknown) => {
      if (!isMessage(message) || asker.received(message)) return;
      if (message.em === 'ask') return answerQuestions(channel, message, stateQuestions);
      if (message.em !== 'tell') return;
      if (message.kind === 'listening') {
        // Everything changed so far (the store's catching up at start included), in order, before it
        // counts as a member and before the group says it listens; later changes follow in order.
        const replayed = Promise.all(changes.map((change) => asker.ask('change', change).catch(() => {})));
        pending.push(replayed);
        member.listening = true;
        sources.add(member.source);
        const listening = message.data as { port: number; troublePorts: Record<string, number>; crlUrl: string | null };
        Object.assign(troublePorts, listening.troublePorts);
        crlUrl = listening.crlUrl;
        if (again) log.info({ worker: index, pid: worker.process.pid }, `worker ${index} forked again and listening`);
        void replayed.then(() => onListening(listening.port));
      } else if (message.kind === 'size') member.source.held = message.data as number;
      else member.source.told(message);
    });
    worker.on('exit', (code, signal) => {
      asker.close(`exited (${signal ?? `code ${code}`})`);
      sources.remove(member.source);
      if (members.get(index) !== member) return;
      if (!member.listening) return onFailedStart(`worker ${index} exited before listening (${signal ?? `code ${code}`})`);
      if (stopping) return;
      const held = member.source.held;
      lost.add(held);
      log.error({ worker: index, pid: worker.process.pid, code, signal, lostEntries: held }, `worker ${index} died; forked again; ${held} journal entries lost`);
      members.set(index, fork(index, true));
    });
    members.set(index, member);
    return member;
  };

  const count = options.workers;
  const listening = new Promise<number>((resolve, reject) => {
    let up = 0;
    onListening = (port) => {
      if (++up === count) resolve(port);
    };
    onFailedStart = (why) => reject(new Error(why));
  });
  for (let index = 1; index <= count; index++) fork(index);

  const close = async (graceMs: number) => {
    stopping = true;
    const exited = [...members.values()].map((member) =>
      member.worker.isDead() ? Promise.resolve() : new Promise<void>((resolve) => member.worker.once('exit', () => resolve())),
    );
    for (const member of members.values()) if (!member.worker.isDead()) member.worker.process.kill('SIGTERM');
    const cut = setTimeout(() => {
      for (const member of members.values()) if (!member.worker.isDead()) member.worker.process.kill('SIGKILL');
    }, graceMs + 2000);
    await Promise.all(exited);
    clearTimeout(cut);
    await mock.close(graceMs);
  };

  let port: number;
  try {
    port = await listening;
  } catch (error) {
    await close(0);
    throw error;
  }
  onFailedStart = () => {};
  const entitlementUrl = mock.entitlementUrl.replace(/:\d+(\/|$)/, `:${port}$1`);
  const workerPids = () => [...members.values()].map((member) => member.worker.process.pid as number);
  const trouble = Object.keys(troublePorts).length > 0 ? { troublePorts, crlUrl } : {};
  log.info({ entitlementUrl, adminUrl: mock.adminUrl, ...trouble, workers: count, workerPids: workerPids() }, `entitlement-mock listening on ${entitlementUrl} with ${count} workers (admin ${mock.adminUrl})`);
  return { mock, entitlementUrl, close, workerPids };
}

/** What workers ask of the shared rule state the primary holds (without --store). */
function stateQuestionsOf(held: MemoryRuleState) {
  return {
    'state.take': (scope: string, counter: string, limit: number | null) => held.takeNow(scope, counter, limit ?? Infinity),
    'state.counts': (scope: string, counters: string[]) => held.counts(scope, counters),
    'state.get': (scope: string, key: string) => held.getStateNow(scope, key),
    'state.set': (scope: string, key: string, state: string, ttlMs: number | null) => held.setState(scope, key, state, ttlMs),
    'state.delete': (scope: string, key: string) => held.deleteState(scope, key),
    'state.list': (scope: string) => held.listStates(scope),
    'state.clear': (scope: string, what: 'states' | 'counters-and-states') => held.clear(scope, what),
  };
}

/** The entries of workers that died, as a source that holds none and counts them as dropped. */
class LostEntries implements JournalSource {
  readonly name = 'workers that died';
  private lost = 0;

  add(entries: number): void {
    this.lost += entries;
  }

  async query() {
    return [];
  }
  async count() {
    return 0;
  }
  async matchingIds() {
    return [];
  }
  async counts() {
    return { length: 0, total: this.lost, dropped: this.lost, capacity: 0 };
  }
  async clear() {
    this.lost = 0;
  }
  async report() {
    return { entries: [], dropped: this.lost, wrongRefusals: {}, troubleCertificatesRefused: 0 };
  }
  async tlsFailures() {
    return { total: 0, dropped: 0, counts: {}, failures: [] };
  }
  async clearTlsFailures() {}
  subscribe() {
    return () => {};
  }
}
