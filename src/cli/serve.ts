/** `entitlement-mock [serve] [options]`: run the mock until SIGTERM/SIGINT. */
import { parseServeOptions, serveHelp, SERVE_OPTIONS, UsageError } from './serve-options.js';
import { startMock, StartupError } from '../server/mock.js';
import type { MockOptions } from '../server/options.js';
import { createLogger } from '../server/logger.js';
import { removeReadyFile, writeReadyFile } from './ready-file.js';
import { whenNpmParentGone } from './parent-watch.js';
import { setHeapPolicy } from './heap-policy.js';
import cluster from 'node:cluster';
import type { RunningGroup } from '../cluster/primary.js';

/** How long in-flight responses may take to finish after SIGTERM before connections are cut. */
const SHUTDOWN_GRACE_MS = 3000;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`Usage: entitlement-mock [serve] [options]\n\nOptions (and environment variables):\n${serveHelp()}\n`);
    return 0;
  }
  let options;
  try {
    options = parseServeOptions(args, process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`entitlement-mock: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  return runUntilSignal(options);
}

/** An option as the command line knows it: "--admin-port or EM_ADMIN_PORT". */
function commandLineName(option: keyof MockOptions): string {
  const flag = option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  const spec = (SERVE_OPTIONS as Record<string, { env: string }>)[flag];
  return spec ? `--${flag} or ${spec.env}` : `--${flag}`;
}

/** Start the mock, run until SIGTERM/SIGINT, stop gracefully. Exit 1 when it cannot start or a recording could not be written. */
export async function runUntilSignal(options: MockOptions): Promise<number> {
  setHeapPolicy();
  const logger = createLogger(options.logLevel);
  if (options.workers > 1 && options.record) {
    process.stderr.write('entitlement-mock: --workers works with serve only, not with record (one process records)\n');
    return 2;
  }
  let mock;
  let group: RunningGroup | null = null;
  try {
    if (cluster.isWorker) mock = await (await import('../cluster/worker.js')).startWorker(options, logger);
    else if (options.workers > 1) mock = (group = await (await import('../cluster/primary.js')).startGroup(options, logger)).mock;
    else mock = await startMock(options, logger);
  } catch (error) {
    const message = error instanceof StartupError ? error.describe(commandLineName) : `cannot start: ${(error as Error).message}`;
    logger.pino.fatal(message);
    logger.flush();
    process.stderr.write(`entitlement-mock: ${message}\n`);
    // A worker's IPC channel would keep it running: it ends, and its primary stops the group.
    if (cluster.isWorker) process.exit(1);
    return 1;
  }

  let stopWatchingParent = () => {};
  const signal = new Promise<NodeJS.Signals | 'parent exited'>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    stopWatchingParent = whenNpmParentGone(() => resolve('parent exited'));
  });
  // A worker is stopped by its primary (SIGTERM), which alone writes the ready file once every worker listens.
  if (options.readyFile !== null && !cluster.isWorker) {
    try {
      await writeReadyFile(options.readyFile, { entitlementUrl: group?.entitlementUrl ?? mock.entitlementUrl, adminUrl: mock.adminUrl, pid: process.pid });
    } catch (error) {
      logger.pino.fatal((error as Error).message);
      logger.flush();
      process.stderr.write(`entitlement-mock: ${(error as Error).message}\n`);
      await (group ?? mock).close(0);
      return 1;
    }
  }
  logger.pino.info({ signal: await signal }, 'shutting down');
  stopWatchingParent();
  await (group ?? mock).close(SHUTDOWN_GRACE_MS);
  if (options.readyFile !== null && !cluster.isWorker) await removeReadyFile(options.readyFile);
  const recordingLost = mock.recording !== null && mock.recording.status().writeError !== null;
  logger.pino.info('stopped');
  await logger.close();
  // Nothing should be left running; if something is, it must not keep a container from stopping.
  setTimeout(() => process.exit(recordingLost ? 1 : 0), 500).unref();
  return recordingLost ? 1 : 0;
}
