/**
 * Per-key state and per-key counters as license servers see them over real mTLS: each
 * client its own cookie, its own registration and its own sequence, whatever the others do;
 * states that expire; GET/DELETE /admin/state; POST /admin/reset; /metrics.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import { startTestMock, type TestMock } from './helpers/mock.js';
import { AdminClient } from '../src/client/admin-client.js';
import { checkedFetch } from './helpers/openapi.js';

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock({ scenarios: './scenarios', scenario: 'device-binding' });
});
test.after(async () => {
  await mock.close();
});

async function post(yaml: string): Promise<void> {
  const reply = await mock.admin('POST', '/admin/scenarios', yaml, { 'content-type': 'application/yaml' });
  assert.is(reply.status, 201, reply.text);
}

async function use(name: string): Promise<void> {
  const reply = await mock.admin('PUT', '/admin/scenarios/active', { name });
  assert.is(reply.status, 200, reply.text);
}

type Send = (fields: Record<string, unknown>) => Promise<any>;

/** Act as one license server, over its own keep-alive mTLS connection, closed afterwards. */
async function asLicenseServer<T>(act: (send: Send) => Promise<T>): Promise<T> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const send: Send = async (fields) =>
    (await mock.entitle({ messageID: crypto.randomUUID(), version: 1, contentID: 'movie-1', ...fields }, { agent })).json;
  try {
    return await act(send);
  } finally {
    agent.destroy();
  }
}

/** What a device-binding answer was, in a word. */
function verdict(json: any): string {
  if (json.isAllowed !== true) return `denied ${json.error}`;
  if (/deviceBound=true/.test(json.epTokenURL)) return 'bound';
  if (/rightsType=Rental/.test(json.epTokenURL)) return 'rental';
  return 'registered';
}

test('50 concurrent clients with distinct cookies: each sees exactly its own device-binding flow', async () => {
  await use('device-binding');
  const CLIENTS = 50;
  const flows = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const cookie = `cookie-${i}`;
      // Even clients register between two device-bound requests; odd ones never register.
      const types = i % 2 === 0 ? [3, 2, 3, 3] : [3, 3, 1, 3];
      const seen = await asLicenseServer(async (send) => {
        const verdicts: string[] = [];
        for (const requestType of types) verdicts.push(verdict(await send({ requestType, customerCookie: cookie })));
        return verdicts;
      });
      return { cookie, seen, registers: i % 2 === 0 };
    }),
  );
  for (const { cookie, seen, registers } of flows) {
    assert.equal(seen, registers ? ['denied -2034', 'registered', 'bound', 'bound'] : ['denied -2034', 'denied -2034', 'rental', 'denied -2034'], cookie);
  }

  const { scenario } = (await mock.admin('GET', '/admin/state')).json;
  const registered = flows.filter((flow) => flow.registers).map((flow) => flow.cookie);
  assert.equal(Object.keys(scenario.keys).sort(), registered.sort());
  for (const cookie of registered) assert.is(scenario.keys[cookie].state, 'registered');

  // The journal tells each cookie's story: the state every request saw and left.
  const { requests } = (await mock.admin('GET', '/admin/requests?customerCookie=cookie-0')).json;
  assert.equal(
    requests.map((entry: any) => [entry.rule, entry.state.before, entry.state.after]),
    [
      ['device-not-registered', null, null],
      ['register-device', null, 'registered'],
      ['device-bound', 'registered', 'registered'],
      ['device-bound', 'registered', 'registered'],
    ],
  );
  const metrics = (await mock.admin('GET', '/metrics')).text;
  assert.match(metrics, /^entitlement_mock_state_keys\{scenario="device-binding",session=""\} 25$/m);
  assert.match(metrics, /^entitlement_mock_state_keys_forgotten\{scenario="device-binding",session=""\} 0$/m);
});

