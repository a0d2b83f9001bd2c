/**
 * Wires a running mock together: PKI, scenarios, journal, the entitlement
 * listener(s) and the admin listener; and takes it apart again gracefully.
 */
import type { Server } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { loadServerTls, type ServerTlsMaterial } from '../pki/load.js';
import { isComplete, keyPairFiles } from '../pki/files.js';
import { ScenarioRegistry } from '../scenario/registry/registry.js';
import { defaultSeed, seededRandom } from '../scenario/runtime/random.js';
import { Journal } from '../journal/journal.js';
import { JournalWaits } from '../journal/waits.js';
import { SessionStore } from '../session/store.js';
import { SeenMessageIds } from '../journal/seen-message-ids.js';
import { HeldExchanges } from '../respond/deliver.js';
import { createEntitlementHandler } from './entitlement-handler.js';
import { startEntitlementListener, type RunningListener } from './entitlement-listener.js';
import { LiveEvents } from '../admin/live-events.js';
import { createAdminServer } from './admin-listener.js';
import { TlsFailureLog, type TlsFailure } from '../journal/tls-failures.js';
import { MockMetrics } from './metrics.js';
import { createLogger, type MockLogger } from './logger.js';
import type { MockOptions } from './options.js';
import type { ExchangeState } from './exchange.js';
import type { RecordOptions, Recording, SnapshotResult } from '../record/recording.js';
import type { ListenerName } from '../journal/entry.js';
import { version } from '../version.js';
import { listening, StartupError, writingCerts, type ListenerRole } from './startup-errors.js';
import { tlsOffer, TlsOptionError, type TlsOffer } from './tls-offer.js';
import { urlHost } from './url-host.js';
import { JournalFederation } from '../federation/federation.js';
import { LocalSource } from '../federation/local-source.js';
import type { ClusterRole } from './cluster-role.js';
import { listenOn } from './listen.js';
import { resetLocally } from './reset.js';
import { parseStoreUrl } from '../store/url.js';
import type { OpenedStore } from '../store/open.js';
// Static, not a dynamic import: the peer sources must share the federation's copy of its modules.
import { Peers } from '../federation/peers.js';
import { parsePeers } from '../federation/peers-option.js';
import { replicaEntryIds } from '../federation/replica-entry-ids.js';
import { randomUUID } from 'node:crypto';
import type { SharedRuleState } from '../scenario/runtime/state/shared.js';

export interface RunningMock {
  readonly entitlementUrl: string;
  readonly adminUrl: string;
  readonly port: number;
  readonly adminPort: number;
  /** Trouble listeners by name with their ports (empty without --trouble-port). */
  readonly troublePorts: Readonly<Record<string, number>>;
  /** Where the CRL revoking the `revoked` trouble listener's certificate is published (null without --trouble-port). */
  readonly crlUrl: string | null;
  readonly seed: number;
  readonly journal: Journal;
  readonly scenarios: ScenarioRegistry;
  /** Record mode only (else null): the recording, its status and snapshots. */
  readonly recording: Recording | null;
  readonly sessions: SessionStore;
  /** Stop accepting, end held exchanges, let in-flight ones finish (at most `graceMs`), then close. */
  close(graceMs?: number): Promise<void>;
}

export { StartupError };

/**
 * Start a mock: each step below is a named function, in the order a start takes them. Whatever
 * fails after the first listener opened closes what was opened and is rethrown.
 */
