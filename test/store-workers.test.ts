/**
 * Workers and replicas together: two replicas (`serve --workers 2 --store … --peers …`, the bin
 * as child processes) sharing one Redis, over real mutual TLS, each request on a new connection
 * so that each replica's round-robin spreads them over its two workers. The four worker
 * processes act as one mock: a sequence hands out each step once, per-key state, sessions,
 * resets and changes hold everywhere, a journal query through either replica returns every
 * worker's entries, a killed worker comes back in line, and a Redis outage fails only what
 * needs it.
 *
 * Which worker answered: with --peers an entry's id modulo 16 is its process's slot (the
 * workers of one replica take neighbouring slots); entries of the other replica name it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { eventually } from './helpers/mock.js';
import { testPki, type TestPki } from './helpers/pki.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { assertFailedClosed, assertResetEverywhere, assertRoundRobinJournals, assertStepsOnceUnder30Clients, NINE_STEPS, redisOutageUnderLoad, request, startReplica, type ListedEntry, type Replica } from './helpers/replicas.js';
import { closeAfter } from './helpers/cleanup.js';
import { freePortBlock } from './helpers/ports.js';
import { slack } from './helpers/slack.js';

const ownForFile = closeAfter(test.after);
const yaml = { 'content-type': 'application/yaml' };
let redis: TestRedis;
let replicas: Replica[];

type Entry = ListedEntry;

/** Which process took an entry listed by the replica at `via`: its replica's admin URL and its slot. */
const processOf = (entry: Entry, via: Replica) => `${entry.replica ?? via.adminUrl}#${entry.id % 16}`;

async function journal(via: Replica, query = ''): Promise<Entry[]> {
  const answer = await via.admin('GET', `/admin/requests${query}`);
  assert.is(answer.status, 200, answer.text);
  return answer.json.requests as Entry[];
}

/** Round-robin over the replicas (and, each request on a new connection, over each replica's workers). */
async function roundRobin(count: number, body: (i: number) => unknown): Promise<{ status: number; json: any }[]> {
  const replies = [];
  for (let i = 0; i < count; i++) replies.push(await replicas[i % 2]!.entitle(body(i)));
  return replies;
}

let setupFailure: unknown = null;

test.before(async () => {
  try {
    redis = ownForFile(await startRedis());
    const pki: TestPki = await testPki();
    const first = await freePortBlock(2);
    const adminPorts = [first, first + 1];
    const peers = adminPorts.map((port) => `http://127.0.0.1:${port}`).join(',');
    const start = (adminPort: number) => startReplica({ pki, redisUrl: redis.url, adminPort, peers, more: ['--workers', '2'], own: ownForFile });
    const a = await start(adminPorts[0]!);
    // Posted before the second replica starts: its primary reads it from Redis and its workers must get it too.
    const posted = await a.admin('POST', '/admin/scenarios', NINE_STEPS, yaml);
    if (posted.status !== 201) throw new Error(`posting the scenario: ${posted.text}`);
    replicas = [a, await start(adminPorts[1]!)];
  } catch (error) {
    setupFailure = error;
  }
});

// uvu passes a suite silently when its before hook throws (its runner returns from a finally): fail every test instead.
test.before.each(() => {
  if (setupFailure !== null) throw setupFailure;
});

test('a scenario posted before a replica started is active on its workers; its 9-step sequence sent round-robin over 2 replicas × 2 workers hands out each step once', async () => {
  for (const replica of replicas) assert.is((await replica.admin('GET', '/health')).json.scenario, 'nine');
  const replies = await roundRobin(9, () => request('nine'));
  assert.equal(
    replies.map((reply) => reply.json.errorText),
    Array.from({ length: 9 }, (_, i) => `step-${i + 1}`),
  );
  const tenth = await replicas[1]!.entitle(request('nine'));
  assert.is(tenth.status, 404, 'times: 9 is used up on every worker of every replica');
  const entries = await journal(replicas[1]!, '?contentID=nine');
  assert.is(entries.length, 10);
  assert.is(new Set(entries.map((entry) => processOf(entry, replicas[1]!))).size, 4, 'the requests reached all four workers');
});

