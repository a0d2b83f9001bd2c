/**
 * Each `fault:` as a license server observes it over real mTLS: what its HTTP
 * client reports, which bytes arrived and when, and what the journal recorded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import { entitlementRequest, entitlementRequestOptions, eventually, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';
import { slack } from './helpers/slack.js';

/** A fixed epTokenURL makes the whole JSON body predictable, so a truncated one can be checked byte for byte. */
const TOKEN_URL = 'https://tokens.test/fixed-token-url-for-fault-tests';

const SCENARIO = `
defaults: { epTokenURL: "${TOKEN_URL}" }
rules:
  - { name: reset, match: { contentID: reset }, respond: { fault: reset } }
  - { name: close, match: { contentID: close }, respond: { fault: close } }
  - { name: hang, match: { contentID: hang }, respond: { fault: hang } }
  - { name: partial-json, match: { contentID: partial-json }, respond: { fault: partial } }
  - { name: partial-raw, match: { contentID: partial-raw }, respond: { fault: partial, status: 503, body: "0123456789abcdefghij" } }
  - { name: slow, match: { contentID: slow }, respond: { fault: slow, delay: 300ms } }
  - { name: reset-later, match: { contentID: reset-later }, respond: { fault: reset, delay: 200 } }
  - { name: close-later, match: { contentID: close-later }, respond: { fault: close, delay: 200 } }
  - { name: delayed, match: { contentID: delayed }, respond: { delay: 200 } }
  - { name: delayed-long, match: { contentID: delayed-long }, respond: { delay: 10s } }
`;

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock({ scenarios: await scenarioFolder({ 'faults.yaml': SCENARIO }), scenario: 'faults' });
});
test.after(async () => {
  await mock.close();
});

interface Observation {
  /** How the exchange ended for the client. */
  outcome: 'complete' | 'response-error' | 'request-error';
  error: (Error & { code?: string }) | null;
  status: number | null;
  headers: Record<string, string | string[] | undefined>;
  /** Each body chunk with the ms since the request was sent. */
  chunks: { atMs: number; bytes: Buffer }[];
  body: Buffer;
  elapsedMs: number;
}