export async function startMock(options: MockOptions, logger: MockLogger = createLogger(options.logLevel), role: ClusterRole | null = null): Promise<RunningMock> {
  const startedAt = performance.now();
  // A group of workers forks the CLI (cluster/primary.ts): startMock itself is one process.
  if (options.workers > 1 && role === null)
    throw new StartupError(`cannot start: startMock runs one process; run ${options.workers} workers with the CLI (serve --workers ${options.workers})`);
  const offeredTls = checkedTlsOffer(options);
  // Before anything is generated or opened: a recording that cannot begin stops the start.
  const recording = options.record ? await startRecording(options.record) : null;
  const tls = await serverTls(options, logger.pino);
  const core = await mockCore(options, logger, recording, role);
  const opened: Opened = { listeners: [], servers: [], crlUrl: null, admin: createAdminServer(options.headerTimeoutMs), conformance: null, serving: false };
  const close = closer(core, opened, logger);
  try {
    // A cluster primary answers the admin API only; its workers answer entitlement requests without one.
    if (role?.kind !== 'primary') {
      await openEntitlementListeners(options, core, tls, offeredTls, opened, logger.pino);
      // Only the admin API needs Koa, its router and body parser, and prom-client (~40% of the
      // modules a start loads), and only a later request the other scenario files: both load
      // once the main listener has answered its first request (or nobody is waiting for one),
      // since loading them would hold that answer up. The start line still comes after both.
      await firstAnswerOrQuiet((opened.listeners[0] as RunningListener).server, core.journal);
    }
    if (role?.kind !== 'worker') await openAdminApi(options, core, opened, startedAt, logger.pino, role);
    else if (core.scenariosRemaining) for (const error of (await core.scenarios.loadRemaining()).errors) logger.pino.warn({ error: formatError(error) }, 'scenario file skipped');
  } catch (error) {
    await close(0);
    throw error;
  }
  role?.attach({ ...core, listeners: opened.listeners, conformance: opened.conformance });
  if (role !== null) {
    opened.serving = true;
    return runningOf(options, core, opened, close);
  }
  const running = announce(options, core, opened, close, startedAt, logger.pino);
  opened.serving = true;
  return running;
}

/** What the listeners and the admin API share: the journal, the scenarios and sessions, and who is told of what happens. */
interface MockCore {
  seed: number;
  journal: Journal;
  /** This process's journal and refusals as a source of the federation. */
  local: LocalSource;
  /** What the admin API asks about journals: the local one and (with workers or peers) the others. */
  federation: JournalFederation;
  waits: JournalWaits;
  tlsFailures: TlsFailureLog;
  metrics: MockMetrics;
  scenarios: ScenarioRegistry;
  /** Scenario files left to read once the first request is answered. */
  scenariosRemaining: boolean;
  liveEvents: LiveEvents;
  sessions: SessionStore;
  recording: Recording | null;
  /** With --store: the shared store and the changes this replica shares (else null). */
  store: OpenedStore | null;
  /** This process's id among replicas. */
  replica: string;
  /** With --peers: the other replicas as journal sources (else null). */
  peers: Peers | null;
  /** What each entitlement handler works with. */
  exchange: ExchangeState;
  onTlsFailure: (failure: TlsFailure) => void;
  onInternalError: (error: unknown) => void;
}

export type { MockCore };

/** What a start opened, for close() to take apart (also after a failed start). */
interface Opened {
  listeners: RunningListener[];
  /** Plain-HTTP listeners beside them: the CRL listener. */
  servers: HttpServer[];
  /** Where the CRL listener publishes the CRL (with --trouble-port). */
  crlUrl: string | null;
  admin: AdminServer;
  conformance: { close(): void; readonly size: number } | null;
  /** Set once every listener is up: a mock that failed to start writes no recording. */
  serving: boolean;
}

type AdminServer = ReturnType<typeof createAdminServer>;

async function startRecording(options: RecordOptions): Promise<Recording> {
  const { Recording, RecordingSetupError } = await import('../record/recording.js');
  try {
    return await Recording.start(options, version());
  } catch (error) {
    if (error instanceof RecordingSetupError) throw new StartupError(`cannot start: ${error.message}`);
    throw error;
  }
}

/** The server's certificate and key and the CA clients must chain to; a development PKI is generated when there is none. */
async function serverTls(options: MockOptions, log: MockLogger['pino']): Promise<ServerTlsMaterial> {
  // The X.509 generator (and its dependencies: ~25 MiB and ~0.1 s) is loaded only when something must be generated.
  const serverPairExists = isComplete(await keyPairFiles(options.certs, 'server'));
  const generated = serverPairExists
    ? null
    : await writingCerts(options.certs, async () =>
        (await import('../pki/generate.js')).ensureDevPki({ outDir: options.certs, sans: options.sans, keyType: options.keyType }),
      );
  if (generated) {
    log.info({ certs: options.certs, written: generated.written }, 'generated a development PKI');
    for (const warning of generated.warnings) log.warn({ certs: options.certs }, warning);
  }
  return loadServerTls(options.certs, options.clientCa ?? undefined);
}

