/**
 * Sessions over real mTLS: requests matching a session's key are answered by its rules first,
 * then by the active scenario; each session counts on its own; overlapping keys are refused;
 * sessions expire, are deleted and reset; the journal names them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { entitlementRequest, eventually, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';

const SCENARIO = `
rules:
  - name: scenario-answer
    respond: { errorText: from-scenario }
`;

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock({ scenarios: await scenarioFolder({ 'default.yaml': SCENARIO }), scenario: 'default' });
});
test.after(async () => {
  await mock.close();
});
test.before.each(async () => {
  await mock.admin('POST', '/admin/reset');
});

const yaml = { 'content-type': 'application/yaml' };

async function said(contentID: string, fields: Record<string, unknown> = {}): Promise<string> {
  const reply = await mock.entitle(entitlementRequest({ contentID, ...fields }));
  return String(reply.json?.errorText ?? `${reply.status} ${reply.bodyText}`);
}

test('a session answers its requests by its rules first, then the scenario; the journal names it', async () => {
  const created = await mock.admin(
    'POST',
    '/admin/sessions',
    [
      'id: t1',
      'key: { contentID: "t1-*" }',
      'description: first test',
      'rules:',
      '  - name: counted',
      '    match: { contentID: t1-counted }',
      '    sequence: [{ errorText: step-0 }, { errorText: step-1 }]',
      '  - name: denied',
      '    match: { contentID: t1-denied }',
      '    respond: { isAllowed: false, errorText: denied }',
    ].join('\n'),
    yaml,
  );
  assert.is(created.status, 201, created.text);
  assert.is(created.json.id, 't1');
  assert.equal(created.json.key, { contentID: 't1-*' });
  assert.equal(created.json.rules, ['counted', 'denied']);
  assert.is(created.json.description, 'first test');
  assert.is(created.json.expiresAt, null);

  assert.is(await said('t1-counted'), 'step-0');
  assert.is(await said('t1-counted'), 'step-1');
  assert.is(await said('t1-denied'), 'denied');
  assert.is(await said('t1-other'), 'from-scenario', 'no session rule matched: the scenario answers');
  assert.is(await said('outsider'), 'from-scenario');

  const journal = (await mock.admin('GET', '/admin/requests')).json.requests;
  assert.equal(
    journal.map((e: any) => [e.request.contentID, e.session, e.scenario, e.rule]),
    [
      ['t1-counted', 't1', null, 'counted'],
      ['t1-counted', 't1', null, 'counted'],
      ['t1-denied', 't1', null, 'denied'],
      ['t1-other', 't1', 'default', 'scenario-answer'],
      ['outsider', null, 'default', 'scenario-answer'],
    ],
  );
  // Request lines are written in batches: wait for the last one.
  await eventually(() => mock.logs.some((line) => line.msg === 'request' && line.contentID === 'outsider'));
  const logged = mock.logs.filter((line) => line.msg === 'request').slice(-2);
  assert.equal(logged.map((line) => [line.contentID, line.session, line.scenario]), [['t1-other', 't1', 'default'], ['outsider', undefined, 'default']]);
  const mine = (await mock.admin('GET', '/admin/requests?session=t1')).json.requests;
  assert.equal(mine.map((e: any) => e.request.contentID), ['t1-counted', 't1-counted', 't1-denied', 't1-other']);
  assert.is((await mock.admin('GET', '/admin/sessions/t1')).json.requests, 4);
  const listed = (await mock.admin('GET', '/admin/sessions')).json.sessions;
  assert.equal(listed.map((s: any) => s.id), ['t1']);
});

test('ten sessions with distinct keys, driven in parallel, each see exactly their own sequence and journal', async () => {
  const ids = Array.from({ length: 10 }, (_, n) => `p${n}`);
  await Promise.all(
    ids.map(async (id) => {
      const created = await mock.admin('POST', '/admin/sessions', {
        id,
        key: { customerCookie: id },
        rules: [
          { name: 'deny-once', match: { contentID: 'deny' }, times: 1, respond: { isAllowed: false, errorText: `${id}-denied` } },
          { name: 'steps', sequence: [{ errorText: `${id}-0` }, { errorText: `${id}-1` }, { errorText: `${id}-2` }] },
        ],
      });
      assert.is(created.status, 201, created.text);
    }),
  );
  const heard = await Promise.all(
    ids.map(async (id, n) => {
      const answers: string[] = [];
      // Interleave: each session's requests are spread among the others'.
      for (const contentID of ['a', 'deny', 'b', 'deny', 'c']) {
        await new Promise((resolve) => setTimeout(resolve, n % 3));
        answers.push(await said(contentID, { customerCookie: id }));
      }
      return answers;
    }),
  );
  ids.forEach((id, n) => assert.equal(heard[n], [`${id}-0`, `${id}-denied`, `${id}-1`, `${id}-2`, `${id}-2`], id));
  for (const id of ids) {
    const journal = (await mock.admin('GET', `/admin/requests?session=${id}`)).json.requests;
    assert.is(journal.length, 5, id);
    assert.ok(journal.every((e: any) => e.request.customerCookie === id && e.session === id), id);
  }
  assert.is(await said('a'), 'from-scenario', 'no cookie: no session');
});

test('overlapping keys are refused with 409 naming both sessions; disjoint globs are fine', async () => {
  const post = (body: unknown) => mock.admin('POST', '/admin/sessions', body);
  assert.is((await post({ id: 'prefix', key: { contentID: 'abc-*' } })).status, 201);
  const cases: [unknown, string][] = [
    [{ id: 'exact', key: { contentID: 'abc-1' } }, 'exact'],
    [{ id: 'glob', key: { contentID: '*-9' } }, 'glob'],
    [{ id: 'narrower', key: { contentID: 'abc-1*' } }, 'narrower'],
  ];
  for (const [body, id] of cases) {
    const refused = await post(body);
    assert.is(refused.status, 409, id);
    assert.equal(refused.json.sessions, [id, 'prefix']);
    assert.match(refused.json.message, `session "${id}"`);
    assert.match(refused.json.message, 'overlaps session "prefix" (key contentID glob "abc-*"): a request can match both');
  }
  const otherField = await post({ id: 'by-client', key: { clientCN: 'license-server' } });
  assert.is(otherField.status, 409);
  assert.equal(otherField.json.sessions, ['by-client', 'prefix']);
  assert.match(otherField.json.message, 'sessions alive at the same time must key on the same field');
  assert.is((await post({ id: 'disjoint', key: { contentID: 'abd-*' } })).status, 201);
  assert.is((await post({ id: 'exact-outside', key: { contentID: 'abc' } })).status, 201, '"abc" does not match "abc-*"');
  const again = await post({ id: 'prefix', key: { contentID: 'zzz' } });
  assert.is(again.status, 409);
  assert.match(again.json.message, 'a session with id "prefix" exists');
  const generated = await post({ key: { contentID: 'gen' } });
  assert.is(generated.status, 201);
  assert.match(generated.json.id, /^s-[0-9a-f]{8}$/);
});

test('a session with a ttl expires on its own: it stops matching and its waits end', async () => {
  const created = await mock.admin('POST', '/admin/sessions', { id: 'short', key: { contentID: 'short-*' }, ttl: '300ms', rules: [{ respond: { errorText: 'in-session' } }] });
  assert.is(created.status, 201, created.text);
  assert.is(created.json.ttlMs, 300);
  assert.ok(Date.parse(created.json.expiresAt) - Date.parse(created.json.createdAt) === 300);
  const ended = once(mock.sessions, 'ended');
  const waiting = mock.admin('GET', '/admin/requests?session=short&wait=30s&count=5');
  assert.is(await said('short-1'), 'in-session');
  const [event] = await ended;
  assert.equal(event, { id: 'short', reason: 'expired' });
  const waited = (await waiting).json;
  assert.is(waited.waited.reason, 'session-ended');
  assert.is(waited.requests.length, 1);
  assert.is((await mock.admin('GET', '/admin/sessions/short')).status, 404);
  assert.is(await said('short-2'), 'from-scenario');
  assert.is((await mock.admin('GET', '/admin/requests?contentID=short-2')).json.requests[0].session, null);
});

test('DELETE removes a session and what it counted; POST /admin/reset removes all', async () => {
  const session = { id: 'del', key: { contentID: 'del' }, rules: [{ sequence: [{ errorText: 'first' }, { errorText: 'second' }] }] };
  assert.is((await mock.admin('POST', '/admin/sessions', session)).status, 201);
  assert.is(await said('del'), 'first');
  const removed = await mock.admin('DELETE', '/admin/sessions/del');
  assert.equal(removed.json, { removed: 'del' });
  assert.is(await said('del'), 'from-scenario');
  assert.is((await mock.admin('DELETE', '/admin/sessions/del')).status, 404);
  assert.is((await mock.admin('POST', '/admin/sessions', session)).status, 201);
  assert.is(await said('del'), 'first', 'a new session counts from zero');

  assert.is((await mock.admin('POST', '/admin/sessions', { id: 'other', key: { contentID: 'other' } })).status, 201);
  await mock.admin('POST', '/admin/reset');
  assert.equal((await mock.admin('GET', '/admin/sessions')).json.sessions, []);
  assert.is(await said('del'), 'from-scenario');
});

test('a bad session gets 400 with every problem positioned (line:column) in the YAML', async () => {
  const reply = await mock.admin(
    'POST',
    '/admin/sessions',
    [
      'key: { contentID: a, clientCN: b }', // line 1
      'ttl: 2h',
      'rules:',
      '  - match: { contentID: { regex: "(a+)+" } }',
      '    respond: { delay: 5x }',
    ].join('\n'),
    yaml,
  );
  assert.is(reply.status, 400, reply.text);
  assert.is(reply.json.message, 'invalid session');
  const errors = reply.json.errors.map((e: any) => `${e.line}:${e.column} ${e.message}`);
  assert.ok(errors.some((e: string) => /^2:6 ttl: /.test(e)), errors.join('\n'));
  assert.ok(errors.some((e: string) => /^5:23 rules\[0\]\.respond\.delay: /.test(e)), errors.join('\n'));
  assert.ok(reply.json.errors.every((e: any) => e.file === '(session)'));

  const semantic = await mock.admin(
    'POST',
    '/admin/sessions',
    ['key: { contentID: a, clientCN: b }', 'ttl: 7200s', 'rules:', '  - match: { contentID: { regex: "(a+)+" } }', '    respond: { isAllowed: false }'].join('\n'),
    yaml,
  );
  const semanticErrors = semantic.json.errors.map((e: any) => `${e.line}:${e.column} ${e.message}`);
  assert.equal(semanticErrors, [
    '1:22 key.clientCN: a key names exactly one field, this one has contentID and clientCN',
    '2:6 ttl: expected a time to live above 0 and at most 1 hour (3600s), like "30s" or 5000 (ms), got "7200s"',
    '4:34 rules[0].match.contentID.regex: regex "(a+)+" is prone to catastrophic backtracking: "(a+)+" repeats something that itself repeats (nested quantifiers); rewrite it without the nesting',
  ]);
  const unknown = await mock.admin('POST', '/admin/sessions', 'key: { contentID: a }\nname: x\n', yaml);
  assert.is(unknown.status, 400);
  assert.match(unknown.json.errors[0].message, /name/);
  assert.is(unknown.json.errors[0].line, 2);
  const empty = await mock.admin('POST', '/admin/sessions', '', yaml);
  assert.is(empty.status, 400);
  assert.match(empty.json.message, /body must be a session/);
  assert.equal((await mock.admin('GET', '/admin/sessions')).json.sessions, [], 'nothing was created');
});

test('a session keeps its own per-key state, listed under sessions by GET /admin/state and forgotten with it', async () => {
  const session = {
    id: 'stateful',
    key: { contentID: 'st-*' },
    stateKey: 'customerCookie',
    rules: [
      { name: 'register', match: { requestType: 2 }, respond: { errorText: 'registered', setState: 'registered' } },
      { name: 'bound', match: { requestType: 3, state: 'registered' }, respond: { errorText: 'bound' } },
      { name: 'unbound', match: { requestType: 3 }, respond: { isAllowed: false, errorText: 'not registered' } },
    ],
  };
  assert.is((await mock.admin('POST', '/admin/sessions', session)).status, 201);
  assert.is(await said('st-1', { requestType: 3, customerCookie: 'A' }), 'not registered');
  assert.is(await said('st-1', { requestType: 2, customerCookie: 'A' }), 'registered');
  assert.is(await said('st-1', { requestType: 3, customerCookie: 'A' }), 'bound');
  assert.is(await said('st-1', { requestType: 3, customerCookie: 'B' }), 'not registered');
  const listed = (await mock.admin('GET', '/admin/state')).json;
  assert.equal(Object.keys(listed.sessions), ['stateful']);
  assert.equal(Object.keys(listed.sessions.stateful.keys), ['A']);
  assert.equal(listed.scenario.keys, {}, "the scenario's state is apart");
  const entry = (await mock.admin('GET', '/admin/requests?session=stateful&limit=1')).json.requests[0];
  assert.equal(entry.state, { key: 'B', before: null, after: null }, "the journal shows the session's state");

  await mock.admin('DELETE', '/admin/sessions/stateful');
  assert.is((await mock.admin('POST', '/admin/sessions', session)).status, 201);
  assert.is(await said('st-1', { requestType: 3, customerCookie: 'A' }), 'not registered', 'a new session starts without state');
});

test.run();
