/** GET /admin/events: the dashboard's live feed of journal entries, clears, scenario changes and refused handshakes. */
import http from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Value } from '@sinclair/typebox/value';
import { LiveEvent, LiveEvents } from '../src/admin/live-events.js';
import { Journal } from '../src/journal/journal.js';
import { JournalFederation } from '../src/federation/federation.js';
import { LocalSource } from '../src/federation/local-source.js';
import { TlsFailureLog } from '../src/journal/tls-failures.js';
import { startTestMock, entitlementRequest, type TestMock } from './helpers/mock.js';
import { openEventStream, type OpenEventStream, type ServerSentEvent } from './helpers/event-stream.js';
import { eventually } from './helpers/eventually.js';
import { slack } from './helpers/slack.js';
import { closeAfter } from './helpers/cleanup.js';

const own = closeAfter(test.after.each);

const TOKEN = 'events-token';
let mock: TestMock;
let guarded: TestMock;
const streams: OpenEventStream[] = [];

test.before(async () => {
  mock = await startTestMock();
  guarded = await startTestMock({ adminToken: TOKEN });
  const posted = await mock.admin(
    'POST',
    '/admin/scenarios?activate=false',
    ['name: slow-answers', 'rules:', '  - name: slow', '    respond: { isAllowed: true, delay: 400ms }'].join('\n'),
    { 'content-type': 'application/yaml' },
  );
  assert.is(posted.status, 201, posted.text);
});
test.after(async () => {
  for (const stream of streams) stream.close();
  await mock.close();
  await guarded.close();
});

async function open(query = '', headers: Record<string, string> = {}, target: TestMock = mock): Promise<OpenEventStream> {
  const stream = await openEventStream(`${target.adminUrl}/admin/events${query}`, headers);
  streams.push(stream);
  return stream;
}

const entryIds = (events: ServerSentEvent[]) => events.filter((event) => event.event === 'entry').map((event) => Number(event.id));
const isEntryFor = (contentID: string) => (event: ServerSentEvent) => event.event === 'entry' && event.data.request?.contentID === contentID;

test('a stream says hello, then sends each new entry with its journal id as the event id', async () => {
  const stream = await open();
  assert.is(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  const hello = await stream.next((event) => event.event === 'hello');
  assert.is(hello.data.active, 'default');
  assert.match(hello.data.epoch, /^[0-9a-f]{8}\.\d+$/);
  assert.is(hello.data.replay, 0, 'without since or Last-Event-ID nothing is replayed');

  const request = entitlementRequest({ customerCookie: 'live-1' });
  await mock.entitle(request);
  const event = await stream.next(isEntryFor(request.contentID as string));
  const [journaled] = (await mock.admin('GET', `/admin/requests?contentID=${request.contentID}`)).json.requests;
  assert.is(Number(event.id), journaled.id);
  assert.is(event.data.id, journaled.id);
  assert.is(event.data.request.customerCookie, 'live-1');
  assert.is(event.data.rule, journaled.rule);
  assert.type(event.data.durationMs, 'number', 'a quick exchange is sent once it is over, with its duration');
});

test('a reconnect with Last-Event-ID (or ?since=) resumes after that entry: nothing missed, nothing twice', async () => {
  const first = await open();
  await first.next((event) => event.event === 'hello');
  const before = [entitlementRequest(), entitlementRequest(), entitlementRequest()];
  for (const request of before) await mock.entitle(request);
  await first.next(isEntryFor(before[2]!.contentID as string));
  const seen = entryIds(first.events);
  assert.is(seen.length, 3);
  first.close();

  const whileAway = [entitlementRequest(), entitlementRequest()];
  for (const request of whileAway) await mock.entitle(request);
  const lastSeen = seen[seen.length - 1]!;

  const resumed = await open('', { 'Last-Event-ID': String(lastSeen) });
  assert.is((await resumed.next((event) => event.event === 'hello')).data.replay, 2);
  const after = entitlementRequest();
  await mock.entitle(after);
  await resumed.next(isEntryFor(after.contentID as string));
  assert.equal(entryIds(resumed.events), [lastSeen + 1, lastSeen + 2, lastSeen + 3]);
  assert.equal(
    resumed.events.filter((event) => event.event === 'entry').map((event) => event.data.request.contentID),
    [...whileAway, after].map((request) => request.contentID),
  );

  const bySince = await open(`?since=${lastSeen}`);
  await bySince.next(isEntryFor(after.contentID as string));
  assert.equal(entryIds(bySince.events), [lastSeen + 1, lastSeen + 2, lastSeen + 3]);

  const headerWins = await open('?since=0', { 'Last-Event-ID': String(lastSeen + 2) });
  await headerWins.next(isEntryFor(after.contentID as string));
  assert.equal(entryIds(headerWins.events), [lastSeen + 3], 'a reconnecting EventSource keeps its URL: the header is newer');

  const newestTwo = await open('?since=0&limit=2');
  await newestTwo.next(isEntryFor(after.contentID as string));
  assert.equal(entryIds(newestTwo.events), [lastSeen + 2, lastSeen + 3]);
});

test('clearing the journal and resetting send `cleared` with a new epoch; a reset and a switch send `scenario`', async () => {
  const stream = await open();
  const hello = await stream.next((event) => event.event === 'hello');
  assert.is((await mock.admin('DELETE', '/admin/requests')).status, 200);
  const cleared = await stream.next((event) => event.event === 'cleared');
  assert.is.not(cleared.data.epoch, hello.data.epoch);
  assert.is(cleared.data.journal.length, 0);

  assert.is((await mock.admin('PUT', '/admin/scenarios/active', { name: 'showcase' })).status, 200);
  const switched = await stream.next((event) => event.event === 'scenario');
  assert.equal(switched.data, { active: 'showcase', cause: 'switch' });

  assert.is((await mock.admin('POST', '/admin/reset')).status, 200);
  const reset = await stream.next((event) => event.event === 'scenario' && event.data.cause === 'reset');
  assert.is(reset.data.active, 'showcase');
  const clears = stream.events.filter((event) => event.event === 'cleared');
  assert.is(clears.length, 2);
  assert.is.not(clears[1]!.data.epoch, cleared.data.epoch);
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'default' });
});