async function mockCore(options: MockOptions, logger: MockLogger, recording: Recording | null, role: ClusterRole | null): Promise<MockCore> {
  const log = logger.pino;
  const seed = options.seed ?? defaultSeed();
  // Journals that are merged need ids that never collide and grow with time across processes.
  const journal = new Journal(options.journalSize, undefined, role?.entryIds ?? (options.peers === null ? null : replicaEntryIds()));
  const tlsFailures = new TlsFailureLog(Math.min(options.journalSize, 10_000));
  const local = new LocalSource(journal, tlsFailures);
  // A cluster primary takes no requests: its workers are the journal's sources.
  const federation = new JournalFederation(role?.kind === 'primary' ? [] : [local]);
  const replica = randomUUID();
  const peers = options.peers === null ? null : peerSources(options, federation, replica);
  const waits = new JournalWaits(federation);
  const metrics = new MockMetrics(journal);
  const liveEvents = new LiveEvents(federation);
  const store = options.store === null ? null : (await import('../store/open.js')).openStore(parseStoreUrl(options.store));
  const scenarios = scenarioRegistry(options, seed, metrics, liveEvents, log, role?.shared ?? store?.rules ?? null);
  const scenariosRemaining = await loadStartScenario(scenarios, log);
  const sessions = new SessionStore(seed, Date.now, role?.shared ?? store?.rules ?? null);
  // A wait on the journal of a session that ended would never be satisfied: it ends too.
  sessions.on('ended', ({ id }) => waits.endSession(id));
  metrics.watchKeyStats(() => [
    { scenario: scenarios.activeName(), session: '', stats: scenarios.active().keyStats() },
    ...sessions.keyStats().map(({ session, stats }) => ({ scenario: '', session, stats })),
  ]);
  const exchange: ExchangeState = {
    scenarios,
    sessions,
    journal,
    seenMessageIds: new SeenMessageIds(100_000),
    held: new HeldExchanges(),
    observers: [
      { exchangeEnded: (entry) => logger.exchange(entry) },
      { exchangeEnded: (entry) => metrics.observeExchange(entry) },
      { exchangeEnded: (entry) => local.events.ended(entry) },
    ],
    forwarder: recording,
  };
  const onTlsFailure = (failure: TlsFailure) => {
    tlsFailures.record(failure);
    metrics.observeTlsFailure(failure);
    local.events.tlsFailure(failure);
    log.info({ listener: failure.listener, remote: failure.remote, reason: failure.reason }, 'TLS handshake refused');
  };
  const onInternalError = (error: unknown) => log.error({ err: error }, 'internal error while answering an entitlement request');
  const core: MockCore = { seed, journal, local, federation, waits, tlsFailures, metrics, scenarios, scenariosRemaining, liveEvents, sessions, recording, store, replica, peers, exchange, onTlsFailure, onInternalError };
  // A --workers primary passes on every change from here on, what the store brings included.
  role?.watch?.(core);
  if (store !== null) {
    // The scenario another replica made active may be any of the files: all are read before catching up.
    if (scenariosRemaining) for (const error of (await scenarios.loadRemaining()).errors) log.warn({ error: formatError(error) }, 'scenario file skipped');
    core.scenariosRemaining = false;
    const seenMessageIds = exchange.seenMessageIds;
    // Another replica's reset clears this replica's own journals: this process's, or its workers'.
    const reset = () => resetLocally({ waits, local: federation.ownJournals, sessions, seenMessageIds, scenarios });
    await store.start(replica, { scenarios, sessions, reset, ...(role?.settle ? { settle: role.settle } : {}) }, log);
  }
  return core;
}

