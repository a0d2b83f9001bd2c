/**
 * A replica for the --store tests: the bin (`serve`) as a child process of its own, sharing a
 * Redis and listing its peers, asked as a license server asks (a new connection per request).
 * Build first (`npm run build`): the bin runs the bundle in dist/. Also what the --store suites
 * share: the 9-step scenario, and a Redis outage under load with what the fail-closed rule promises.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as assert from 'uvu/assert';
import { adminCaller, eventually, sendEntitlementRequest, type EntitlementReply, type TestMock } from './mock.js';
import type { TestRedis } from './redis.js';
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

/** The scenario the --store suites post: a counted 9-step sequence (contentID nine) and a stateless rule (contentID plain). */
export const NINE_STEPS = [
  'name: nine',
  'rules:',
  '  - name: nine-steps',
  '    match: { contentID: nine }',
  '    times: 9',
  `    sequence: [${Array.from({ length: 9 }, (_, i) => `{ isAllowed: false, errorText: step-${i + 1} }`).join(', ')}]`,
  '  - name: plain',
  '    match: { contentID: plain }',
  '    respond: { isAllowed: true }',
].join('\n');

/** An Entitlement Request for `contentID`, with a fresh messageID. */
export const request = (contentID: string, more: Record<string, unknown> = {}) => ({ messageID: randomUUID(), version: 1, contentID, ...more });

/**
 * Switch to NINE_STEPS through `via` (its counts start again everywhere), then 30 concurrent
 * clients round-robin over the replicas: each of the 9 steps exactly once, the other 21 used up.
 */
export async function assertStepsOnceUnder30Clients(replicas: readonly Replica[], via: Replica): Promise<void> {
  const switched = await via.admin('PUT', '/admin/scenarios/active', { name: 'nine' });
  assert.is(switched.status, 200, switched.text);
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => replicas[i % replicas.length]!.entitle(request('nine'))));
  const steps = answers.filter((answer) => answer.status === 200).map((answer) => (answer.json as { errorText: string }).errorText);
  assert.equal(steps.sort(), Array.from({ length: 9 }, (_, i) => `step-${i + 1}`).sort(), 'each of the 9 steps exactly once');
  assert.is(answers.filter((answer) => answer.status === 404).length, 21);
}

/** What the journal tests read of an entry. */
export interface ListedEntry {
  id: number;
  time: string;
  /** The admin URL of the replica that answered it, when another than the one asked. */
  replica?: string;
  step: number | null;
  session: string | null;
  request: { contentID: string };
  response: { status: number };
  problems: string[];
}

/**
 * After a reset, `count` requests sent round-robin over the replicas (contentIDs `PREFIX-0`, …):
 * a journal query through each replica returns all of them in the order they arrived, the
 * entries of the others naming their replica; a count through each finds one. Returns the
 * entries as each replica listed them.
 */
export async function assertRoundRobinJournals(replicas: readonly Replica[], prefix: string, count: number): Promise<ListedEntry[][]> {
  assert.is((await replicas[0]!.admin('POST', '/admin/reset')).status, 200);
  for (let i = 0; i < count; i++) await replicas[i % replicas.length]!.entitle(request(`${prefix}-${i}`));
  const listed: ListedEntry[][] = [];
  for (const [at, via] of replicas.entries()) {
    const answer = await via.admin('GET', '/admin/requests');
    assert.is(answer.status, 200, answer.text);
    assert.is(answer.json.total, count);
    const entries = answer.json.requests as ListedEntry[];
    assert.equal(
      entries.map((entry) => entry.request.contentID),
      Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
      'all of them, in the order they arrived',
    );
    assert.equal(
      entries.map((entry) => entry.replica ?? null),
      Array.from({ length: count }, (_, i) => (i % replicas.length === at ? null : replicas[i % replicas.length]!.adminUrl)),
      "others' entries name their replica",
    );
    assert.is((await via.admin('GET', `/admin/requests/count?contentID=${prefix}-${count - 1}`)).json.count, 1);
    listed.push(entries);
  }
  return listed;
}

/** What a reset through any replica leaves on every one: no sessions, an empty journal. */
export async function assertResetEverywhere(replicas: readonly Replica[]): Promise<void> {
  for (const replica of replicas) {
    assert.equal((await replica.admin('GET', '/admin/sessions')).json.sessions, []);
    assert.is((await replica.admin('GET', '/admin/requests')).json.requests.length, 0, 'every journal is cleared');
    assert.is((await replica.admin('GET', '/admin/requests/count')).json.count, 0);
  }
}

export interface LoadAnswer {
  contentID: 'plain' | 'nine';
  status: number;
  errorText?: string;
}

/**
 * Redis stopped under load and started again, with NINE_STEPS active. Turn after turn the next
 * replica gets a stateless, a stateful and a stateless request, one after the other, each on a
 * new connection: three a turn, so that a replica's workers take turns with the stateful one.
 * Waits for `refusals` 503s during the outage, checks an admin change answers 503 then, and
 * after Redis returns for the last `recovered` stateful answers to be no 503. Every answer.
 */
export async function redisOutageUnderLoad(replicas: readonly Replica[], redis: TestRedis, { refusals, recovered }: { refusals: number; recovered: number }): Promise<LoadAnswer[]> {
  const seen: LoadAnswer[] = [];
  const stateful = () => seen.filter((answer) => answer.contentID === 'nine');
  let loading = true;
  const load = (async () => {
    for (let turn = 0; loading && turn < 10_000; turn++) {
      const replica = replicas[turn % replicas.length]!;
      for (const contentID of ['plain', 'nine', 'plain'] as const) {
        const reply = await replica.entitle(request(contentID));
        seen.push({ contentID, status: reply.status, ...(contentID === 'nine' ? { errorText: (reply.json as { errorText?: string } | null)?.errorText } : {}) });
      }
    }
  })();
  try {
    await eventually(() => stateful().length >= recovered, { what: 'load before the outage' });
    await redis.stop();
    const atStop = stateful().length;
    await eventually(() => stateful().slice(atStop).filter((answer) => answer.status === 503).length >= refusals, { what: 'stateful requests refused during the outage' });
    const change = await replicas[1]!.admin('PUT', '/admin/scenarios/active', { name: 'nine' });
    assert.is(change.status, 503, 'an admin change that cannot be shared says so');
    assert.match(change.json.message, /^Redis at .* did not answer .*: the change holds on this replica only; retry it once the store answers$/);
    await redis.start();
    await eventually(
      () => {
        const after = stateful().slice(atStop);
        return after.length >= refusals + recovered && after.slice(-recovered).every((answer) => answer.status !== 503);
      },
      { what: `the last ${recovered} stateful requests answered again`, timeoutMs: slack(5000) },
    );
  } finally {
    loading = false;
    await load;
  }
  return seen;
}

/** The fail-closed rule, as seen by a license server: stateless rules never failed; every 503 is the counted rule's, naming Redis. */
export function assertFailedClosed(seen: readonly LoadAnswer[], redis: TestRedis): void {
  assert.ok(
    seen.filter((answer) => answer.contentID === 'plain').every((answer) => answer.status === 200),
    'stateless rules never fail',
  );
  for (const answer of seen.filter((each) => each.status === 503)) {
    assert.is(answer.contentID, 'nine');
    assert.match(answer.errorText ?? '', new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${redis.port}/0 did not answer .*: the count of rule "nine-steps" is kept there$`));
  }
}
