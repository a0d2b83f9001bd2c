/** --store with a Redis that comes up after the mock (a Kubernetes rollout in any order): the mock starts, fails closed only where it needs Redis, and catches up. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { eventually, scenarioFolder, startTestMock } from './helpers/mock.js';
import { startRedis } from './helpers/redis.js';
import { closeAfter } from './helpers/cleanup.js';
import { startReplica } from './helpers/replicas.js';
import { testPki } from './helpers/pki.js';

const own = closeAfter(test.after.each);
const request = (contentID: string) => ({ messageID: randomUUID(), version: 1, contentID });

test('a replica started before its Redis answers stateless rules, 503 for counted ones, and catches up once Redis is up', async () => {
  const redis = own(await startRedis({ started: false }));
  const scenarios = await scenarioFolder({
    'default.yaml': ['rules:', '  - name: counted', '    match: { contentID: counted }', '    sequence: [{ errorText: first }, { errorText: second }]', '  - name: plain', '    respond: { isAllowed: true }'].join('\n'),
    'other.yaml': ['rules:', '  - name: other', '    respond: { isAllowed: false, errorText: other }'].join('\n'),
  });
  const first = own(await startTestMock({ store: redis.url, scenarios, logLevel: 'info' }));
  assert.ok(
    first.logs.some((line) => line.level === 40 && /did not answer at start; rules that need it answer 503 until it does/.test(String(line.msg))),
    'the start says Redis is not there',
  );
  assert.is((await first.entitle(request('plain'))).json.isAllowed, true);
  const refused = await first.entitle(request('counted'));
  assert.is(refused.status, 503);
  assert.match(refused.json.errorText, /^Redis at redis:\/\/127\.0\.0\.1:\d+\/0 did not answer/);

  await redis.start();
  await eventually(async () => (await first.entitle(request('counted'))).status === 200, { what: 'the counted rule answers once Redis is up' });
  assert.is((await first.admin('PUT', '/admin/scenarios/active', { name: 'other' })).status, 200);
  // A replica that starts now finds what the first stored.
  const second = own(await startTestMock({ store: redis.url, scenarios, logLevel: 'warn' }));
  assert.is((await second.admin('GET', '/health')).json.scenario, 'other');
  assert.is((await second.entitle(request('x'))).json.errorText, 'other');
});

test('a replica of two workers started before its Redis: each worker connects by itself once Redis is up', async () => {
  const redis = own(await startRedis({ started: false }));
  const scenarios = await scenarioFolder({
    'default.yaml': ['rules:', '  - name: counted', '    match: { contentID: counted }', '    times: 100', '    respond: { isAllowed: true }', '  - name: plain', '    respond: { isAllowed: true }'].join('\n'),
  });
  const replica = await startReplica({ pki: await testPki(), redisUrl: redis.url, adminPort: 0, scenarios, more: ['--workers', '2'], own });
  const counted = () => replica.entitle(request('counted'));
  // Each request on a new connection: round-robin over both workers.
  for (let i = 0; i < 2; i++) {
    assert.is((await replica.entitle(request('plain'))).status, 200, 'stateless rules answer');
    const refused = await counted();
    assert.is(refused.status, 503);
    assert.match(refused.json.errorText, /^Redis at redis:\/\/127\.0\.0\.1:\d+\/0 did not answer/);
  }
  await redis.start();
  await eventually(async () => (await counted()).status !== 503 && (await counted()).status !== 503, { what: 'both workers answer the counted rule once Redis is up' });
  const journal = (await replica.admin('GET', '/admin/requests?limit=2')).json.requests as { id: number; response: { status: number } }[];
  assert.equal(
    new Set(journal.map((entry) => entry.id % 128)),
    new Set([1, 2]),
    'the last two came from both workers',
  );
});

test.run();
