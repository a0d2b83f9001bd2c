/**
 * Per-test isolation through the public API only (`entitlement-mock`, `entitlement-mock/client`,
 * built to dist/ by `npm ci`; run `npm run build` after changing src/ before running this file
 * alone): two mocks, ten sessions driven in parallel against one of them, each seeing exactly
 * its own answers and journal, and waits that answer as the awaited request arrives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMock, type StartedMock } from 'entitlement-mock';
import { AdminApiError, AdminClient, type JournalEntry } from 'entitlement-mock/client';
import { checkedFetch } from './helpers/openapi.js';
import { entitlementRequest, sendEntitlementRequest, type EntitlementReply } from './helpers/mock.js';

const SCENARIO = 'rules:\n  - name: scenario-allow\n    respond: { isAllowed: true, errorText: from-scenario }\n';

function entitle(mock: StartedMock, contentID: string): Promise<EntitlementReply> {
  const url = new URL(mock.entitlementUrl);
  return sendEntitlementRequest(
    { port: Number(url.port), ca: mock.ca.pem, defaultClient: { certPem: mock.clientCert.pem, keyPem: mock.clientKey.pem }, path: url.pathname },
    entitlementRequest({ contentID }),
  );
}

let busy: StartedMock;
let quiet: StartedMock;
test.before(async () => {
  [busy, quiet] = await Promise.all([startMock({ scenarios: { default: SCENARIO } }), startMock({ scenarios: { default: SCENARIO } })]);
});
test.after(async () => {
  await Promise.all([busy.stop(), quiet.stop()]);
});

/** One test of a license server, in its own session: what it heard, and how long its last wait lagged behind the reply. */
async function isolatedTest(client: AdminClient, n: number): Promise<{ heard: string[]; journal: JournalEntry[]; waitLagMs: number }> {
  const id = `t${n}`;
  await client.createSession({
    id,
    key: { contentID: `${id}-*` },
    ttl: '60s',
    rules: [
      { name: 'deny-first', match: { contentID: `${id}-deny` }, times: 1, respond: { isAllowed: false, error: 403, errorText: `${id} denied` } },
      { name: 'steps', match: { contentID: `${id}-seq` }, sequence: [{ errorText: `${id} step 0` }, { errorText: `${id} step 1` }] },
    ],
  });
  const heard: string[] = [];
  for (const suffix of ['seq', 'deny', 'seq', 'deny', 'seq', 'other']) {
    // Overlapping timings: each test paces its requests differently.
    await new Promise((resolve) => setTimeout(resolve, (n * 7 + suffix.length) % 11));
    const reply = await entitle(busy, `${id}-${suffix}`);
    heard.push(`${reply.json.isAllowed} ${reply.json.errorText}`);
  }
  // Wait for one more request, sent after the wait started.
  const waiting = client.waitForRequests({ session: id, contentID: `${id}-last` }, { timeout: 10_000 }).then((answer) => ({ answer, at: performance.now() }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const reply = await entitle(busy, `${id}-last`);
  const repliedAt = performance.now();
  const { answer, at } = await waiting;
  assert.is(reply.json.errorText, 'from-scenario');
  assert.equal(answer.waited.reason, 'matched', id);
  const all = await client.waitForRequests({ session: id }, { count: 7, timeout: 5000 });
  assert.is(all.waited.satisfied, true, id);
  return { heard, journal: all.requests, waitLagMs: at - repliedAt };
}

test('ten sessions in parallel on one mock: each sees exactly its own sequence, deny rule and journal; the other mock sees nothing', async () => {
  const client = new AdminClient(busy.adminUrl, { fetch: checkedFetch });
  const results = await Promise.all(Array.from({ length: 10 }, (_, n) => isolatedTest(client, n)));
  results.forEach(({ heard, journal, waitLagMs }, n) => {
    const id = `t${n}`;
    assert.equal(heard, [`true ${id} step 0`, `false ${id} denied`, `true ${id} step 1`, 'true from-scenario', `true ${id} step 1`, 'true from-scenario'], id);
    assert.equal(
      journal.map((entry) => [entry.request && (entry.request as { contentID: string }).contentID, entry.session, entry.rule]),
      [
        [`${id}-seq`, id, 'steps'],
        [`${id}-deny`, id, 'deny-first'],
        [`${id}-seq`, id, 'steps'],
        [`${id}-deny`, id, 'scenario-allow'],
        [`${id}-seq`, id, 'steps'],
        [`${id}-other`, id, 'scenario-allow'],
        [`${id}-last`, id, 'scenario-allow'],
      ],
      id,
    );
    assert.ok(waitLagMs < 50, `${id}: the wait answered ${waitLagMs.toFixed(1)} ms after the awaited request's reply`);
  });
  assert.equal((await client.listSessions()).sessions.map((session) => session.id).sort(), Array.from({ length: 10 }, (_, n) => `t${n}`).sort());
  assert.is((await client.getSession('t3')).requests, 7);

  const quietClient = new AdminClient(quiet.adminUrl, { fetch: checkedFetch });
  assert.equal((await quietClient.listSessions()).sessions, []);
  assert.is((await quietClient.countRequests()).count, 0);
  assert.is((await quietClient.createSession({ id: 't0', key: { contentID: 't0-*' } })).id, 't0', 'ids are per mock');
});

test('the client reports refusals as AdminApiError with the status and the server message', async () => {
  const client = new AdminClient(busy.adminUrl, { fetch: checkedFetch });
  const overlap = await client.createSession({ id: 'wide', key: { contentID: 't1-seq*' } }).catch((error: unknown) => error);
  assert.instance(overlap, AdminApiError);
  assert.is((overlap as AdminApiError).status, 409);
  assert.match((overlap as AdminApiError).serverMessage, 'overlaps session "t1"');
  const invalid = await client.createSession('key: { contentID: x }\nttl: forever\n').catch((error: unknown) => error);
  assert.is((invalid as AdminApiError).status, 400);
  assert.is(((invalid as AdminApiError).body as { errors: { line: number }[] }).errors[0]!.line, 2);

  assert.equal(await client.deleteSession('t1'), { removed: 't1' });
  const gone = await client.getSession('t1').catch((error: unknown) => error);
  assert.is((gone as AdminApiError).status, 404);
  await client.reset();
  assert.equal((await client.listSessions()).sessions, []);
});

test.run();
