/** The entitlement endpoint on the bundled default scenario, over real mTLS. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestMock, entitlementRequest, eventually, type TestMock } from './helpers/mock.js';

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock();
});
test.after(async () => {
  await mock.close();
});

async function lastEntry(): Promise<any> {
  return (await mock.admin('GET', '/admin/requests?limit=1')).json.requests[0];
}

test('a valid request gets messageID and version echoed, isAllowed true and a FairPlay-shaped token URL', async () => {
  const sent = entitlementRequest({ requestType: 1, customerCookie: 'abc' });
  const reply = await mock.entitle(sent);
  assert.is(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.is(reply.json.messageID, sent.messageID);
  assert.is(reply.json.version, 1);
  assert.is(reply.json.isAllowed, true);
  assert.match(reply.json.epTokenURL, /^https:\/\/fp\.service\.expressplay\.com:80\/hms\/fp\/rights\/\?ExpressPlayToken=[A-Za-z0-9_-]{43}$/);
  const second = await mock.entitle(entitlementRequest());
  assert.is.not(second.json.epTokenURL, reply.json.epTokenURL, 'a fresh token each time');
});

test('the journal records what came and what was sent', async () => {
  const sent = entitlementRequest({ customerCookie: 'journal-me' });
  const reply = await mock.entitle(sent);
  const entry = await lastEntry();
  assert.equal(entry.request, sent);
  assert.is(entry.rawBody, JSON.stringify(sent));
  assert.is(entry.valid, true);
  assert.equal(entry.problems, []);
  assert.is(entry.scenario, 'default');
  assert.type(entry.rule, 'string');
  assert.is(entry.method, 'POST');
  assert.is(entry.path, '/entitlement');
  assert.is(entry.response.status, 200);
  assert.equal(entry.response.body, reply.json);
  assert.is(entry.response.fault, null);
  assert.type(entry.durationMs, 'number');
  assert.is(entry.headers['content-type'], 'application/json');
  assert.match(entry.time, /^\d{4}-\d\d-\d\dT/);
});

test('a numeric-string version is served as a number with a warning', async () => {
  const sent = entitlementRequest({ version: '1' });
  const reply = await mock.entitle(sent);
  assert.is(reply.status, 200);
  assert.is(reply.json.version, 1);
  const entry = await lastEntry();
  assert.ok(entry.warnings.includes('version: sent as the string "1"; treated as the number 1'));
});

test('the journal keeps the body exactly as received beside the parsed request (version "1" received, parsed as 1)', async () => {
  const { messageID, contentID } = entitlementRequest();
  // Spacing, field order and a string version the parsed request does not keep.
  const sent = `{ "contentID": "${contentID}",\n  "version": "1", "messageID":"${messageID}" }`;
  const reply = await mock.entitle(sent);
  assert.is(reply.status, 200);
  const entry = await lastEntry();
  assert.is(entry.rawBody, sent);
  assert.equal(entry.request, { contentID, version: 1, messageID });
});

test('rawBody is null when no body was read (wrong path, wrong method, too large)', async () => {
  await mock.entitle(entitlementRequest(), { path: '/nope' });
  assert.is((await lastEntry()).rawBody, null);
  await mock.entitle(undefined, { method: 'GET' });
  assert.is((await lastEntry()).rawBody, null);
  await mock.entitle(JSON.stringify(entitlementRequest({ customerCookie: 'x'.repeat(70 * 1024) })));
  const tooLarge = await lastEntry();
  assert.is(tooLarge.response.status, 413);
  assert.is(tooLarge.rawBody, null);
});

test('a version above 1 is answered as the scenario says (echoed), with a warning in the journal', async () => {
  const reply = await mock.entitle(entitlementRequest({ version: 2 }));
  assert.is(reply.status, 200);
  assert.is(reply.json.version, 2);
  const entry = await lastEntry();
  assert.is(entry.valid, true);
  assert.equal(entry.warnings, ['version: 2 is above 1, the protocol version the mock knows; answered as usual']);
});

const invalidCases: [string, string | Record<string, unknown>, string[]][] = [
  ['not JSON', '{"messageID":', ['body is not valid JSON: ']],
  ['not an object', '[1,2,3]', ['body must be a JSON object, got an array']],
  ['missing messageID', { version: 1, contentID: 'c' }, ['messageID: required field missing']],
  ['missing version', { messageID: 'm', contentID: 'c' }, ['version: required field missing']],
  ['missing contentID', { messageID: 'm', version: 1 }, ['contentID: required field missing']],
  ['wrong type', { messageID: 5, version: 1, contentID: 'c' }, ['messageID: expected a string, got a number']],
  ['cookie too long', { messageID: 'm', version: 1, contentID: 'c', customerCookie: 'x'.repeat(33) }, ['customerCookie: at most 32 characters, got 33']],
  ['requestType out of range', { messageID: 'm', version: 1, contentID: 'c', requestType: 0 }, ['requestType: expected 1, 2 or 3, got 0']],
  ['version not positive', { messageID: 'm', version: -1, contentID: 'c' }, ['version: expected a positive integer, got -1']],
  ['several at once', { version: 'x', customerCookie: 1 }, ['messageID: required field missing', 'version: expected a positive integer, got a string', 'contentID: required field missing', 'customerCookie: expected a string, got a number']],
];

for (const [name, body, problems] of invalidCases) {
  test(`invalid request (${name}): HTTP 400, isAllowed false, error 400, every problem named`, async () => {
    const reply = await mock.entitle(body);
    assert.is(reply.status, 400);
    assert.is(reply.json.isAllowed, false);
    assert.is(reply.json.error, 400);
    for (const problem of problems) assert.ok(reply.json.errorText.includes(problem), `${reply.json.errorText} lacks ${problem}`);
    const entry = await lastEntry();
    assert.is(entry.valid, false);
    assert.is(entry.rule, null);
    assert.is(entry.problems.length, problems.length);
    assert.is(entry.rawBody, typeof body === 'string' ? body : JSON.stringify(body));
    if (name === 'not JSON') assert.is(entry.request, null);
  });
}

test('invalid UTF-8 is a problem, not a crash', async () => {
  const reply = await mock.entitle(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'), {
    headers: { 'content-type': 'application/json; charset=latin1' },
  });
  assert.is(reply.status, 400);
});

test('other paths get 404, other methods 405, both as JSON and journaled', async () => {
  const before = (await mock.admin('GET', '/admin/requests')).json.total;
  const notFound = await mock.entitle(entitlementRequest(), { path: '/nope' });
  assert.is(notFound.status, 404);
  assert.is(notFound.json.error, 404);
  assert.match(notFound.json.errorText, /\/nope/);
  const wrongMethod = await mock.entitle(undefined, { method: 'GET' });
  assert.is(wrongMethod.status, 405);
  assert.is(wrongMethod.headers.allow, 'POST');
  assert.is(wrongMethod.json.error, 405);
  const journal = (await mock.admin('GET', '/admin/requests?limit=2')).json;
  assert.is(journal.total, before + 2);
  assert.equal(journal.requests.map((entry: any) => entry.response.status), [404, 405]);
  assert.equal(journal.requests.map((entry: any) => entry.valid), [false, false]);
});

test('bodies over 64 KiB get 413 (declared or streamed), journaled', async () => {
  const big = JSON.stringify(entitlementRequest({ customerCookie: 'x'.repeat(70 * 1024) }));
  const declared = await mock.entitle(big);
  assert.is(declared.status, 413);
  assert.is(declared.json.error, 413);
  const streamed = await mock.entitle(big, { headers: { 'transfer-encoding': 'chunked' } });
  assert.is(streamed.status, 413);
  const entry = await lastEntry();
  assert.is(entry.response.status, 413);
  const justUnder = JSON.stringify(entitlementRequest({ pad: 'y'.repeat(60 * 1024) }));
  assert.is((await mock.entitle(justUnder)).status, 200);
});

test('warnings: non-GUID ids, unknown fields, wrong Content-Type, a repeated messageID', async () => {
  const sent = { messageID: 'not-a-guid', version: 1, contentID: 'movie-1', shoeSize: 44 };
  await mock.entitle(sent, { headers: { 'content-type': 'text/plain' } });
  const first = await lastEntry();
  assert.ok(first.warnings.includes('messageID: "not-a-guid" is not a GUID'));
  assert.ok(first.warnings.includes('contentID: "movie-1" is not a GUID'));
  assert.ok(first.warnings.includes('unknown field "shoeSize"'));
  assert.ok(first.warnings.includes('Content-Type is "text/plain", expected application/json'));
  await mock.entitle(sent);
  const second = await lastEntry();
  assert.ok(second.warnings.includes('messageID "not-a-guid" already seen since the last reset'));
  await mock.admin('POST', '/admin/reset');
  await mock.entitle(sent);
  assert.not.ok((await lastEntry()).warnings.some((warning: string) => warning.includes('already seen')));
});

test('one JSON log line per request with the essentials', async () => {
  const sent = entitlementRequest();
  await mock.entitle(sent);
  const line = await eventually(() => mock.logs.find((log) => log.messageID === sent.messageID));
  assert.is(line.msg, 'request');
  assert.is(line.listener, 'main');
  assert.is(line.clientCN, 'license-server');
  assert.is(line.contentID, sent.contentID);
  assert.is(line.status, 200);
  assert.type(line.durationMs, 'number');
  assert.type(line.time, 'string');
});

test.run();