/** --peers: the other replicas' journals, asked with this replica's admin token, each question within PEER_TIMEOUT_MS. */
function peerSources(options: MockOptions, federation: JournalFederation, replica: string): Peers {
  return new Peers(parsePeers(options.peers!, options.adminPort), federation, { replica, adminToken: options.adminToken, timeoutMs: PEER_TIMEOUT_MS });
}

/** A peer that has not answered one question within this long counts as not answering. */
const PEER_TIMEOUT_MS = 2000;

/** The scenario files, watched (reloads are logged, counted and told to the dashboard), not read yet. */
function scenarioRegistry(
  options: MockOptions,
  seed: number,
  metrics: MockMetrics,
  liveEvents: LiveEvents,
  log: MockLogger['pino'],
  shared: SharedRuleState | null,
): ScenarioRegistry {
  const scenarios = new ScenarioRegistry({
    shared,
    path: options.scenarios,
    initial: options.scenario,
    random: seededRandom(seed),
    watch: options.watch,
    onReload: (outcome) => {
      metrics.observeReload(outcome.errors.length === 0);
      if (outcome.errors.length === 0) log.info({ scenarios: outcome.names }, 'scenarios reloaded');
      else log.warn({ errors: outcome.errors.map(formatError) }, 'scenario reload found errors; last good versions kept');
    },
  });
  scenarios.on('change', (edit) => liveEvents.scenarioChanged(scenarios.activeName(), edit));
  scenarios.on('reload', (outcome) => liveEvents.scenarioChanged(outcome.active, outcome.trigger === 'reset' ? 'reset' : 'reload'));
  return scenarios;
}

/** Reads the scenario to start with (the others may wait); one that cannot be had stops the start. True when files remain to read. */
async function loadStartScenario(scenarios: ScenarioRegistry, log: MockLogger['pino']): Promise<boolean> {
  const loaded = await scenarios.loadStartScenarioFirst();
  if (!loaded.ok) {
    const fix = loaded.failure === 'unknown-initial' ? { option: 'scenario' as const, advice: 'choose one' } : null;
    throw new StartupError(`cannot start: ${loaded.message}`, fix, loaded.errors.map(formatError));
  }
  for (const error of loaded.errors) log.warn({ error: formatError(error) }, 'scenario file skipped');
  return loaded.remaining;
}

/** The main entitlement listener, then (with --trouble-port) the trouble listeners; each is added to `opened` as it opens. */
async function openEntitlementListeners(
  options: MockOptions,
  core: MockCore,
  tls: ServerTlsMaterial,
  offeredTls: TlsOffer,
  opened: Opened,
  log: MockLogger['pino'],
): Promise<void> {
  const common = { host: options.host, clientAuth: options.clientAuth, onTlsFailure: core.onTlsFailure, limits: options, tls: offeredTls };
  const handler = (listener: ListenerName) =>
    createEntitlementHandler({ path: options.path, listener, state: core.exchange, bodyTimeoutMs: options.bodyTimeoutMs, onInternalError: core.onInternalError });
  opened.listeners.push(
    await listening(ENTITLEMENT_LISTENER, options.host, options.port, startEntitlementListener({ ...common, name: 'main', port: options.port, ...tls, handler: handler('main') })),
  );
  if (options.troublePort === null) return;
  const { startTroubleListeners } = await import('./trouble-listeners.js');
  const { crlUrl } = await startTroubleListeners({
    options,
    startListener: (name, material, port) => startEntitlementListener({ ...common, name, port, ...material, clientCa: tls.clientCa, handler: handler(name) }),
    listeners: opened.listeners,
    servers: opened.servers,
    onCrlFetch: ({ remote, method }) => log.info({ remote, method }, 'CRL fetched: the client checks revocation'),
    onCrlError: (error) => log.error({ err: error }, 'internal error while building the CRL'),
  });
  opened.crlUrl = crlUrl;
}

