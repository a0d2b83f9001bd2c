/**
 * Issue 6, part 1: thousands of generated malformed Entitlement Requests over
 * mTLS. Each gets its documented answer, the mock keeps serving, memory stays
 * flat once the journal is full, and the journal plus the failure log account
 * for every request sent.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTestMock, entitlementRequest, type TestMock } from './helpers/mock.js';
import { RawConnection, type RawTarget } from './helpers/raw-tls.js';
import { adversarialCorpus, type AdversarialCase } from './helpers/adversarial-corpus.js';
import { slack } from './helpers/slack.js';

const BODY_TIMEOUT_MS = 300;
const JOURNAL_SIZE = 1000;
const WORKERS = 16;

let mock: TestMock;
let target: RawTarget;
test.before(async () => {
  mock = await startTestMock({ journalSize: JOURNAL_SIZE, bodyTimeoutMs: BODY_TIMEOUT_MS, logLevel: 'warn' });
  target = { port: mock.port, caPem: mock.pki.caPem, client: mock.pki.client };
});
test.after(async () => {
  await mock.close();
});

interface Outcome {
  mismatches: string[];
  journaled: number;
  refusals: Map<string, number>;
  sent: number;
}

/** Send every case over WORKERS kept-alive connections (a new one after each case that closes). */
async function sendCorpus(cases: AdversarialCase[]): Promise<Outcome> {
  const outcome: Outcome = { mismatches: [], journaled: 0, refusals: new Map(), sent: 0 };
  const queue = [...cases];
  const worker = async () => {
    let connection: RawConnection | null = null;
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      connection ??= await RawConnection.open(target);
      const started = Date.now();
      let response;
      try {
        response = await connection.exchange(next.bytes, next.stalls ? BODY_TIMEOUT_MS + 3000 : 5000);
      } catch (error) {
        outcome.mismatches.push(`${next.kind}: ${(error as Error).message}`);
        connection.close();
        connection = null;
        continue;
      }
      outcome.sent++;
      if (next.journaled) outcome.journaled++;
      if (next.refusal) outcome.refusals.set(next.refusal, (outcome.refusals.get(next.refusal) ?? 0) + 1);
      const got = response === null ? 'no answer' : String(response.status);
      if (got !== String(next.status)) outcome.mismatches.push(`${next.kind}: expected ${next.status}, got ${got} ${response?.body.toString().slice(0, 200) ?? ''}`);
      else if (response && response.json?.error !== undefined && response.json.error !== response.status)
        outcome.mismatches.push(`${next.kind}: body says error ${response.json.error} with status ${response.status}`);
      if (next.stalls) {
        const took = Date.now() - started;
        if (took < BODY_TIMEOUT_MS - 20 || took > BODY_TIMEOUT_MS + slack(375))
          outcome.mismatches.push(`${next.kind}: answered after ${took} ms, the body timeout is ${BODY_TIMEOUT_MS} ms`);
      }
      if (next.closes) {
        if (response && !/close/i.test(response.headers.connection ?? '')) outcome.mismatches.push(`${next.kind}: no Connection: close`);
        const closed = await Promise.race([connection.closed.then(() => true), new Promise((resolve) => setTimeout(resolve, slack(500), false))]);
        if (!closed) outcome.mismatches.push(`${next.kind}: connection still open ${slack(500)} ms after the answer`);
        connection.close();
        connection = null;
      } else if (connection.isClosed) {
        outcome.mismatches.push(`${next.kind}: the server closed a connection it should have kept`);
        connection = null;
      }
    }
    connection?.close();
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return outcome;
}

async function assertStillServing(): Promise<void> {
  const sent = entitlementRequest();
  const reply = await mock.entitle(sent);
  assert.is(reply.status, 200, 'a good request after the bad ones');
  assert.is(reply.json.messageID, sent.messageID);
}

