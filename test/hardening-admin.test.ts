/**
 * Issue 6, part 6: the admin surface. With --admin-token nothing but /health
 * answers (or changes anything) without the token; without one, a start-up
 * warning when the admin listener is reachable beyond loopback; bounded JSON
 * bodies; JSON 404s.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestMock, entitlementRequest, type TestMock } from './helpers/mock.js';

const TOKEN = 'h4rdening-t0ken';
const WARNING = 'the admin API has no --admin-token and listens beyond loopback';

let guarded: TestMock;
test.before(async () => {
  guarded = await startTestMock({ adminToken: TOKEN, logLevel: 'warn' });
});
test.after(async () => {
  await guarded.close();
});

const SCENARIO_YAML = 'name: intruder\nrules: [{respond: {isAllowed: false}}]\n';

/** Every admin route (and some that do not exist), with a body where it takes one. */
const ROUTES: [string, string, unknown?][] = [
  ['GET', '/admin/requests'],
  ['GET', '/admin/requests/count'],
  ['DELETE', '/admin/requests'],
  ['POST', '/admin/reset'],
  ['GET', '/admin/scenarios'],
  ['PUT', '/admin/scenarios/active', { name: 'default' }],
  ['POST', '/admin/scenarios', SCENARIO_YAML],
  ['POST', '/admin/scenarios?activate=true', SCENARIO_YAML],
  ['DELETE', '/admin/scenarios/default'],
  ['GET', '/admin/tls-failures'],
  ['GET', '/metrics'],
  ['GET', '/admin/nothing-here'],
  ['GET', '/health/../admin/requests'],
  ['GET', '/HEALTH'],
];

/** Missing and wrong tokens. (A trailing space is not among them: HTTP trims header values.) */
const WRONG = ['', 'Bearer', 'Bearer ', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Bearer  ${TOKEN}`, `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`, TOKEN];

test('with --admin-token, every route but /health refuses a missing or wrong token, and changes nothing', async () => {
  await guarded.entitle(entitlementRequest());
  for (const [method, path, body] of ROUTES) {
    for (const authorization of WRONG) {
      const headers: Record<string, string> = authorization === '' ? {} : { authorization };
      if (typeof body === 'string') headers['content-type'] = 'application/yaml';
      const reply = await guarded.admin(method, path, body, headers);
      assert.is(reply.status, 401, `${method} ${path} with ${JSON.stringify(authorization)}`);
      assert.is(reply.json.error, 'unauthorized');
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer /);
    }
  }
  const auth = { authorization: `Bearer ${TOKEN}` };
  const scenarios = (await guarded.admin('GET', '/admin/scenarios', undefined, auth)).json;
  assert.is(scenarios.active, 'default', 'the refused upload activated nothing');
  assert.not.ok(scenarios.scenarios.some((scenario: any) => scenario.name === 'intruder'), 'and stored nothing');
  assert.is((await guarded.admin('GET', '/admin/requests', undefined, auth)).json.total, 1, 'the refused resets cleared nothing');
  const health = await guarded.admin('GET', '/health');
  assert.is(health.status, 200, '/health needs no token');
  assert.is((await guarded.admin('POST', '/admin/scenarios', SCENARIO_YAML, { ...auth, 'content-type': 'application/yaml' })).status, 201, 'the right token works');
  assert.is((await guarded.admin('DELETE', '/admin/scenarios/intruder', undefined, auth)).status, 200);
});

test('without a token, the start-up log warns when the admin listener is beyond loopback, and only then', async () => {
  const cases: [Record<string, unknown>, boolean][] = [
    [{ adminHost: '0.0.0.0' }, true],
    [{ adminHost: '0.0.0.0', adminToken: TOKEN }, false],
    [{ adminHost: '127.0.0.1' }, false],
    [{ adminHost: 'localhost' }, false],
  ];
  for (const [overrides, warns] of cases) {
    const mock = await startTestMock({ ...overrides, logLevel: 'info' });
    try {
      const warning = mock.logs.find((line) => line.msg === WARNING);
      assert.is(Boolean(warning), warns, JSON.stringify(overrides));
      if (warning) {
        assert.is(warning.level, 40, 'at warn level');
        assert.is(warning.adminHost, '0.0.0.0');
      }
    } finally {
      await mock.close();
    }
  }
});

test('admin bodies over 1 MiB get a JSON 413, malformed JSON a JSON 400; the admin API keeps answering', async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const huge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 1) });
  for (const [method, path] of [
    ['PUT', '/admin/scenarios/active'],
    ['POST', '/admin/scenarios'],
    ['POST', '/admin/reset'],
  ] as const) {
    const reply = await guarded.admin(method, path, huge, { ...auth, 'content-type': 'application/json' });
    assert.is(reply.status, 413, `${method} ${path}`);
    assert.equal(Object.keys(reply.json).sort(), ['error', 'message']);
  }
  const yaml = await guarded.admin('POST', '/admin/scenarios', `name: big\ndescription: ${'x'.repeat(1024 * 1024 + 1)}\n`, { ...auth, 'content-type': 'application/yaml' });
  assert.is(yaml.status, 413);
  for (const malformed of ['{"name":', '[', '{"name": "default"} trailing', '\u0000']) {
    const reply = await guarded.admin('PUT', '/admin/scenarios/active', malformed, { ...auth, 'content-type': 'application/json' });
    assert.is(reply.status, 400, malformed);
    assert.type(reply.json.message, 'string');
  }
  assert.is((await guarded.admin('GET', '/health')).status, 200);
});

test('a failure of an admin route itself: a JSON 500 pointing at the log, the log says what failed, the API keeps answering', async () => {
  const mock = await startTestMock({ logLevel: 'warn' });
  try {
    mock.journal.query = () => {
      throw new Error('journal query broke on purpose');
    };
    const failed = await mock.admin('GET', '/admin/requests');
    assert.is(failed.status, 500);
    assert.equal(failed.json, { error: 'internal error', message: 'the admin route failed; see the mock log' });
    const logged = mock.logs.find((line) => line.msg === 'internal error in an admin route');
    assert.ok(logged, JSON.stringify(mock.logs));
    assert.match(JSON.stringify(logged.err), /journal query broke on purpose/);
    assert.is((await mock.admin('GET', '/health')).status, 200);
  } finally {
    await mock.close();
  }
});

test('unknown routes get a JSON 404 naming the route; wrong methods a JSON 405', async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  for (const [method, path] of [
    ['GET', '/nothing-here'], // (GET / is the dashboard)
    ['GET', '/ui/no-such-file.js'],
    ['GET', '/admin'],
    ['POST', '/admin/requests/everything'],
    ['GET', '/admin/scenarios/default/rules'],
    ['GET', '/entitlement'],
  ] as const) {
    const reply = await guarded.admin(method, path, undefined, auth);
    assert.is(reply.status, 404, `${method} ${path}`);
    assert.is(reply.json.error, 'not found');
    assert.ok(reply.json.message.includes(path.split('?')[0] as string), reply.json.message);
  }
  const wrongMethod = await guarded.admin('PATCH', '/admin/reset', undefined, auth);
  assert.is(wrongMethod.status, 405);
  assert.type(wrongMethod.json.message, 'string');
});

test.run();