/** Loads the admin API (and the scenario files left for later) and opens the admin listener. */
async function openAdminApi(options: MockOptions, core: MockCore, opened: Opened, startedAt: number, log: MockLogger['pino'], role: ClusterRole | null): Promise<void> {
  const [{ createAdminApp }, { ConformanceRuns }, remaining] = await Promise.all([
    import('./admin-app.js'),
    import('../conformance/runs.js'),
    core.scenariosRemaining ? core.scenarios.loadRemaining() : null,
  ]);
  for (const error of remaining?.errors ?? []) log.warn({ error: formatError(error) }, 'scenario file skipped');
  const conformance = new ConformanceRuns({
    sessions: core.sessions,
    journal: role?.conformanceJournal ?? core.journal,
    path: options.path,
    host: urlHost(options.host),
    troublePorts: role?.troublePorts ?? troublePortsOf(opened.listeners),
  });
  opened.conformance = conformance;
  const { admin } = opened;
  admin.on(
    'request',
    createAdminApp({
      startedAt,
      journal: core.journal,
      federation: core.federation,
      waits: core.waits,
      seenMessageIds: core.exchange.seenMessageIds,
      scenarios: core.scenarios,
      sessions: core.sessions,
      conformance,
      metrics: role?.metrics ?? core.metrics,
      liveEvents: core.liveEvents,
      recording: core.recording,
      replica: core.replica,
      peers: core.peers,
      shared: role?.store ?? (core.store === null || core.store.changes === null ? null : { announce: (change) => core.store!.changes!.announce(change), rules: core.store.rules }),
      adminToken: options.adminToken,
      settle: role?.settle ?? null,
      onInternalError: (error) => log.error({ err: error }, 'internal error in an admin route'),
    }).callback(),
  );
  await listening(
    ADMIN_LISTENER,
    options.adminHost,
    options.adminPort,
    listenOn(admin, options.adminPort, options.adminHost),
  );
}

/** The start line (and the warning for an open admin API without a token); what the caller gets to hold. */
function announce(
  options: MockOptions,
  core: MockCore,
  { listeners, admin, crlUrl }: Opened,
  close: RunningMock['close'],
  startedAt: number,
  log: MockLogger['pino'],
): RunningMock {
  const { seed, recording, scenarios } = core;
  const running = runningOf(options, core, { listeners, admin, crlUrl }, close);
  const { entitlementUrl, adminUrl, troublePorts } = running;

  if (options.adminToken === null && !isLoopback(options.adminHost))
    log.warn({ adminHost: options.adminHost }, 'the admin API has no --admin-token and listens beyond loopback');
  log.info(
    {
      entitlementUrl,
      adminUrl,
      scenario: scenarios.activeName(),
      clientAuth: options.clientAuth,
      seed,
      ...(listeners.length > 1 ? { troublePorts, crlUrl } : {}),
      ...(recording ? { recording: { upstream: recording.status().upstream, out: recording.status().out } } : {}),
      startupMs: Math.round(performance.now() - startedAt),
    },
    `entitlement-mock listening on ${entitlementUrl} (admin ${adminUrl})${recording ? `, recording ${recording.status().upstream}` : ''}`,
  );
  return running;
}

/** What the caller of startMock holds. */
function runningOf(options: MockOptions, core: MockCore, { listeners, admin, crlUrl }: Pick<Opened, 'listeners' | 'admin' | 'crlUrl'>, close: RunningMock['close']): RunningMock {
  const adminAddress = admin.address();
  const adminPort = typeof adminAddress === 'object' && adminAddress ? adminAddress.port : options.adminPort;
  const port = listeners[0]?.port ?? options.port;
  return {
    entitlementUrl: `https://${urlHost(options.host)}:${port}${options.path}`,
    adminUrl: `http://${urlHost(options.adminHost)}:${adminPort}`,
    port,
    adminPort,
    troublePorts: troublePortsOf(listeners),
    crlUrl,
    seed: core.seed,
    journal: core.journal,
    scenarios: core.scenarios,
    recording: core.recording,
    sessions: core.sessions,
    close,
  };
}

