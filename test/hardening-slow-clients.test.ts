/**
 * Issue 6, part 2: slow and stuck clients. Header and body time limits close
 * slowloris-style connections within the configured limits; `hang` and stalled
 * clients do not hold up anyone else; past --max-connections a connection is
 * refused at once (and recorded) instead of piling up.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestMock, entitlementRequest, stuckSlowOkScenarios, type TestMock } from './helpers/mock.js';
import { RawConnection, httpPost, type RawTarget } from './helpers/raw-tls.js';
import { closeAfter } from './helpers/cleanup.js';
import { eventually } from './helpers/eventually.js';
import { slack } from './helpers/slack.js';
import { timeoutCheckInterval } from '../src/server/options.js';

const HEADER_TIMEOUT_MS = 500;
const BODY_TIMEOUT_MS = 600;
/** How late a cut may come: Node checks the header and request limits every timeoutCheckInterval, then closes at once. */
const LATE_MS = timeoutCheckInterval(HEADER_TIMEOUT_MS) + slack(100);

const own = closeAfter(test.after.each);
const open = async (to: RawTarget, options?: { timeoutMs?: number }) => own(await RawConnection.open(to, options));

let mock: TestMock;
let target: RawTarget;
test.before(async () => {
  const scenarios = await stuckSlowOkScenarios('2500ms');
  mock = await startTestMock({ scenarios, headerTimeoutMs: HEADER_TIMEOUT_MS, bodyTimeoutMs: BODY_TIMEOUT_MS, logLevel: 'warn' });
  target = { port: mock.port, caPem: mock.pki.caPem, client: mock.pki.client };
});
test.after(async () => {
  await mock.close();
});

/** Write `bytes` one byte every `intervalMs` until the connection closes; resolves with the bytes written. */
function dribble(connection: RawConnection, bytes: Buffer, intervalMs: number): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    const timer = setInterval(() => {
      if (connection.isClosed || written >= bytes.length) {
        clearInterval(timer);
        resolve(written);
        return;
      }
      connection.write(bytes.subarray(written, written + 1));
      written++;
    }, intervalMs);
    void connection.closed.then(() => {
      clearInterval(timer);
      resolve(written);
    });
  });
}

const withinLimit = (lifetimeMs: number | null, limitMs: number) =>
  lifetimeMs !== null && lifetimeMs >= limitMs - 50 && lifetimeMs <= limitMs + LATE_MS;

test('slowloris: headers one byte every 100 ms are cut off at the header limit with a 408', async () => {
  const connection = await open(target);
  const opened = Date.now();
  const request = httpPost('/entitlement', JSON.stringify(entitlementRequest()));
  const written = dribble(connection, request, 100);
  const response = await connection.readResponse(HEADER_TIMEOUT_MS + 3000);
  await connection.closed;
  const lifetime = Date.now() - opened;
  assert.is(response?.status, 408);
  assert.equal(response?.json, { isAllowed: false, error: 408, errorText: `request headers not complete within ${HEADER_TIMEOUT_MS} ms` });
  assert.ok(withinLimit(lifetime, HEADER_TIMEOUT_MS), `closed after ${lifetime} ms`);
  assert.ok((await written) < 20, 'cut off long before the headers were done');
});

test('a connection that completes the handshake and says nothing is closed at the header limit', async () => {
  const connection = await open(target);
  const opened = Date.now();
  const response = await connection.readResponse(HEADER_TIMEOUT_MS + 3000);
  await connection.closed;
  assert.is(response?.status, 408);
  assert.ok(withinLimit(Date.now() - opened, HEADER_TIMEOUT_MS), `closed after ${Date.now() - opened} ms`);
});

test('a body that stalls, and one that dribbles, are cut off at the body limit with a journaled 408', async () => {
  await mock.admin('POST', '/admin/reset');
  const body = JSON.stringify(entitlementRequest());
  const stalled = await open(target);
  const dribbling = await open(target);
  const started = Date.now();
  stalled.write(httpPost('/entitlement', body.slice(0, 10), { 'Content-Length': body.length }));
  const fullRequest = httpPost('/entitlement', body);
  const headerEnd = fullRequest.indexOf('\r\n\r\n') + 4;
  dribbling.write(fullRequest.subarray(0, headerEnd));
  void dribble(dribbling, fullRequest.subarray(headerEnd), 50);

  for (const connection of [stalled, dribbling]) {
    const response = await connection.readResponse(BODY_TIMEOUT_MS + 3000);
    await connection.closed;
    assert.is(response?.status, 408);
    assert.match(response?.json.errorText, new RegExp(`^body not complete within ${BODY_TIMEOUT_MS} ms \\(\\d+ bytes received, of ${body.length} declared\\)$`));
    assert.ok(withinLimit(Date.now() - started, BODY_TIMEOUT_MS), `closed after ${Date.now() - started} ms`);
  }
  const { requests } = (await mock.admin('GET', '/admin/requests')).json;
  assert.is(requests.length, 2);
  for (const entry of requests) {
    assert.is(entry.response.status, 408);
    assert.match(entry.problems[0], /^body not complete within/);
  }
});