test('30 concurrent clients over both replicas get each of the 9 steps exactly once', async () => {
  await assertStepsOnceUnder30Clients(replicas, replicas[1]!);
});

test('per-key state set on a worker of one replica is seen on both workers of the other, and cleared through it everywhere', async () => {
  assert.is((await replicas[0]!.admin('PUT', '/admin/scenarios/active', { name: 'device-binding' })).status, 200);
  await replicas[0]!.admin('DELETE', '/admin/requests');
  const cookie = `d-${randomUUID().slice(0, 8)}`;
  const registered = await replicas[0]!.entitle(request('movie', { requestType: 2, customerCookie: cookie }));
  assert.is(registered.json.isAllowed, true, registered.bodyText);
  for (let i = 0; i < 4; i++) {
    const bound = await replicas[1]!.entitle(request('movie', { requestType: 3, customerCookie: cookie }));
    assert.is(bound.json.isAllowed, true, bound.bodyText);
    assert.match(bound.json.epTokenURL, /deviceBound=true/);
  }
  const bound = await journal(replicas[1]!, '?rule=device-bound');
  assert.equal(new Set(bound.map((entry) => processOf(entry, replicas[1]!))).size, 2, "both of the other replica's workers saw the state");
  const state = await replicas[1]!.admin('GET', '/admin/state');
  assert.is(state.json.scenario.keys[cookie]?.state, 'registered', 'either replica lists the shared state');
  assert.is((await replicas[1]!.admin('DELETE', '/admin/state')).json.cleared, 1);
  for (let i = 0; i < 2; i++) assert.is((await replicas[0]!.entitle(request('movie', { requestType: 3, customerCookie: cookie }))).json.isAllowed, false, 'cleared for every worker');
});

test('a session created through one replica answers on every worker of both; deleted through the other, it ends everywhere', async () => {
  const created = await replicas[0]!.admin('POST', '/admin/sessions', { key: { contentID: 'sess-*' }, rules: [{ name: 'in-session', respond: { errorText: 'in-session' } }] });
  assert.is(created.status, 201, created.text);
  const id = created.json.id as string;
  const replies = await roundRobin(8, (i) => request(`sess-${i}`));
  assert.equal(
    replies.map((reply) => reply.json.errorText),
    Array(8).fill('in-session'),
  );
  const entries = await journal(replicas[1]!, `?session=${id}`);
  assert.is(entries.length, 8);
  assert.is(new Set(entries.map((entry) => processOf(entry, replicas[1]!))).size, 4, 'all four workers answered in the session');
  assert.is((await replicas[1]!.admin('DELETE', `/admin/sessions/${id}`)).status, 200);
  const after = await roundRobin(4, (i) => request(`sess-${i}`));
  assert.ok(
    after.every((reply) => reply.json.errorText !== 'in-session'),
    'no worker of either replica keeps the session',
  );
});

test("a journal query through either replica returns every worker's entries of both, in time order, naming the other replica", async () => {
  const listed = await assertRoundRobinJournals(replicas, 'j', 8);
  for (const [at, entries] of listed.entries()) {
    assert.is(new Set(entries.map((entry) => processOf(entry, replicas[at]!))).size, 4, 'from all four workers');
    const ids = entries.map((entry) => entry.id);
    assert.is(new Set(ids).size, 8, 'ids are unique across workers and replicas');
    assert.equal([...ids].sort((x, y) => x - y), ids, 'and grow with time across them');
  }
});

test('a reset through one replica clears the journals of every worker of both, sessions and counters', async () => {
  assert.is((await replicas[0]!.admin('PUT', '/admin/scenarios/active', { name: 'nine' })).status, 200);
  await roundRobin(4, () => request('nine'));
  const session = await replicas[0]!.admin('POST', '/admin/sessions', { key: { contentID: 'reset-*' }, rules: [{ respond: { errorText: 'in-session' } }] });
  assert.is(session.status, 201, session.text);
  const reset = await replicas[1]!.admin('POST', '/admin/reset');
  assert.is(reset.status, 200, reset.text);
  await assertResetEverywhere(replicas);
  const again = await roundRobin(4, () => request('nine'));
  assert.equal(
    again.map((reply) => reply.json.errorText),
    ['step-1', 'step-2', 'step-3', 'step-4'],
    'the sequence starts again',
  );
  const inSession = await roundRobin(4, (i) => request(`reset-${i}`));
  assert.ok(
    inSession.every((reply) => reply.json.errorText !== 'in-session'),
    'the session is gone on every worker',
  );
});