test('DELETE /admin/state forgets every registration; POST /admin/reset and switching scenario do too', async () => {
  await use('device-binding');
  await asLicenseServer(async (send) => {
    assert.is(verdict(await send({ requestType: 2, customerCookie: 'A' })), 'registered');
    assert.is(verdict(await send({ requestType: 3, customerCookie: 'A' })), 'bound');
    const cleared = await mock.admin('DELETE', '/admin/state');
    assert.equal([cleared.status, cleared.json], [200, { cleared: 1 }]);
    assert.equal((await mock.admin('GET', '/admin/state')).json.scenario.keys, {});
    assert.is(verdict(await send({ requestType: 3, customerCookie: 'A' })), 'denied -2034');

    await send({ requestType: 2, customerCookie: 'A' });
    assert.is((await mock.admin('POST', '/admin/reset')).status, 200);
    assert.equal((await mock.admin('GET', '/admin/state')).json, {
      scenario: { name: 'device-binding', stateKey: 'customerCookie', stateTtlMs: null, capacity: 100_000, forgotten: 0, keys: {} },
      sessions: {},
    });
    assert.is(verdict(await send({ requestType: 3, customerCookie: 'A' })), 'denied -2034', 'reset forgot the registration');

    await send({ requestType: 2, customerCookie: 'A' });
    await use('default');
    await use('device-binding');
    assert.is(verdict(await send({ requestType: 3, customerCookie: 'A' })), 'denied -2034', 'switching scenario forgot it');
  });
});

test('stateTtl: a registration expires after its ttl (a new registration starts it again)', async () => {
  await post(
    [
      'name: short-lived',
      'stateTtl: 300ms',
      'rules:',
      '  - { name: register, match: { requestType: 2 }, respond: { setState: registered } }',
      '  - { name: bound, match: { requestType: 3, state: registered }, respond: { isAllowed: true } }',
      '  - { name: unbound, match: { requestType: 3 }, respond: { isAllowed: false, error: -2034 } }',
    ].join('\n'),
  );
  await asLicenseServer(async (send) => {
    await send({ requestType: 2, customerCookie: 'A' });
    const { keys, stateTtlMs } = (await mock.admin('GET', '/admin/state')).json.scenario;
    assert.is(stateTtlMs, 300);
    const expiresAt = Date.parse(keys.A.expiresAt);
    assert.is(expiresAt - Date.parse(keys.A.setAt), 300);
    assert.is((await send({ requestType: 3, customerCookie: 'A' })).isAllowed, true);
    // Real time must pass for a real expiry: wait until just past expiresAt.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 20));
    assert.is((await send({ requestType: 3, customerCookie: 'A' })).isAllowed, false, 'expired');
    assert.equal((await mock.admin('GET', '/admin/state')).json.scenario.keys, {});
    const { requests } = (await mock.admin('GET', '/admin/requests?rule=unbound&limit=1')).json;
    assert.equal(requests[0].state, { key: 'A', before: null, after: null });
  });
});