test('hung, slow and stalled clients do not hold up anyone else, and the limits do not cut a held answer', async () => {
  await mock.admin('POST', '/admin/reset');
  const hung = await Promise.all(Array.from({ length: 10 }, () => open(target)));
  for (const connection of hung) connection.write(httpPost('/entitlement', JSON.stringify(entitlementRequest({ contentID: 'stuck' }))));
  const slow = await open(target);
  slow.write(httpPost('/entitlement', JSON.stringify(entitlementRequest({ contentID: 'slow' }))));
  const slowSentAt = Date.now();
  const loris = await Promise.all(Array.from({ length: 10 }, () => open(target)));
  for (const connection of loris) void dribble(connection, httpPost('/entitlement', '{}'), 100);
  const stalled = await Promise.all(Array.from({ length: 10 }, () => open(target)));
  for (const connection of stalled) connection.write(httpPost('/entitlement', '{"messageID":', { 'Content-Length': 500 }));
  await eventually(async () => (await mock.admin('GET', '/admin/requests/count?rule=stuck')).json.count === 10);

  // Meanwhile, ordinary license-server requests are answered at once.
  const started = Date.now();
  const replies = await Promise.all(Array.from({ length: 50 }, () => mock.entitle(entitlementRequest(), { timeoutMs: slack(500) })));
  const took = Date.now() - started;
  assert.ok(replies.every((reply) => reply.status === 200));
  assert.ok(took < slack(400), `50 requests took ${took} ms next to 31 stuck clients`);

  await eventually(() => loris.every((connection) => connection.isClosed) && stalled.every((connection) => connection.isClosed), {
    what: 'the slowloris connections and the stalled bodies to be closed',
  });
  // The 2.5 s delay ends past the request limit (header + body + 1 s = 2.1 s, checked every 125 ms, on
  // the same event loop): the held and the delayed answers are still there, since the limits are about
  // receiving a request, not answering it.
  const slowReply = await slow.readResponse(slack(3000));
  assert.ok(Date.now() - slowSentAt >= 2500 - 10, 'the delayed answer came after the request limit');
  assert.is(slowReply?.status, 200, 'a 2.5 s delay is answered in full');
  assert.ok(hung.every((connection) => !connection.isClosed), 'hung requests are held until the client gives up');
});

test('past --max-connections a connection is refused before the handshake and recorded; freed slots serve again', async () => {
  const limited = own(await startTestMock({ maxConnections: 5, logLevel: 'warn' }));
  const limitedTarget = { port: limited.port, caPem: limited.pki.caPem, client: limited.pki.client };
  const held = await Promise.all(Array.from({ length: 5 }, () => open(limitedTarget)));
  const attempts = await Promise.allSettled(Array.from({ length: 100 }, () => open(limitedTarget, { timeoutMs: slack(3000) })));
  const refused = attempts.filter((attempt) => attempt.status === 'rejected') as PromiseRejectedResult[];
  assert.is(refused.length, 100, 'every connection over the limit is refused');
  for (const { reason } of refused) assert.match(String(reason.code ?? reason.message), /ECONNRESET|EPIPE|disconnected/);
  const failures = (await limited.admin('GET', '/admin/tls-failures')).json;
  assert.is(failures.counts['connection limit reached'], 100);

  // The held connections still work, and once some close, new ones are served.
  const reply = await held[0]?.exchange(httpPost('/entitlement', JSON.stringify(entitlementRequest())));
  assert.is(reply?.status, 200);
  for (const connection of held) connection.close();
  const fresh = await eventually(() => limited.entitle(entitlementRequest(), { timeoutMs: slack(1000) }).catch(() => null));
  assert.is(fresh.status, 200);
});

test.run();
