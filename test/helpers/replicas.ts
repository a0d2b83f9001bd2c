/**
 * A replica for the --store tests: the bin (`serve`) as a child process of its own, sharing a
 * Redis and listing its peers, asked as a license server asks (a new connection per request).
 * Build first (`npm run build`): the bin runs the bundle in dist/.
 */
import { once } from 'node:events';
import { adminCaller, sendEntitlementRequest, type EntitlementReply, type TestMock } from './mock.js';
import { spawnBin, startLineOf } from './cli.js';
import type { TestPki } from './pki.js';
import type { Own } from './cleanup.js';
import { slack } from './slack.js';

export interface Replica {
  readonly process: ReturnType<typeof spawnBin>;
  readonly adminUrl: string;
  admin: TestMock['admin'];
  /** An Entitlement Request with the license server's client certificate. */
  entitle(body: unknown): Promise<EntitlementReply>;
  /** The replica's log lines after its start line (JSON). */
  readonly logs: Record<string, any>[];
  /** With --workers: the workers' pids at start. */
  readonly workerPids: number[];
  /** SIGTERM, as an orchestrator stops a replica; resolves with its exit code once it has exited. */
  stop(): Promise<number | null>;
}

export interface ReplicaOptions {
  pki: TestPki;
  redisUrl: string;
  adminPort: number;
  /** The --peers value (none: the replica answers for itself alone). */
  peers?: string;
  /** The --scenarios folder (default: the repository's). */
  scenarios?: string;
  /** More options, e.g. `--workers 2`. */
  more?: string[];
  /** Closes the process whatever happens (closeAfter(test.after)). */
  own: Own;
}

export async function startReplica({ pki, redisUrl, adminPort, peers, scenarios = 'scenarios', more = [], own }: ReplicaOptions): Promise<Replica> {
  const child = own(
    spawnBin([
      'serve',
      ...['--store', redisUrl, ...(peers === undefined ? [] : ['--peers', peers])],
      ...['--host', '127.0.0.1', '--port', '0', '--admin-host', '127.0.0.1', '--admin-port', String(adminPort)],
      ...['--certs', pki.dir, '--scenarios', scenarios, '--no-watch', '--seed', '42', '--log-level', 'info'],
      ...more,
    ]),
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Several processes start one after the other on a busy machine: more than one mock's start (a group's: its workers' too).
  const { startLine, lines } = await startLineOf(child, slack(more.includes('--workers') ? 8000 : 5000)).catch((error: Error) => {
    throw new Error(`the replica with admin port ${adminPort}: ${error.message}; stderr: ${stderr}`);
  });
  const logs: Record<string, any>[] = [];
  lines.on('line', (line) => logs.push(JSON.parse(line)));
  const target = { port: Number(new URL(startLine.entitlementUrl).port), ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' };
  return {
    process: child,
    adminUrl: startLine.adminUrl,
    admin: adminCaller(startLine.adminUrl),
    entitle: (body) => sendEntitlementRequest(target, body),
    logs,
    workerPids: startLine.workerPids ?? [],
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      return child.exitCode;
    },
  };
}
