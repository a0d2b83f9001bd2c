/**
 * Per-test isolation, written only against the package's public exports: two mocks, ten
 * tests running at once against one of them, each in its own session (its own sequence and
 * deny rules, its own contentID prefix), each seeing exactly its own answers and journal,
 * and waits that answer within 50 ms of the awaited request.
 */
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMock, type StartedMock } from 'entitlement-mock';
import { AdminClient, type JournalEntry } from 'entitlement-mock/client';
import { checkedFetch } from './helpers/openapi.js';

const SESSIONS = 10;

interface Answer {
  status: number;
  body: { messageID?: string; isAllowed?: boolean; error?: number; errorText?: string };
  receivedAt: number;
}

/** One Entitlement Request over a new mTLS connection, as a license server sends it. */
function entitle(mock: StartedMock, contentID: string): Promise<Answer> {
  const url = new URL(mock.entitlementUrl);
  const payload = JSON.stringify({ messageID: randomUUID(), version: 1, contentID });
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        servername: 'localhost',
        ca: mock.ca.pem,
        cert: mock.clientCert.pem,
        key: mock.clientKey.pem,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text), receivedAt: performance.now() }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one parallel test saw. */
interface SessionRun {
  id: string;
  answers: Answer[];
  journal: JournalEntry[];
  waitLagMs: number;
}

/** One test: its session, its requests (with pauses so the ten interleave), a wait for the last, its journal. */
async function runSession(mock: StartedMock, client: AdminClient, index: number): Promise<SessionRun> {
  const id = `test-${index}`;
  const prefix = `t${index}-`;
  const created = await client.createSession({
    id,
    key: { contentID: `${prefix}*` },
    ttl: '60s',
    rules: [
      { name: 'deny', match: { contentID: `${prefix}denied` }, respond: { isAllowed: false, error: 403, errorText: `denied for ${id}` } },
      {
        name: 'steps',
        match: { contentID: `${prefix}steps` },
        sequence: [{ isAllowed: true }, { isAllowed: false, error: 429, errorText: `${id} step 1` }, { isAllowed: false, error: 503, errorText: `${id} step 2` }],
      },
    ],
  });
  assert.is(created.id, id);

  const answers: Answer[] = [];
  for (const suffix of ['steps', 'denied', 'steps', 'other', 'steps']) {
    await pause(Math.floor(Math.random() * 15));
    answers.push(await entitle(mock, `${prefix}${suffix}`));
  }
  // The sixth request is awaited: the wait is asked for first, then the request sent.
  const waited = client.waitForRequests({ session: id, contentID: `${prefix}last` }, { timeout: 10_000 }).then((answer) => ({
    answer,
    at: performance.now(),
  }));
  await pause(20);
  const last = await entitle(mock, `${prefix}last`);
  answers.push(last);
  const { answer, at } = await waited;
  assert.is(answer.waited.reason, 'matched', id);
  assert.is(answer.requests.length, 1, id);

  const { requests } = await client.listRequests({ session: id });
  await client.deleteSession(id);
  return { id, answers, journal: requests, waitLagMs: at - last.receivedAt };
}

let mocks: StartedMock[] = [];
test.before(async () => {
  mocks = await Promise.all([startMock(), startMock()]);
  // Warm up (TLS, JIT, the answer checks) so the first wait timed is not the process's first.
  const [mock] = mocks as [StartedMock];
  const client = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
  const warming = client.waitForRequests({ contentID: 'warm-up' }, { timeout: 10_000 });
  await entitle(mock, 'warm-up');
  await warming;
  await client.reset();
});
test.after(async () => {
  await Promise.all(mocks.map((mock) => mock.stop()));
});

test('ten sessions at once on one mock: each sees exactly its own answers and journal; waits answer within 50 ms', async () => {
  const [mock, other] = mocks as [StartedMock, StartedMock];
  const client = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
  const otherClient = new AdminClient(other.adminUrl, { fetch: checkedFetch });
  // The second mock holds a session with the same id and key, and answers everything: it must not leak into the first.
  await otherClient.createSession({ id: 'test-0', key: { contentID: 't0-*' }, rules: [{ name: 'allow', respond: { isAllowed: true } }] });

  const runs = await Promise.all(Array.from({ length: SESSIONS }, (_, index) => runSession(mock, client, index)));

  for (const run of runs) {
    const [step0, denied, step1, other, step2, last] = run.answers as [Answer, Answer, Answer, Answer, Answer, Answer];
    assert.is(step0.body.isAllowed, true, `${run.id}: its sequence starts at step 0`);
    assert.equal([step1.body.error, step1.body.errorText], [429, `${run.id} step 1`], run.id);
    assert.equal([step2.body.error, step2.body.errorText], [503, `${run.id} step 2`], run.id);
    assert.equal([denied.body.isAllowed, denied.body.errorText], [false, `denied for ${run.id}`], run.id);
    assert.is(other.body.isAllowed, true, `${run.id}: what its rules do not match, the active scenario answers`);
    assert.is(last.body.isAllowed, true);

    const prefix = `t${run.id.slice('test-'.length)}-`;
    assert.equal(
      run.journal.map((entry) => (entry.request as { contentID: string }).contentID),
      ['steps', 'denied', 'steps', 'other', 'steps', 'last'].map((suffix) => `${prefix}${suffix}`),
      `${run.id}: its journal holds its six requests and nothing else`,
    );
    assert.ok(run.journal.every((entry) => entry.session === run.id));
    assert.equal(
      run.journal.map((entry) => [entry.scenario, entry.rule, entry.step]),
      [
        [null, 'steps', 0],
        [null, 'deny', null],
        [null, 'steps', 1],
        ['default', 'allow-all', null],
        [null, 'steps', 2],
        ['default', 'allow-all', null],
      ],
      run.id,
    );
    assert.ok(run.waitLagMs < 50, `${run.id}: the wait answered ${run.waitLagMs.toFixed(1)} ms after the awaited request's answer`);
  }

  // The ten really overlapped: every test's first request came before any test's last one.
  const firstIds = runs.map((run) => (run.journal[0] as JournalEntry).id);
  const lastIds = runs.map((run) => (run.journal.at(-1) as JournalEntry).id);
  assert.ok(Math.max(...firstIds) < Math.min(...lastIds), `first ids ${firstIds} / last ids ${lastIds}`);

  assert.is((await client.countRequests()).count, SESSIONS * 6, 'the first mock saw the sixty requests');
  assert.equal((await client.listSessions()).sessions, [], 'every session deleted itself');
  assert.is((await otherClient.countRequests()).count, 0, 'the second mock saw none of them');
  assert.equal((await otherClient.listSessions()).sessions.map((session) => session.id), ['test-0']);
  const elsewhere = await entitle(other, 't0-denied');
  assert.is(elsewhere.body.isAllowed, true, "the second mock's session answers by its own rules");
});

test.run();
