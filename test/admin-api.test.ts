/** The admin API: journal queries and bounds, reset, token, JSON errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { startTestMock, entitlementRequest, type TestMock } from './helpers/mock.js';

let mock: TestMock;
let guarded: TestMock;
test.before(async () => {
  mock = await startTestMock({ journalSize: 5 });
  guarded = await startTestMock({ adminToken: 's3cret-token' });
});
test.after(async () => {
  await mock.close();
  await guarded.close();
});

test('GET /health answers ok with the scenario and uptime', async () => {
  const { status, json } = await mock.admin('GET', '/health');
  assert.is(status, 200);
  assert.is(json.status, 'ok');
  assert.is(json.scenario, 'default');
  assert.type(json.uptimeSeconds, 'number');
});

test('the journal keeps journal-size entries, oldest dropped and counted', async () => {
  await mock.admin('DELETE', '/admin/requests');
  const sent = [];
  for (let i = 0; i < 8; i++) {
    const request = entitlementRequest({ customerCookie: `n${i}` });
    sent.push(request);
    await mock.entitle(request);
  }
  const { json } = await mock.admin('GET', '/admin/requests');
  assert.is(json.total, 8);
  assert.is(json.dropped, 3);
  assert.equal(
    json.requests.map((entry: any) => entry.request.customerCookie),
    ['n3', 'n4', 'n5', 'n6', 'n7'],
  );
});

test('filters: contentID, clientCN, valid, since, limit; count agrees', async () => {
  await mock.admin('DELETE', '/admin/requests');
  const a = entitlementRequest();
  await mock.entitle(a);
  await mock.entitle('not json');
  await mock.entitle(entitlementRequest());
  const all = (await mock.admin('GET', '/admin/requests')).json.requests;
  assert.is(all.length, 3);
  const byContent = (await mock.admin('GET', `/admin/requests?contentID=${a.contentID}`)).json.requests;
  assert.equal(byContent.map((entry: any) => entry.id), [all[0].id]);
  assert.is((await mock.admin('GET', '/admin/requests?valid=false')).json.requests[0].id, all[1].id);
  assert.is((await mock.admin('GET', '/admin/requests?valid=true')).json.requests.length, 2);
  assert.is((await mock.admin('GET', '/admin/requests?clientCN=license-server')).json.requests.length, 3);
  assert.is((await mock.admin('GET', '/admin/requests?clientCN=nobody')).json.requests.length, 0);
  assert.equal(
    (await mock.admin('GET', `/admin/requests?since=${all[0].id}`)).json.requests.map((entry: any) => entry.id),
    [all[1].id, all[2].id],
  );
  assert.equal((await mock.admin('GET', '/admin/requests?limit=1')).json.requests.map((entry: any) => entry.id), [all[2].id]);
  assert.equal((await mock.admin('GET', '/admin/requests/count?valid=true')).json, { count: 2 });
  assert.equal((await mock.admin('GET', '/admin/requests/count?unmatched=true')).json, { count: 0 });
});

test('bad filters get a 400 naming the filter', async () => {
  const badLimit = await mock.admin('GET', '/admin/requests?limit=many');
  assert.is(badLimit.status, 400);
  assert.match(badLimit.json.message, /limit/);
  const unknown = await mock.admin('GET', '/admin/requests?colour=red');
  assert.is(unknown.status, 400);
  assert.match(unknown.json.message, /unknown query parameter "colour"; known: rule, contentID/);
  assert.is(unknown.json.field, 'colour');
  const badBool = await mock.admin('GET', '/admin/requests/count?valid=yes');
  assert.is(badBool.status, 400);
});

test('DELETE /admin/requests clears the journal only; POST /admin/reset clears it and the TLS failures', async () => {
  await mock.entitle(entitlementRequest());
  await mock.entitle(entitlementRequest(), { client: null }).catch(() => undefined);
  assert.is((await mock.admin('DELETE', '/admin/requests')).status, 200);
  assert.is((await mock.admin('GET', '/admin/requests')).json.total, 0);
  assert.ok((await mock.admin('GET', '/admin/tls-failures')).json.total >= 1, 'TLS failures survive clearing the journal');
  const reset = await mock.admin('POST', '/admin/reset');
  assert.is(reset.status, 200);
  assert.is(reset.json.active, 'default');
  assert.is((await mock.admin('GET', '/admin/tls-failures')).json.total, 0);
  assert.is((await mock.admin('GET', '/admin/requests')).json.total, 0);
});

test('unknown admin routes and wrong methods answer JSON', async () => {
  const missing = await mock.admin('GET', '/admin/nothing');
  assert.is(missing.status, 404);
  assert.is(missing.json.error, 'not found');
  const wrongMethod = await mock.admin('PATCH', '/admin/requests');
  assert.is(wrongMethod.status, 405);
  assert.type(wrongMethod.json.message, 'string');
  const malformed = await mock.admin('PUT', '/admin/scenarios/active', '{"name":', { 'content-type': 'application/json' });
  assert.is(malformed.status, 400);
  assert.type(malformed.json.message, 'string');
  assert.is((await mock.admin('GET', '/health')).status, 200, 'still serving');
});

/** An admin request exactly as given: no Content-Type unless one is passed (fetch would add text/plain). */
function rawAdmin(method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: mock.adminPort, method, path, headers: { 'content-length': Buffer.byteLength(body), ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

test('PUT /admin/scenarios/active takes a JSON body sent without a Content-Type', async () => {
  const switched = await rawAdmin('PUT', '/admin/scenarios/active', '{"name": "showcase"}');
  assert.equal(switched, { status: 200, json: { active: 'showcase' } });
  assert.equal(await rawAdmin('PUT', '/admin/scenarios/active', '{"name": "default"}'), { status: 200, json: { active: 'default' } });
});

test('malformed JSON gets our own message: what is wrong, at which line and column, on every route', async () => {
  const json = { 'content-type': 'application/json' };
  const cases: [string, string, string][] = [
    ['PUT /admin/scenarios/active', '{"name":', 'body is not valid JSON: it ends too early, at line 1, column 9'],
    ['PUT /admin/scenarios/active', '{\n  "name": "default",\n}', "body is not valid JSON: Expected double-quoted property name, at line 3, column 1"],
    ['PUT /admin/scenarios/active', '{"name": "default"} x', 'body is not valid JSON: Unexpected non-whitespace character after JSON, at line 1, column 21'],
    ['PUT /admin/scenarios/active', '{\n  "name": tru\n}', "body is not valid JSON: Unexpected token '\\n', at line 2, column 14"],
    ['PUT /admin/scenarios/active', '5', 'body must be a JSON object, got a number'],
    ['POST /admin/sessions', '{"key": {"contentID": "a"}, ', 'body is not valid JSON: Expected double-quoted property name, at line 1, column 29'],
  ];
  for (const [route, body, message] of cases) {
    const [method, path] = route.split(' ') as [string, string];
    const reply = await rawAdmin(method, path, body, json);
    assert.equal(reply, { status: 400, json: { error: 'bad request', message } }, `${route} ${JSON.stringify(body)}`);
  }
  const untyped = await rawAdmin('PUT', '/admin/scenarios/active', '{"name": ');
  assert.equal(untyped, {
    status: 400,
    json: {
      error: 'bad request',
      message: 'body is not valid JSON: it ends too early, at line 1, column 10 (a body without Content-Type is read as JSON; send YAML as application/yaml)',
    },
  });
});

test('with --admin-token every route but /health needs the bearer token', async () => {
  assert.is((await guarded.admin('GET', '/health')).status, 200);
  for (const [method, path] of [
    ['GET', '/admin/requests'],
    ['GET', '/admin/requests/count'],
    ['DELETE', '/admin/requests'],
    ['POST', '/admin/reset'],
    ['GET', '/admin/scenarios'],
    ['POST', '/admin/scenarios'],
    ['GET', '/admin/tls-failures'],
    ['GET', '/metrics'],
  ] as const) {
    const none = await guarded.admin(method, path);
    assert.is(none.status, 401, `${method} ${path} without a token`);
    assert.is(none.json.error, 'unauthorized');
    const wrong = await guarded.admin(method, path, undefined, { authorization: 'Bearer s3cret-tokeN' });
    assert.is(wrong.status, 401, `${method} ${path} with a wrong token`);
  }
  const right = await guarded.admin('GET', '/admin/requests', undefined, { authorization: 'Bearer s3cret-token' });
  assert.is(right.status, 200);
  assert.is(right.json.total, 0);
});

test.run();
