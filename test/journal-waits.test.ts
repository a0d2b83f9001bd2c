/**
 * Waiting on the journal: GET /admin/requests and /admin/requests/count with `wait` and `count`
 * answer as soon as enough entries match, on timeout, and at once on clear, reset and shutdown,
 * over real mTLS requests and real admin HTTP.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entitlementRequest, eventually, startTestMock, type TestMock } from './helpers/mock.js';
import { slack } from './helpers/slack.js';
import { closeAfter } from './helpers/cleanup.js';

const own = closeAfter(test.after.each);

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock();
});
test.after(async () => {
  await mock.close();
});

/** Resolves once the mock has a pending wait (it subscribes to the journal only then). */
const waitIsPending = (target: TestMock = mock) => eventually(() => target.journal.listenerCount === 1);

test('a wait answers within 50 ms of the awaited request being recorded', async () => {
  const contentID = `awaited-${Date.now()}`;
  const answered = mock.admin('GET', `/admin/requests?contentID=${contentID}&wait=10s`).then((reply) => ({ reply, at: performance.now() }));
  await waitIsPending();
  let recordedAt = 0;
  const unsubscribe = mock.journal.subscribe({ appended: () => (recordedAt = performance.now()) });
  await mock.entitle(entitlementRequest({ contentID: 'someone-else' }));
  await mock.entitle(entitlementRequest({ contentID }));
  unsubscribe();
  const { reply, at } = await answered;
  assert.is(reply.status, 200, reply.text);
  assert.is(reply.json.requests.length, 1);
  assert.is(reply.json.requests[0].request.contentID, contentID);
  assert.is(reply.json.waited.satisfied, true);
  assert.is(reply.json.waited.reason, 'matched');
  const lag = at - recordedAt;
  assert.ok(lag < 50, `answered ${lag.toFixed(1)} ms after the request was recorded`);
  await eventually(() => mock.journal.listenerCount === 0);
});

test('entries already recorded count; count=N waits for the N-th; /count waits too', async () => {
  const contentID = `counted-${Date.now()}`;
  await mock.entitle(entitlementRequest({ contentID }));
  const at = await mock.admin('GET', `/admin/requests?contentID=${contentID}&wait=5s`);
  assert.equal(at.json.waited, { satisfied: true, reason: 'matched', waitedMs: 0 }, 'already there: answered at once');

  const three = mock.admin('GET', `/admin/requests/count?contentID=${contentID}&wait=10s&count=3`);
  await waitIsPending();
  await mock.entitle(entitlementRequest({ contentID }));
  assert.is(mock.journal.listenerCount, 1, 'two of three: still waiting');
  await mock.entitle(entitlementRequest({ contentID }));
  const reply = await three;
  assert.is(reply.json.count, 3);
  assert.is(reply.json.waited.reason, 'matched');
});

test('a wait that runs out answers with what there is and says it timed out', async () => {
  const started = performance.now();
  const reply = await mock.admin('GET', '/admin/requests?contentID=never-sent&wait=300ms');
  const took = performance.now() - started;
  assert.is(reply.status, 200);
  assert.equal(reply.json.requests, []);
  assert.is(reply.json.waited.satisfied, false);
  assert.is(reply.json.waited.reason, 'timeout');
  assert.ok(reply.json.waited.waitedMs >= 295 && took >= 295, `waited ${reply.json.waited.waitedMs} ms (took ${took.toFixed(0)})`);
  assert.ok(took < 300 + slack(300), `took ${took.toFixed(0)} ms`);
  assert.is(mock.journal.listenerCount, 0);
});

test('POST /admin/reset ends pending waits at once with reason reset; DELETE /admin/requests with reason cleared', async () => {
  const waiting = [
    mock.admin('GET', '/admin/requests?contentID=never-sent&wait=30s'),
    mock.admin('GET', '/admin/requests/count?rule=nothing&wait=30s&count=5'),
  ];
  await waitIsPending();
  const started = performance.now();
  const reset = mock.admin('POST', '/admin/reset');
  const [list, count] = await Promise.all(waiting);
  const ended = performance.now() - started;
  assert.ok(ended < 1000, `the waits ended ${ended.toFixed(0)} ms after the reset was sent`);
  assert.is((await reset).status, 200);
  assert.equal(list!.json.requests, []);
  assert.is(list!.json.waited.reason, 'reset');
  assert.is(list!.json.waited.satisfied, false);
  assert.is(count!.json.waited.reason, 'reset');
  assert.is(count!.json.count, 0);

  const cleared = mock.admin('GET', '/admin/requests?contentID=never-sent&wait=30s');
  await waitIsPending();
  await mock.admin('DELETE', '/admin/requests');
  assert.is((await cleared).json.waited.reason, 'cleared');
  assert.is(mock.journal.listenerCount, 0);
});

test('a client that goes away mid-wait leaves no listener behind', async () => {
  const gone = new AbortController();
  const request = fetch(`${mock.adminUrl}/admin/requests?contentID=never-sent&wait=30s`, { signal: gone.signal }).catch((error: Error) => error.name);
  await waitIsPending();
  gone.abort();
  assert.is(await request, 'AbortError');
  await eventually(() => mock.journal.listenerCount === 0, 2000);
  // The mock still answers waits afterwards.
  const contentID = `after-abort-${Date.now()}`;
  const next = mock.admin('GET', `/admin/requests?contentID=${contentID}&wait=5s`);
  await waitIsPending();
  await mock.entitle(entitlementRequest({ contentID }));
  assert.is((await next).json.waited.reason, 'matched');
});

test('bad wait and count values get a 400 that says what was expected', async () => {
  const cases: [string, RegExp][] = [
    ['wait=soon', /query parameter "wait" must be a duration such as 500ms, 2s or 1500 \(milliseconds\), at most 60s; got "soon"/],
    ['wait=61s', /at most 60s; got "61s"/],
    ['wait=1s&count=0', /query parameter "count": expected integer to be greater or equal to 1, got 0/],
    ['count=2', /query parameter "count" needs wait/],
    ['wait=1s&wait=2s', /query parameter "wait" given more than once/],
    ['wait=1s&colour=red', /unknown query parameter "colour"; known: .*wait, count/],
  ];
  for (const [query, message] of cases) {
    const reply = await mock.admin('GET', `/admin/requests?${query}`);
    assert.is(reply.status, 400, query);
    assert.match(reply.json.message, message, query);
  }
  assert.is(mock.journal.listenerCount, 0);
});

test('shutdown ends pending waits first and is not held up by them', async () => {
  const other = own(await startTestMock());
  const waiting = other.admin('GET', '/admin/requests?contentID=never-sent&wait=60s');
  await waitIsPending(other);
  const started = performance.now();
  await other.close();
  const took = performance.now() - started;
  const reply = await waiting;
  assert.is(reply.json.waited.reason, 'shutdown');
  assert.is(reply.json.waited.satisfied, false);
  assert.ok(took < slack(250), `close took ${took.toFixed(0)} ms`);
});

test.run();