test('an exchange still going when its entry is sent gets an `ended` event with its duration', async () => {
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'slow-answers' });
  try {
    const stream = await open();
    await stream.next((event) => event.event === 'hello');
    const request = entitlementRequest();
    const answered = mock.entitle(request);
    const entry = await stream.next(isEntryFor(request.contentID as string));
    assert.is(entry.data.durationMs, null, 'sent while the 400 ms delay runs');
    assert.is(entry.data.rule, 'slow');
    await answered;
    const ended = await stream.next((event) => event.event === 'ended');
    assert.is(ended.data.id, entry.data.id);
    assert.ok(ended.data.durationMs >= 390, `duration ${ended.data.durationMs}`);
  } finally {
    await mock.admin('PUT', '/admin/scenarios/active', { name: 'default' });
  }
});

test('a refused handshake is sent as a `tls-failure` event', async () => {
  const stream = await open();
  await stream.next((event) => event.event === 'hello');
  await mock.entitle(entitlementRequest(), { client: null }).catch(() => undefined);
  const failure = await stream.next((event) => event.event === 'tls-failure');
  assert.is(failure.data.listener, 'main');
  assert.match(failure.data.reason, /certificate/);
});

test('with --admin-token the stream needs the bearer token; malformed ids are refused', async () => {
  const refused = await open('', {}, guarded);
  assert.is(refused.status, 401);
  const allowed = await open('', { Authorization: `Bearer ${TOKEN}` }, guarded);
  assert.is(allowed.status, 200);
  await allowed.next((event) => event.event === 'hello');
  assert.is((await mock.admin('GET', '/admin/events?since=abc')).status, 400);
  assert.is((await mock.admin('GET', '/admin/events', undefined, { 'Last-Event-ID': '-1' })).status, 400);
  assert.is((await mock.admin('GET', '/admin/events?limit=x')).status, 400);
});

test('closing the mock ends its open streams at once', async () => {
  const closing = own(await startTestMock());
  const stream = await openEventStream(`${closing.adminUrl}/admin/events`);
  await stream.next((event) => event.event === 'hello');
  const started = performance.now();
  await closing.close();
  await stream.ended;
  const took = performance.now() - started;
  // Well under the 4 s grace period, however loaded the machine.
  assert.ok(took < Math.min(slack(250), 3000), `close took ${Math.round(took)} ms with a stream open (the grace period is 4 s)`);
});

test('open streams get a heartbeat comment; the journal is only listened to while a stream is open', async () => {
  const journal = new Journal(10);
  const liveEvents = new LiveEvents(new JournalFederation([new LocalSource(journal, new TlsFailureLog(10))]), 30);
  const server = http.createServer((_req, res) => liveEvents.open(res, { since: null, limit: null }, 'default'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const stream = await openEventStream(`http://127.0.0.1:${port}/`);
    await stream.next((event) => event.event === 'hello');
    await eventually(() => stream.comments.length > 0, { what: 'a comment on the stream' });
    assert.ok(stream.comments.includes('heartbeat'), `comments: ${stream.comments.join(', ')}`);
    assert.is(liveEvents.openStreams, 1);
    stream.close();
    await eventually(() => liveEvents.openStreams === 0, { what: 'the closed stream to be forgotten' });
  } finally {
    liveEvents.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('every event the streams above received fits the LiveEvent definition (the dashboard is typed from it)', () => {
  const received = streams.flatMap((stream) => stream.events).map((event) => ({ name: event.event, data: event.data }));
  assert.equal([...new Set(received.map((event) => event.name))].sort(), ['cleared', 'ended', 'entry', 'hello', 'scenario', 'tls-failure']);
  for (const event of received) {
    const errors = [...Value.Errors(LiveEvent, event)].map((error) => `${error.path}: ${error.message}`);
    assert.equal(errors, [], `${event.name}: ${JSON.stringify(event.data).slice(0, 300)}`);
  }
});

test.run();