/** Trouble listeners by name with their ports (all listeners but the first, the main one). */
function troublePortsOf(listeners: readonly RunningListener[]): Record<string, number> {
  return Object.fromEntries(listeners.slice(1).map((listener) => [listener.name, listener.port]));
}

/** How a mock stops: waits end, held exchanges end, in-flight ones get `graceMs`, then the recording is written. */
function closer(core: MockCore, opened: Opened, logger: MockLogger): RunningMock['close'] {
  return async (graceMs = 4000) => {
    // Pending waits answer first, so their connections are not what holds the shutdown up.
    core.waits.endAll('shutdown');
    core.scenarios.close();
    core.liveEvents.close();
    core.sessions.close();
    opened.conformance?.close();
    const servers = [...opened.listeners.map((listener) => listener.server), ...opened.servers, opened.admin];
    const allClosed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    core.exchange.held.releaseAll();
    for (const server of servers) server.closeIdleConnections();
    const timer = setTimeout(() => servers.forEach((server) => server.closeAllConnections()), graceMs);
    await allClosed;
    clearTimeout(timer);
    // After the in-flight exchanges: they may still need the store.
    core.store?.close();
    if (core.recording) {
      core.recording.close();
      if (opened.serving) await writeFinalRecording(core.recording, logger.pino);
    }
    logger.flush();
  };
}

/**
 * At stop, after the last forwarded exchange ended: the recording goes to --out (a failure is
 * logged, not thrown). An empty one is not written, so a start and stop with nothing recorded
 * never replaces an earlier recording (--overwrite) or a snapshot with nothing.
 */
async function writeFinalRecording(recording: Recording, log: MockLogger['pino']): Promise<SnapshotResult | null> {
  const { recorded, out } = recording.status();
  if (recorded === 0) {
    log.warn({ file: out }, `nothing was recorded; ${out} not written`);
    return null;
  }
  try {
    const written = await recording.snapshot();
    log.info(written, `recorded ${written.recorded} answers in ${written.rules} rules to ${written.file}`);
    return written;
  } catch (error) {
    log.error({ err: error, file: recording.status().out }, 'could not write the recording');
    return null;
  }
}

const ENTITLEMENT_LISTENER: ListenerRole = {
  name: 'the entitlement listener',
  portOption: 'port',
  hostOption: 'host',
  portAdvice: 'choose another port',
};
const ADMIN_LISTENER: ListenerRole = { name: 'the admin listener', portOption: 'adminPort', hostOption: 'adminHost', portAdvice: 'choose another port' };

/** The TLS the listeners offer; an option this OpenSSL cannot honour stops the start, naming it. */
function checkedTlsOffer(options: MockOptions): TlsOffer {
  try {
    return tlsOffer(options);
  } catch (error) {
    if (error instanceof TlsOptionError) throw new StartupError(`cannot start: ${error.message}`, { option: error.option, advice: 'choose another value' });
    throw error;
  }
}

/** No connection this soon after listening: nobody is waiting for a first answer. */
const QUIET_AFTER_LISTEN_MS = 10;
/** A first connection that never becomes a journaled request (refused, silent) holds the rest of the start up at most this long. */
const FIRST_ANSWER_WAIT_MS = 250;

/** Resolves once the listener journaled its first request, or when no connection came within QUIET_AFTER_LISTEN_MS. */
function firstAnswerOrQuiet(server: Server, journal: Journal): Promise<void> {
  return new Promise((resolve) => {
    const quiet = setTimeout(done, QUIET_AFTER_LISTEN_MS);
    const cap = setTimeout(done, FIRST_ANSWER_WAIT_MS);
    const onConnection = () => clearTimeout(quiet);
    server.once('connection', onConnection);
    const unsubscribe = journal.subscribe({ appended: done });
    function done() {
      clearTimeout(quiet);
      clearTimeout(cap);
      server.off('connection', onConnection);
      unsubscribe();
      resolve();
    }
  });
}

function formatError(error: { file: string; line: number; column: number; message: string }): string {
  return `${error.file}:${error.line}:${error.column}: ${error.message}`;
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}
