/**
 * Three replica processes sharing one Redis (--store), over real mutual TLS: each replica is the
 * bin as a child process (the bundle in dist/: `npm run build` after changing src/), all three
 * listing each other as --peers. A sequence hands out each step once across them (also under
 * concurrent load), per-key state set on one is seen on another, sessions, switches and resets
 * made through one hold on all, and a Redis outage makes only the rules that need it answer 503
 * until Redis returns.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { eventually } from './helpers/mock.js';
import { testPki } from './helpers/pki.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { assertFailedClosed, assertResetEverywhere, assertRoundRobinJournals, assertStepsOnceUnder30Clients, NINE_STEPS, redisOutageUnderLoad, request, startReplica, type Replica } from './helpers/replicas.js';
import { closeAfter } from './helpers/cleanup.js';
import { freePortBlock } from './helpers/ports.js';
import { openEventStream } from './helpers/event-stream.js';
import { Redis } from 'ioredis';

const ownForFile = closeAfter(test.after);
const yaml = { 'content-type': 'application/yaml' };
let redis: TestRedis;
let replicas: Replica[];

let adminUrls: string[];

let setupFailure: unknown = null;

test.before(async () => {
  try {
    redis = ownForFile(await startRedis());
    const pki = await testPki();
    // --peers names the admin URLs up front: three free ports, found first.
    const first = await freePortBlock(3);
    adminUrls = [0, 1, 2].map((i) => `http://127.0.0.1:${first + i}`);
    // Every replica lists all three, itself included (as a headless Service resolves): it recognises itself.
    const peers = adminUrls.join(',');
    replicas = [];
    for (let i = 0; i < 3; i++) replicas.push(await startReplica({ pki, redisUrl: redis.url, adminPort: first + i, peers, own: ownForFile }));
  } catch (error) {
    setupFailure = error;
  }
});

// uvu passes a suite silently when its before hook throws (its runner returns from a finally): fail every test instead.
test.before.each(() => {
  if (setupFailure !== null) throw setupFailure;
});

test('a scenario posted through one replica is active on all; its 9-step sequence hands out each step once, round-robin', async () => {
  const posted = await replicas[0]!.admin('POST', '/admin/scenarios', NINE_STEPS, yaml);
  assert.is(posted.status, 201, posted.text);
  for (const replica of replicas) assert.is((await replica.admin('GET', '/health')).json.scenario, 'nine');
  const said: string[] = [];
  for (let i = 0; i < 9; i++) said.push((await replicas[i % 3]!.entitle(request('nine'))).json.errorText);
  assert.equal(said, Array.from({ length: 9 }, (_, i) => `step-${i + 1}`));
  const tenth = await replicas[1]!.entitle(request('nine'));
  assert.is(tenth.status, 404, 'times: 9 is used up on every replica');
  assert.match(tenth.json.errorText, /no rule of scenario "nine" matched/);
});

test('switching scenario through one replica starts its counters again on all; 30 concurrent clients get each step once', async () => {
  await assertStepsOnceUnder30Clients(replicas, replicas[2]!);
});

test('stateless rules are answered by every replica', async () => {
  for (const replica of replicas) assert.is((await replica.entitle(request('plain'))).json.isAllowed, true);
});

test('the bundled device-binding flow: type 2 on one replica, type 3 on another', async () => {
  assert.is((await replicas[1]!.admin('PUT', '/admin/scenarios/active', { name: 'device-binding' })).status, 200);
  const cookie = `d-${randomUUID().slice(0, 8)}`;
  const before = await replicas[2]!.entitle(request('movie', { requestType: 3, customerCookie: cookie }));
  assert.is(before.json.isAllowed, false, 'not registered yet');
  const registered = await replicas[0]!.entitle(request('movie', { requestType: 2, customerCookie: cookie }));
  assert.is(registered.json.isAllowed, true, registered.bodyText);
  const after = await replicas[2]!.entitle(request('movie', { requestType: 3, customerCookie: cookie }));
  assert.is(after.json.isAllowed, true, after.bodyText);
  assert.match(after.json.epTokenURL, /deviceBound=true/);
  const state = await replicas[1]!.admin('GET', '/admin/state');
  assert.is(state.json.scenario.keys[cookie]?.state, 'registered', 'any replica lists the shared state');
});

test('a session created through one replica answers on the others, and its ttl ends it everywhere', async () => {
  const created = await replicas[0]!.admin(
    'POST',
    '/admin/sessions',
    ['key: { contentID: "sess-*" }', 'ttl: 1500ms', 'rules:', '  - name: counted', '    sequence: [{ errorText: s-0 }, { errorText: s-1 }, { errorText: s-2 }]'].join('\n'),
    yaml,
  );
  assert.is(created.status, 201, created.text);
  const id = created.json.id as string;
  const said = [];
  for (const replica of [replicas[1]!, replicas[2]!, replicas[0]!]) said.push((await replica.entitle(request('sess-1'))).json.errorText);
  assert.equal(said, ['s-0', 's-1', 's-2']);
  for (const replica of replicas) assert.is((await replica.admin('GET', `/admin/sessions/${id}`)).status, 200);
  await eventually(async () => (await Promise.all(replicas.map((replica) => replica.admin('GET', `/admin/sessions/${id}`)))).every((reply) => reply.status === 404), {
    what: 'the session expired on every replica',
  });
  const afterwards = await replicas[2]!.entitle(request('sess-1'));
  assert.not.match(afterwards.bodyText, /s-\d/, 'the scenario answers again');
  // What Redis held for it goes too: the session's entry and its counts.
  const client = new Redis(redis.url);
  try {
    await eventually(async () => (await client.hexists('em:sessions', id)) === 0 && (await client.exists(`em:scope:session:${id}:counts`)) === 0, {
      what: "Redis forgets the expired session's entry and counts",
    });
  } finally {
    client.disconnect();
  }
});

test('a reset through one replica clears counters, states and sessions on all', async () => {
  await replicas[0]!.admin('PUT', '/admin/scenarios/active', { name: 'nine' });
  await replicas[0]!.entitle(request('nine'));
  await replicas[1]!.entitle(request('nine'));
  const session = await replicas[1]!.admin('POST', '/admin/sessions', { key: { contentID: 'reset-*' }, rules: [{ respond: { errorText: 'in-session' } }] });
  assert.is(session.status, 201, session.text);
  const reset = await replicas[2]!.admin('POST', '/admin/reset');
  assert.is(reset.status, 200, reset.text);
  await assertResetEverywhere(replicas);
  assert.is((await replicas[0]!.entitle(request('nine'))).json.errorText, 'step-1', 'the sequence starts again');
  assert.is.not((await replicas[1]!.entitle(request('reset-1'))).json.errorText, 'in-session', 'the session is gone');
});

test('Redis stopped in mid-load: stateless rules keep answering, stateful ones answer 503 naming it, and all recover when it returns', async () => {
  await replicas[0]!.admin('POST', '/admin/reset');
  const seen = await redisOutageUnderLoad(replicas, redis, { refusals: 6, recovered: 3 });
  assertFailedClosed(seen, redis);
  const plain = seen.filter((answer) => answer.contentID === 'plain');
  const journal = (await replicas[0]!.admin('GET', '/admin/requests?contentID=nine')).json.requests as { problems: string[]; response: { status: number } }[];
  const problems = journal.filter((entry) => entry.response.status === 503).map((entry) => entry.problems[0]);
  assert.ok(problems.length > 0 && problems.every((problem) => /^shared state unavailable: Redis at /.test(problem ?? '')), 'the journal says why');
  for (const replica of replicas) assert.is(replica.process.exitCode, null, 'no replica crashed');
  for (const replica of replicas) assert.is((await replica.admin('GET', '/health')).json.scenario, 'nine', 'the active scenario is stored again');
  const counted = await replicas[1]!.admin('GET', '/admin/requests/count?contentID=plain');
  assert.is(counted.json.count, plain.length, 'nothing journaled was lost');
});

test("--peers: a journal query through any replica returns every replica's entries in time order, saying which replica", async () => {
  await assertRoundRobinJournals(replicas, 'peer', 6);
  const report = await replicas[2]!.admin('GET', '/admin/report');
  assert.is(report.status, 200, report.text);
});

test('--peers: a wait through one replica is satisfied by a request another replica answers', async () => {
  const waiting = replicas[0]!.admin('GET', '/admin/requests/count?contentID=waited-for&wait=10s');
  await replicas[2]!.entitle(request('waited-for'));
  const answer = await waiting;
  assert.is(answer.status, 200, answer.text);
  assert.is(answer.json.count, 1);
  assert.is(answer.json.waited.satisfied, true);
});

test("--peers: the dashboard's live feed on one replica shows every replica's requests, replayed and live, with ids that do not collide", async () => {
  await replicas[0]!.admin('POST', '/admin/reset');
  await replicas[1]!.entitle(request('feed-before'));
  await replicas[0]!.entitle(request('feed-before'));
  const stream = await openEventStream(`${adminUrls[0]}/admin/events?since=0`);
  try {
    const replayed = await stream.next((event) => event.event === 'entry' && event.data.replica === adminUrls[1]);
    assert.is(replayed.data.request.contentID, 'feed-before');
    await replicas[2]!.entitle(request('feed-live'));
    const live = await stream.next((event) => event.event === 'entry' && event.data.request?.contentID === 'feed-live');
    assert.is(live.data.replica, adminUrls[2]);
    const ids = stream.events.filter((event) => event.event === 'entry').map((event) => event.data.id as number);
    assert.is(ids.length, 3);
    assert.is(new Set(ids).size, 3, 'ids are unique across replicas');
    assert.equal([...ids].sort((a, b) => a - b), ids, 'and grow with time across them');
  } finally {
    stream.close();
  }
});

test('--peers: a stopped replica makes the query 503 naming it; partial=true answers with the others and names it missing', async () => {
  await replicas[1]!.entitle(request('before-stop'));
  await replicas[2]!.entitle(request('before-stop'));
  assert.is(await replicas[1]!.stop(), 0, 'SIGTERM stops the replica');
  const refused = await replicas[0]!.admin('GET', '/admin/requests?contentID=before-stop');
  assert.is(refused.status, 503, refused.text);
  assert.match(refused.json.message, adminUrls[1]!);
  assert.equal(refused.json.missing, [adminUrls[1]]);
  const partial = await replicas[2]!.admin('GET', '/admin/requests?contentID=before-stop&partial=true');
  assert.is(partial.status, 200, partial.text);
  assert.equal(partial.json.missing, [adminUrls[1]]);
  assert.equal(
    partial.json.requests.map((entry: { replica?: string }) => entry.replica ?? null),
    [null],
    "only replica 2's own entry",
  );
});

test.run();