test('a worker killed on one replica is forked again in line with a change made through the other', async () => {
  const late = ['name: late', 'rules:', '  - name: late', '    respond: { isAllowed: false, errorText: late }'].join('\n');
  const posted = await replicas[1]!.admin('POST', '/admin/scenarios', late, yaml);
  assert.is(posted.status, 201, posted.text);
  const victim = replicas[0]!.workerPids[0]!;
  process.kill(victim, 'SIGKILL');
  await eventually(() => replicas[0]!.logs.some((line) => /forked again and listening/.test(line.msg ?? '')), {
    what: 'the worker forked again listens',
    timeoutMs: slack(8000),
  });
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push(await replicas[0]!.entitle(request(`late-${i}`)));
  assert.equal(
    replies.map((reply) => reply.json.errorText),
    Array(4).fill('late'),
    'both workers, the new one included, answer from the scenario posted through the other replica',
  );
  const entries = await journal(replicas[0]!, '?rule=late');
  assert.ok(
    entries.filter((entry) => entry.replica === undefined).length === 4,
    'answered by this replica',
  );
  assert.is(new Set(entries.map((entry) => processOf(entry, replicas[0]!))).size, 2, 'by both its workers');
});

test('Redis stopped in mid-load: stateless rules keep answering on every worker, stateful ones answer 503 naming it, and all recover', async () => {
  assert.is((await replicas[0]!.admin('PUT', '/admin/scenarios/active', { name: 'nine' })).status, 200);
  await replicas[0]!.admin('POST', '/admin/reset');
  const deaths = () => replicas.map((replica) => replica.logs.filter((line) => /died/.test(line.msg ?? '')).length);
  const deathsBefore = deaths();
  // Three requests a turn: the stateful one goes to each worker of each replica in turn.
  const seen = await redisOutageUnderLoad(replicas, redis, { refusals: 8, recovered: 8 });
  assertFailedClosed(seen, redis);
  const entries = await journal(replicas[1]!, '?contentID=nine');
  const problems = entries.filter((entry) => entry.response.status === 503);
  assert.ok(problems.length > 0 && problems.every((entry) => /^shared state unavailable: Redis at /.test(entry.problems[0] ?? '')), 'the journal says why');
  assert.is(new Set(problems.map((entry) => processOf(entry, replicas[1]!))).size, 4, 'every worker of both replicas refused, none guessed');
  assert.equal(deaths(), deathsBefore, 'no worker died');
  for (const replica of replicas) {
    assert.is(replica.process.exitCode, null, 'no replica crashed');
    assert.is((await replica.admin('GET', '/health')).json.scenario, 'nine', 'the active scenario is stored again');
  }
  const counted = await replicas[0]!.admin('GET', '/admin/requests/count?contentID=plain');
  assert.is(counted.json.count, seen.filter((answer) => answer.contentID === 'plain').length, 'nothing journaled was lost');
});

test('SIGTERM stops a replica and all its workers', async () => {
  const pids = await eventually(async () => {
    const live = replicas[1]!.workerPids.filter(isAlive);
    return live.length === 2 ? live : null;
  }, { what: "the second replica's workers" });
  assert.is(await replicas[1]!.stop(), 0);
  await eventually(() => pids.every((pid) => !isAlive(pid)), { what: 'its workers exited' });
  const refused = await replicas[0]!.admin('GET', '/admin/requests');
  assert.is(refused.status, 503, 'a query through the other fails closed naming it');
  assert.equal(refused.json.missing, [replicas[1]!.adminUrl]);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test.run();
