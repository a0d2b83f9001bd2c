/**
 * The typed client's session methods through the public exports (`entitlement-mock`,
 * `entitlement-mock/client`, built to dist/ by `npm ci`; run `npm run build` after changing
 * src/ before running this file alone). Ten sessions in parallel: parallel-sessions.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMock, type StartedMock } from 'entitlement-mock';
import { AdminApiError, AdminClient } from 'entitlement-mock/client';
import { checkedFetch } from './helpers/openapi.js';

let mock: StartedMock;
let client: AdminClient;
test.before(async () => {
  mock = await startMock();
  client = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
});
test.after(async () => {
  await mock.stop();
});

async function refusal(call: Promise<unknown>): Promise<AdminApiError> {
  const error = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  assert.instance(error, AdminApiError);
  return error as AdminApiError;
}

test('create (object or YAML text), list, get, delete; refusals as AdminApiError with the status, message and positioned errors', async () => {
  const created = await client.createSession({ id: 'a', key: { contentID: 'a-*' }, ttl: '60s', rules: [{ name: 'deny', respond: { isAllowed: false } }] });
  assert.equal([created.id, created.rules, created.ttlMs, created.requests, created.warnings], ['a', ['deny'], 60_000, 0, []]);
  const fromYaml = await client.createSession('key: { contentID: "b-*" }\ndescription: from YAML\n');
  assert.match(fromYaml.id, /^s-[0-9a-f]{8}$/);
  assert.is(fromYaml.description, 'from YAML');
  assert.equal((await client.listSessions()).sessions.map((session) => session.id), ['a', fromYaml.id]);
  assert.equal((await client.getSession('a')).key, { contentID: 'a-*' });

  const overlap = await refusal(client.createSession({ id: 'wide', key: { contentID: 'a-1*' } }));
  assert.is(overlap.status, 409);
  assert.match(overlap.serverMessage, 'session "wide" (key contentID glob "a-1*") overlaps session "a"');
  assert.equal((overlap.body as { sessions: string[] }).sessions, ['wide', 'a']);
  const invalid = await refusal(client.createSession('key: { contentID: x }\nttl: forever\n'));
  assert.is(invalid.status, 400);
  assert.equal((invalid.body as { errors: { line: number; column: number }[] }).errors.map(({ line, column }) => [line, column]), [[2, 6]]);

  assert.equal(await client.deleteSession('a'), { removed: 'a' });
  assert.is((await refusal(client.getSession('a'))).status, 404);
  assert.is((await refusal(client.deleteSession('a'))).status, 404);
  await client.reset();
  assert.equal((await client.listSessions()).sessions, []);
});

test.run();
