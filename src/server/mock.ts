/**
 * Wires a running mock together: PKI, scenarios, journal, the entitlement
 * listener(s) and the admin listener; and takes it apart again gracefully.
 */
import type { Server } from 'node:net';
import { loadServerTls } from '../pki/load.js';
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
import { TlsFailureLog } from './tls-failures.js';
import { MockMetrics } from './metrics.js';
import { createLogger, type MockLogger } from './logger.js';
import type { MockOptions } from './options.js';
import type { ExchangeState } from './exchange.js';
import type { Recording, SnapshotResult } from '../record/recording.js';
import { version } from '../version.js';
import { certsFolderError, listenError, StartupError, type ListenerRole } from './startup-errors.js';
import { tlsOffer, TlsOptionError, type TlsOffer } from './tls-offer.js';
import { urlHost } from './url-host.js';

export interface RunningMock {
  readonly entitlementUrl: string;
  readonly adminUrl: string;
  readonly port: number;
  readonly adminPort: number;
  /** Trouble listeners by name with their ports (empty without --trouble-port). */
  readonly troublePorts: Readonly<Record<string, number>>;
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

export async function startMock(options: MockOptions, logger: MockLogger = createLogger(options.logLevel)): Promise<RunningMock> {
  const log = logger.pino;
  const startedAt = performance.now();
  const offeredTls = checkedTlsOffer(options);

  // Before anything is generated or opened: a recording that cannot begin stops the start.
  let recording: Recording | null = null;
  if (options.record) {
    const { Recording, RecordingSetupError } = await import('../record/recording.js');
    try {
      recording = await Recording.start(options.record, version());
    } catch (error) {
      if (error instanceof RecordingSetupError) throw new StartupError(`cannot start: ${error.message}`);
      throw error;
    }
  }

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
  const tls = loadServerTls(options.certs, options.clientCa ?? undefined);

  const seed = options.seed ?? defaultSeed();
  const journal = new Journal(options.journalSize);
  const waits = new JournalWaits(journal);
  const tlsFailures = new TlsFailureLog(Math.min(options.journalSize, 10_000));
  const metrics = new MockMetrics(journal);
  const scenarios = new ScenarioRegistry({
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
  const liveEvents = new LiveEvents(journal);
  scenarios.on('change', (edit) => liveEvents.scenarioChanged(scenarios.activeName(), edit));
  scenarios.on('reload', (outcome) => liveEvents.scenarioChanged(outcome.active, outcome.trigger === 'reset' ? 'reset' : 'reload'));
  const loaded = await scenarios.loadStartScenarioFirst();
  if (!loaded.ok) {
    const fix = loaded.failure === 'unknown-initial' ? { option: 'scenario' as const, advice: 'choose one' } : null;
    throw new StartupError(`cannot start: ${loaded.message}`, fix, loaded.errors.map(formatError));
  }
  for (const error of loaded.errors) log.warn({ error: formatError(error) }, 'scenario file skipped');

  const sessions = new SessionStore(seed);
  // A wait on the journal of a session that ended would never be satisfied: it ends too.
  sessions.on('ended', ({ id }) => waits.endSession(id));
  metrics.watchKeyStats(() => [
    { scenario: scenarios.activeName(), session: '', stats: scenarios.active().keyStats() },
    ...sessions.keyStats().map(({ session, stats }) => ({ scenario: '', session, stats })),
  ]);
  const state: ExchangeState = {
    scenarios,
    sessions,
    journal,
    seenMessageIds: new SeenMessageIds(100_000),
    held: new HeldExchanges(),
    observers: [
      { exchangeEnded: (entry) => logger.exchange(entry) },
      { exchangeEnded: (entry) => metrics.observeExchange(entry) },
      { exchangeEnded: (entry) => liveEvents.exchangeEnded(entry) },
    ],
    forwarder: recording,
  };
  const onTlsFailure = (failure: Parameters<TlsFailureLog['record']>[0]) => {
    tlsFailures.record(failure);
    metrics.observeTlsFailure(failure);
    liveEvents.tlsFailure(failure);
    log.info({ listener: failure.listener, remote: failure.remote, reason: failure.reason }, 'TLS handshake refused');
  };

  const onInternalError = (error: unknown) => log.error({ err: error }, 'internal error while answering an entitlement request');

  const listeners: RunningListener[] = [];
  /** Set once every listener is up: a mock that failed to start writes no recording. */
  let serving = false;
  const admin = createAdminServer(options.headerTimeoutMs);
  let conformance: { close(): void } | null = null;
  const close = async (graceMs = 4000) => {
    // Pending waits answer first, so their connections are not what holds the shutdown up.
    waits.endAll('shutdown');
    scenarios.close();
    liveEvents.close();
    sessions.close();
    conformance?.close();
    const servers = [...listeners.map((listener) => listener.server), admin];
    const allClosed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    state.held.releaseAll();
    for (const server of servers) server.closeIdleConnections();
    const timer = setTimeout(() => servers.forEach((server) => server.closeAllConnections()), graceMs);
    await allClosed;
    clearTimeout(timer);
    if (recording) {
      recording.close();
      if (serving) await writeFinalRecording(recording, log);
    }
    logger.flush();
  };

  try {
    listeners.push(
      await listening(ENTITLEMENT_LISTENER, options.host, options.port, startEntitlementListener({
        name: 'main',
        host: options.host,
        port: options.port,
        ...tls,
        clientAuth: options.clientAuth,
        handler: createEntitlementHandler({ path: options.path, listener: 'main', state, bodyTimeoutMs: options.bodyTimeoutMs, onInternalError }),
        onTlsFailure,
        limits: options,
        tls: offeredTls,
      })),
    );
    if (options.troublePort !== null) {
      const { ensureTroublePki, TROUBLE_KINDS } = await import('../pki/trouble.js');
      const troubleCerts = await writingCerts(options.certs, () =>
        ensureTroublePki({ outDir: options.certs, sans: options.sans, keyType: options.keyType }),
      );
      const first = options.troublePort;
      for (const [index, kind] of TROUBLE_KINDS.entries()) {
        // 0: each trouble listener on a free port of its own (a test names them by listener, not port math).
        const port = first === 0 ? 0 : first + index;
        const role: ListenerRole = {
          name: `trouble listener ${index + 1} of ${TROUBLE_KINDS.length} (${kind})`,
          portOption: 'troublePort',
          hostOption: 'host',
          portAdvice: `the trouble listeners take ${first} to ${first + TROUBLE_KINDS.length - 1}: choose another first port`,
        };
        listeners.push(
          await listening(role, options.host, port, startEntitlementListener({
            name: kind,
            host: options.host,
            port,
            ...troubleCerts[kind],
            clientCa: tls.clientCa,
            clientAuth: options.clientAuth,
            handler: createEntitlementHandler({ path: options.path, listener: kind, state, bodyTimeoutMs: options.bodyTimeoutMs, onInternalError }),
            onTlsFailure,
            limits: options,
            tls: offeredTls,
          })),
        );
      }
    }
    // Only the admin API needs Koa, its router and body parser, and prom-client (~40% of the
    // modules a start loads), and only a later request the other scenario files: both load
    // once the main listener has answered its first request (or nobody is waiting for one),
    // since loading them would hold that answer up. The start line still comes after both.
    await firstAnswerOrQuiet((listeners[0] as RunningListener).server, journal);
    const [{ createAdminApp }, { ConformanceRuns }, remaining] = await Promise.all([
      import('./admin-app.js'),
      import('../conformance/runs.js'),
      loaded.remaining ? scenarios.loadRemaining() : null,
    ]);
    const conformanceRuns = new ConformanceRuns({
      sessions,
      journal,
      path: options.path,
      host: urlHost(options.host),
      troublePorts: Object.fromEntries(listeners.slice(1).map((listener) => [listener.name, listener.port])),
    });
    conformance = conformanceRuns;
    for (const error of remaining?.errors ?? []) log.warn({ error: formatError(error) }, 'scenario file skipped');
    admin.on(
      'request',
      createAdminApp({
        startedAt,
        journal,
        waits,
        seenMessageIds: state.seenMessageIds,
        tlsFailures,
        scenarios,
        sessions,
        conformance: conformanceRuns,
        metrics,
        liveEvents,
        recording,
        adminToken: options.adminToken,
        onInternalError: (error) => log.error({ err: error }, 'internal error in an admin route'),
      }).callback(),
    );
    await listening(
      ADMIN_LISTENER,
      options.adminHost,
      options.adminPort,
      new Promise<void>((resolve, reject) => {
        admin.once('error', reject);
        admin.listen(options.adminPort, options.adminHost, () => {
          admin.off('error', reject);
          resolve();
        });
      }),
    );
  } catch (error) {
    await close(0);
    throw error;
  }

  const mainListener = listeners[0] as RunningListener;
  const adminAddress = admin.address();
  const adminPort = typeof adminAddress === 'object' && adminAddress ? adminAddress.port : options.adminPort;
  const entitlementUrl = `https://${urlHost(options.host)}:${mainListener.port}${options.path}`;
  const adminUrl = `http://${urlHost(options.adminHost)}:${adminPort}`;
  const troublePorts = Object.fromEntries(listeners.slice(1).map((listener) => [listener.name, listener.port]));

  if (options.adminToken === null && !isLoopback(options.adminHost))
    log.warn({ adminHost: options.adminHost }, 'the admin API has no --admin-token and listens beyond loopback');
  log.info(
    {
      entitlementUrl,
      adminUrl,
      scenario: scenarios.activeName(),
      clientAuth: options.clientAuth,
      seed,
      ...(listeners.length > 1 ? { troublePorts } : {}),
      ...(recording ? { recording: { upstream: recording.status().upstream, out: recording.status().out } } : {}),
      startupMs: Math.round(performance.now() - startedAt),
    },
    `entitlement-mock listening on ${entitlementUrl} (admin ${adminUrl})${recording ? `, recording ${recording.status().upstream}` : ''}`,
  );
  serving = true;

  return {
    entitlementUrl,
    adminUrl,
    port: mainListener.port,
    adminPort,
    troublePorts,
    seed,
    journal,
    scenarios,
    recording,
    sessions,
    close,
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

/** A listener starting; a port in use (and the like) becomes a StartupError naming the listener and its option. */
async function listening<T>(role: ListenerRole, host: string, port: number, started: Promise<T>): Promise<T> {
  try {
    return await started;
  } catch (error) {
    throw listenError(error, role, host, port) ?? error;
  }
}

/** The TLS the listeners offer; an option this OpenSSL cannot honour stops the start, naming it. */
function checkedTlsOffer(options: MockOptions): TlsOffer {
  try {
    return tlsOffer(options);
  } catch (error) {
    if (error instanceof TlsOptionError) throw new StartupError(`cannot start: ${error.message}`, { option: error.option, advice: 'choose another value' });
    throw error;
  }
}

/** Writing certificates into the certs folder; a folder that cannot be written becomes a StartupError naming it and --certs. */
async function writingCerts<T>(certs: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw certsFolderError(error, certs) ?? error;
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