test('perKey: 20 concurrent clients each walk their own sequence and their own times:', async () => {
  await post(
    [
      'name: per-cookie',
      'rules:',
      '  - name: first-fails',
      '    match: { contentID: seq }',
      '    perKey: customerCookie',
      '    sequence: [{ isAllowed: false, error: 503 }, { isAllowed: true }, { status: 500, isAllowed: false }]',
      '  - name: twice-per-cookie',
      '    match: { contentID: limited }',
      '    perKey: customerCookie',
      '    times: 2',
      '    respond: { errorText: limited }',
      '  - { name: rest, respond: { errorText: rest } }',
    ].join('\n'),
  );
  const CLIENTS = 20;
  const seen = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) =>
      asLicenseServer(async (send) => {
        const cookie = `per-${i}`;
        const answers: string[] = [];
        for (let step = 0; step < 4; step++) {
          const json = await send({ contentID: 'seq', customerCookie: cookie });
          answers.push(json.isAllowed ? 'allow' : String(json.error ?? 'deny'));
        }
        for (let step = 0; step < 3; step++) answers.push((await send({ contentID: 'limited', customerCookie: cookie })).errorText);
        return answers;
      }),
    ),
  );
  for (const [i, answers] of seen.entries()) {
    assert.equal(answers, ['503', 'allow', 'deny', 'deny', 'limited', 'limited', 'rest'], `client ${i}`);
  }
  const metrics = (await mock.admin('GET', '/metrics')).text;
  assert.match(metrics, /^entitlement_mock_per_key_counters\{scenario="per-cookie",session="",rule="first-fails"\} 20$/m);
  assert.match(metrics, /^entitlement_mock_per_key_counters_forgotten\{scenario="per-cookie",session="",rule="twice-per-cookie"\} 0$/m);
  const { requests } = (await mock.admin('GET', '/admin/requests?customerCookie=per-7&rule=first-fails')).json;
  assert.equal(requests.map((entry: any) => entry.step), [0, 1, 2, 2]);
  assert.is(requests[0].state, null, 'a scenario without state journals state: null');

  assert.is((await mock.admin('POST', '/admin/reset')).status, 200);
  await asLicenseServer(async (send) => {
    assert.is((await send({ contentID: 'seq', customerCookie: 'per-7' })).error, 503, 'reset starts every key over');
  });
});

test('a setState for a request without the state key is ignored, with a journal warning', async () => {
  await post(
    [
      'name: cookieless',
      'rules:',
      '  - { name: register, match: { requestType: 2 }, respond: { setState: registered } }',
      '  - { name: bound, match: { state: registered }, respond: { isAllowed: true } }',
      '  - { name: unbound, respond: { isAllowed: false } }',
    ].join('\n'),
  );
  await asLicenseServer(async (send) => {
    await send({ requestType: 2 });
    assert.is((await send({ requestType: 3 })).isAllowed, false);
    const { requests } = (await mock.admin('GET', '/admin/requests?rule=register&limit=1')).json;
    assert.is(requests[0].state, null);
    assert.ok(
      requests[0].warnings.includes('setState: registered of rule "register" ignored: the request has no customerCookie (stateKey customerCookie)'),
      JSON.stringify(requests[0].warnings),
    );
    assert.equal((await mock.admin('GET', '/admin/state')).json.scenario.keys, {});
  });
});

test("a session's per-key state and perKey counters count in /metrics under its id", async () => {
  const session = {
    id: 'metered',
    key: { contentID: 'metered-*' },
    rules: [
      { name: 'register', match: { requestType: 2 }, respond: { setState: 'registered' } },
      { name: 'steps', perKey: 'customerCookie', sequence: [{ errorText: 'one' }, { errorText: 'two' }] },
    ],
  };
  assert.is((await mock.admin('POST', '/admin/sessions', session)).status, 201, 'session created');
  await asLicenseServer(async (send) => {
    for (const cookie of ['A', 'B']) await send({ contentID: 'metered-1', requestType: 2, customerCookie: cookie });
    await send({ contentID: 'metered-1', requestType: 1, customerCookie: 'C' });
  });
  const metrics = (await mock.admin('GET', '/metrics')).text;
  assert.match(metrics, /^entitlement_mock_state_keys\{scenario="",session="metered"\} 2$/m);
  assert.match(metrics, /^entitlement_mock_per_key_counters\{scenario="",session="metered",rule="steps"\} 1$/m);
  assert.is((await mock.admin('DELETE', '/admin/sessions/metered')).status, 200);
});

test('the typed admin client reads and clears the state', async () => {
  await use('device-binding');
  const client = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
  await asLicenseServer((send) => send({ requestType: 2, customerCookie: 'typed' }));
  const { scenario, sessions } = await client.getState();
  assert.equal([scenario.name, Object.keys(scenario.keys), scenario.keys.typed?.state, sessions], ['device-binding', ['typed'], 'registered', {}]);
  assert.equal(await client.clearState(), { cleared: 1 });
  assert.equal((await client.getState()).scenario.keys, {});
});

test.run();