/** Send one Entitlement Request the way a license server does, recording everything that came back. */
function observe(body: Record<string, unknown>, timeoutMs = slack(500), signal?: AbortSignal): Promise<Observation> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Observation['chunks'] = [];
    let status: number | null = null;
    let headers: Observation['headers'] = {};
    let settled = false;
    const finish = (outcome: Observation['outcome'], error: Observation['error']) => {
      if (settled) return;
      settled = true;
      resolve({
        outcome,
        error,
        status,
        headers,
        chunks,
        body: Buffer.concat(chunks.map((chunk) => chunk.bytes)),
        elapsedMs: performance.now() - started,
      });
    };
    const request = https.request(
      { ...entitlementRequestOptions(mock), ...(signal ? { signal } : {}) },
      (response) => {
        status = response.statusCode ?? null;
        headers = response.headers;
        response.on('data', (bytes: Buffer) => chunks.push({ atMs: performance.now() - started, bytes }));
        response.on('error', (error) => finish('response-error', error));
        response.on('end', () => finish(response.complete ? 'complete' : 'response-error', null));
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error(`no response within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => finish('request-error', error));
    request.end(JSON.stringify(body));
  });
}

async function entryOf(messageID: unknown): Promise<any> {
  const { requests } = (await mock.admin('GET', '/admin/requests')).json;
  return requests.find((entry: any) => entry.request?.messageID === messageID);
}

function fullJsonBody(sent: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ messageID: sent.messageID, version: sent.version, isAllowed: true, epTokenURL: TOKEN_URL }));
}

test('reset: the client gets ECONNRESET ("read ECONNRESET") and no response', async () => {
  const sent = entitlementRequest({ contentID: 'reset' });
  const seen = await observe(sent);
  assert.is(seen.outcome, 'request-error');
  assert.is(seen.status, null, 'no HTTP response at all');
  assert.is(seen.error?.code, 'ECONNRESET');
  assert.is(seen.error?.message, 'read ECONNRESET');
  const entry = await entryOf(sent.messageID);
  assert.equal(entry.response, { status: null, body: null, fault: 'reset', delayMs: 0 });
  assert.is(entry.rule, 'reset');
  // The same through the shared test client.
  try {
    await mock.entitle(entitlementRequest({ contentID: 'reset' }));
    assert.unreachable('a reset sends no response');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'ECONNRESET');
  }
});

test('close: the socket is closed without a response ("socket hang up")', async () => {
  const sent = entitlementRequest({ contentID: 'close' });
  const seen = await observe(sent);
  assert.is(seen.outcome, 'request-error');
  assert.is(seen.status, null);
  assert.is(seen.error?.message, 'socket hang up');
  assert.is(seen.error?.code, 'ECONNRESET', "Node's code for a connection closed before any response");
  assert.ok(seen.elapsedMs < slack(250), `closed after ${seen.elapsedMs} ms`);
  assert.equal((await entryOf(sent.messageID)).response, { status: null, body: null, fault: 'close', delayMs: 0 });
});

test('hang: no response within the client timeout; journaled at once with fault hang; the duration once the client gives up', async () => {
  const sent = entitlementRequest({ contentID: 'hang' });
  const clientTimeoutMs = slack(250);
  let clientGaveUp = false;
  const pending = observe(sent, clientTimeoutMs).finally(() => (clientGaveUp = true));
  const entry = await eventually(() => entryOf(sent.messageID), { what: 'the journal entry of the hung request' });
  assert.not.ok(clientGaveUp, 'the journal shows the entry while the client is still waiting');
  assert.is(entry.rule, 'hang');
  assert.equal(entry.response, { status: null, body: null, fault: 'hang', delayMs: 0 });
  assert.is(entry.durationMs, null, 'not over yet');

  const seen = await pending;
  assert.is(seen.outcome, 'request-error');
  assert.is(seen.error?.code, 'ETIMEDOUT');
  assert.is(seen.status, null);
  assert.equal(seen.chunks, []);
  assert.ok(seen.elapsedMs >= clientTimeoutMs - 10 && seen.elapsedMs < clientTimeoutMs + slack(250), `gave up after ${seen.elapsedMs} ms`);
  const ended = await eventually(async () => ((await entryOf(sent.messageID)).durationMs !== null ? entryOf(sent.messageID) : null));
  assert.ok(ended.durationMs >= clientTimeoutMs - 100, `journaled duration ${ended.durationMs} ms covers the wait`);
});

test('partial: the status, headers and exactly the first half of the JSON body, then the connection closes ("aborted")', async () => {
  const sent = entitlementRequest({ contentID: 'partial-json' });
  const seen = await observe(sent);
  const full = fullJsonBody(sent);
  assert.is(seen.status, 200);
  assert.is(seen.headers['content-length'], String(full.length), 'the headers promise the whole body');
  assert.is(seen.outcome, 'response-error');
  assert.is(seen.error?.message, 'aborted');
  assert.ok(seen.body.length > 0, 'some bytes arrived');
  assert.ok(seen.body.equals(full.subarray(0, Math.floor(full.length / 2))), `got ${seen.body.toString()}`);
  assert.throws(() => JSON.parse(seen.body.toString()));
  const entry = await entryOf(sent.messageID);
  assert.is(entry.response.fault, 'partial');
  assert.is(entry.response.status, 200);
  assert.is(entry.response.body, seen.body.toString(), 'the journal has exactly what was sent');
});

test('partial with a raw body: half of it, with the scripted status', async () => {
  const sent = entitlementRequest({ contentID: 'partial-raw' });
  const seen = await observe(sent);
  assert.is(seen.status, 503);
  assert.is(seen.headers['content-length'], '20');
  assert.is(seen.body.toString(), '0123456789');
  assert.is(seen.outcome, 'response-error');
  assert.is((await entryOf(sent.messageID)).response.body, '0123456789');
});

test('slow: the whole body arrives in several chunks spread over the delay', async () => {
  const sent = entitlementRequest({ contentID: 'slow' });
  const seen = await observe(sent);
  assert.is(seen.outcome, 'complete');
  assert.is(seen.status, 200);
  assert.ok(seen.body.equals(fullJsonBody(sent)), `got ${seen.body.toString()}`);
  assert.is(JSON.parse(seen.body.toString()).messageID, sent.messageID);
  assert.ok(seen.elapsedMs >= 290 && seen.elapsedMs < 300 + slack(300), `took ${seen.elapsedMs} ms for a 300 ms dribble`);
  assert.ok(seen.chunks.length >= 3, `${seen.chunks.length} chunks`);
  const first = seen.chunks[0]!.atMs;
  const last = seen.chunks.at(-1)!.atMs;
  assert.ok(last - first >= 150, `chunks spread over ${last - first} ms`);
  const entry = await entryOf(sent.messageID);
  assert.is(entry.response.fault, 'slow');
  assert.is(entry.response.delayMs, 300);
  assert.equal(entry.response.body, JSON.parse(seen.body.toString()));
});

test('delay before a fault: the reset and the close come after it', async () => {
  const [reset, close] = await Promise.all([
    observe(entitlementRequest({ contentID: 'reset-later' })),
    observe(entitlementRequest({ contentID: 'close-later' })),
  ]);
  assert.is(reset.error?.code, 'ECONNRESET');
  assert.is(reset.error?.message, 'read ECONNRESET');
  assert.ok(reset.elapsedMs >= 190 && reset.elapsedMs < 200 + slack(300), `reset after ${reset.elapsedMs} ms`);
  assert.is(close.error?.message, 'socket hang up');
  assert.ok(close.elapsedMs >= 190 && close.elapsedMs < 200 + slack(300), `closed after ${close.elapsedMs} ms`);
});

test('delay: the answer comes no sooner than the delay, in one piece', async () => {
  const sent = entitlementRequest({ contentID: 'delayed' });
  const seen = await observe(sent);
  assert.is(seen.outcome, 'complete');
  assert.is(seen.status, 200);
  assert.ok(seen.elapsedMs >= 190 && seen.elapsedMs < 200 + slack(300), `answered after ${seen.elapsedMs} ms`);
  assert.ok(seen.chunks[0]!.atMs >= 190, 'no byte before the delay is over');
  assert.ok(seen.body.equals(fullJsonBody(sent)));
});

test('a client that gives up during a delay ends the exchange and its timer; the mock keeps serving', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const before = timers();
  const sent = entitlementRequest({ contentID: 'delayed-long' });
  const giveUp = new AbortController();
  const pending = observe(sent, 5000, giveUp.signal);
  await eventually(() => entryOf(sent.messageID));
  giveUp.abort();
  const seen = await pending;
  assert.is(seen.error?.name, 'AbortError');
  assert.is(seen.status, null);
  // A 10 s wait left running would keep the process (and a test run) alive that long after the client left.
  await eventually(() => timers() <= before, { what: 'the 10 s delay timer to be cleared' });
  const entry = await eventually(async () => {
    const found = await entryOf(sent.messageID);
    return found?.durationMs !== null ? found : null;
  });
  assert.is(entry.response.delayMs, 10_000);
  assert.ok(entry.durationMs < slack(250), `the exchange ended when the client left (${entry.durationMs} ms)`);
  const next = await observe(entitlementRequest({ contentID: 'anything-else' }));
  assert.is(next.status, 404, 'unmatched, but answered');
});

test.run();