/** Reset, send the corpus, and check every answer and the accounting. */
async function round(cases: AdversarialCase[]): Promise<Outcome> {
  assert.is((await mock.admin('POST', '/admin/reset')).status, 200);
  const outcome = await sendCorpus(cases);
  assert.equal(outcome.mismatches.slice(0, 20), [], `${outcome.mismatches.length} answers were not the documented ones`);
  assert.is(outcome.sent, cases.length);

  const listed = await mock.admin('GET', '/admin/requests');
  assert.is(listed.status, 200, 'the journal stays readable');
  const journal = listed.json;
  assert.is(journal.total, outcome.journaled, 'every request that reached HTTP is journaled, once');
  assert.is(journal.requests.length, Math.min(JOURNAL_SIZE, outcome.journaled));
  assert.is(journal.dropped, Math.max(0, outcome.journaled - JOURNAL_SIZE));
  const failures = (await mock.admin('GET', '/admin/tls-failures')).json;
  assert.equal(failures.counts, Object.fromEntries(outcome.refusals), 'every request the parser refused is recorded, once');
  return outcome;
}

const heapAfterGc = (() => {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
})();

test('thousands of malformed requests: each gets its documented answer; journal and failure log add up; memory stays flat', async () => {
  const cases = adversarialCorpus(6);
  assert.ok(cases.length >= 2500, `${cases.length} cases`);

  const first = await round(cases);
  assert.ok(first.journaled > JOURNAL_SIZE, 'the journal is full after the first round');
  await assertStillServing();
  const before = heapAfterGc();
  await round(cases);
  await round(cases);
  await assertStillServing();
  const growth = heapAfterGc() - before;
  // Two more rounds of ~2,600 requests with the journal already full: what is retained must not
  // grow with the number of requests (a leak of even 2 KiB per request would show).
  assert.ok(growth < 8 * 1024 * 1024, `memory grew by ${(growth / 1024 / 1024).toFixed(1)} MiB over ${2 * cases.length} requests`);
});

test('a 10,000-level nested body leaves the journal readable, kept as rawBody', async () => {
  await mock.admin('POST', '/admin/reset');
  const deep = '['.repeat(10_000) + ']'.repeat(10_000);
  const reply = await mock.entitle(deep);
  assert.is(reply.status, 400);
  assert.match(reply.json.errorText, /nested deeper than 64 levels/);
  const listed = await mock.admin('GET', '/admin/requests');
  assert.is(listed.status, 200);
  const [entry] = listed.json.requests;
  assert.is(entry.request, null);
  assert.is(entry.rawBody, deep);
});

test('prototype keys are journaled as data and pollute nothing', async () => {
  await mock.admin('POST', '/admin/reset');
  const body = JSON.stringify(entitlementRequest());
  const reply = await mock.entitle(`${body.slice(0, -1)},"__proto__":{"isAllowed":false,"polluted":true}}`);
  assert.is(reply.status, 200);
  assert.is(reply.json.isAllowed, true);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.is(({} as Record<string, unknown>).isAllowed, undefined);
  const [entry] = (await mock.admin('GET', '/admin/requests')).json.requests;
  assert.ok(entry.warnings.includes('unknown field "__proto__"'));
});

test('500 unknown fields get 20 warnings and a summary; over 1,000 values is no Entitlement Request, kept as text', async () => {
  await mock.admin('POST', '/admin/reset');
  const fields = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, 0]));
  const reply = await mock.entitle({ ...entitlementRequest(), ...fields(500) });
  assert.is(reply.status, 200);
  const [entry] = (await mock.admin('GET', '/admin/requests')).json.requests;
  assert.is(entry.warnings.length, 21);
  assert.is(entry.warnings[20], '... and 480 more unknown fields');

  const body = JSON.stringify({ ...entitlementRequest(), extra: Array(996).fill(0) });
  const refused = await mock.entitle(body);
  assert.is(refused.status, 400);
  assert.match(refused.json.errorText, /more than 1000 values/);
  const [, refusedEntry] = (await mock.admin('GET', '/admin/requests')).json.requests;
  assert.is(refusedEntry.request, null);
  assert.is(refusedEntry.rawBody, body);
  const atLimit = await mock.entitle({ ...entitlementRequest(), extra: Array(995).fill(0) });
  assert.is(atLimit.status, 200, '1,000 values (the object, its 4 fields, 995 items) are fine');
});

test.run();
