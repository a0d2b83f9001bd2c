/**
 * Every key of a scenario response (docs/scenarios.md, "Responses"), as a license server sees
 * it over real mTLS: one rule per key, selected by the request's contentID.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entitlementRequest, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';
import { slack } from './helpers/slack.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FAIRPLAY_URL = /^https:\/\/fp\.service\.expressplay\.com:80\/hms\/fp\/rights\/\?ExpressPlayToken=[A-Za-z0-9_-]{43}$/;

const SCENARIO = `
description: one rule per response key
rules:
  - { name: echo, match: { contentID: echo }, respond: {} }
  - { name: mismatch, match: { contentID: mismatch }, respond: { messageID: mismatch } }
  - { name: literal-ids, match: { contentID: literal-ids }, respond: { messageID: not-the-request-id, version: 7 } }
  - { name: literal-typed, match: { contentID: literal-typed }, respond: { messageID: 12345, version: "1" } }
  - { name: allowed-yes, match: { contentID: allowed-yes }, respond: { isAllowed: "yes" } }
  - { name: allowed-null, match: { contentID: allowed-null }, respond: { isAllowed: null } }
  - { name: deny-bare, match: { contentID: deny-bare }, respond: { isAllowed: false } }
  - { name: deny-with-url, match: { contentID: deny-with-url }, respond: { isAllowed: false, epTokenURL: "https://tokens.test/denied" } }
  - name: token-template
    match: { contentID: "tpl*" }
    respond:
      epTokenURL: "https://tokens.test/t?c={{contentID}}&k={{customerCookie}}&v={{version}}&r={{requestType}}&n={{clientCN}}"
  - name: error-template
    match: { contentID: "err*" }
    respond:
      isAllowed: false
      error: -2033
      errorText: "no {{contentID}} for {{customerCookie}} (v{{version}}, type {{requestType}}, {{clientCN}})"
  - { name: error-as-written, match: { contentID: written-error }, respond: { isAllowed: false, error: "403", errorText: 42 } }
  - { name: generated, match: { contentID: generated }, respond: { errorText: "{{uuid}}|{{now}}|{{token}}|{{messageID}}" } }
  - name: extra
    match: { contentID: extra }
    respond:
      extra: { issuedBy: entitlement-mock, policy: { maxPlays: 3, tags: [a, b] }, epTokenURL: 42, nothing: null }
  - { name: omit-message-id, match: { contentID: omit-message-id }, respond: { omit: [messageID] } }
  - { name: omit-two, match: { contentID: omit-two }, respond: { omit: [isAllowed, epTokenURL] } }
  - { name: status, match: { contentID: status }, respond: { status: 503, isAllowed: false, error: 503 } }
  - name: headers
    match: { contentID: headers }
    respond: { headers: { X-Mock: "yes", Retry-After: 5, Content-Type: "text/html; charset=utf-8" } }
  - name: raw-html
    match: { contentID: raw-html }
    respond: { status: 502, headers: { Content-Type: text/html }, body: "<html><body>Bad Gateway</body></html>" }
  - { name: raw-malformed, match: { contentID: raw-malformed }, respond: { body: "{messageID: not json" } }
  - { name: raw-truncated, match: { contentID: raw-truncated }, respond: { body: '{"messageID":"x","isAll' } }
  - { name: raw-empty, match: { contentID: raw-empty }, respond: { body: "" } }
  - { name: delay-number, match: { contentID: delay-number }, respond: { delay: 200 } }
  - { name: delay-ms, match: { contentID: delay-ms }, respond: { delay: 250ms } }
  - { name: delay-seconds, match: { contentID: delay-seconds }, respond: { delay: 0.2s } }
  - { name: delay-range, match: { contentID: delay-range }, respond: { delay: { min: 100ms, max: 300ms } } }
`;

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock({ scenarios: await scenarioFolder({ 'responses.yaml': SCENARIO }), scenario: 'responses' });
});
test.after(async () => {
  await mock.close();
});

async function entryOf(messageID: unknown): Promise<any> {
  const { requests } = (await mock.admin('GET', '/admin/requests')).json;
  const entry = requests.find((e: any) => e.request?.messageID === messageID);
  assert.ok(entry, `journal entry for ${String(messageID)}`);
  return entry;
}

async function ask(contentID: string, fields: Record<string, unknown> = {}) {
  const sent = entitlementRequest({ contentID, ...fields });
  const started = performance.now();
  const reply = await mock.entitle(sent);
  return { sent, reply, elapsed: performance.now() - started };
}

test('messageID and version: echoed by default, the JSON content type, the built-in FairPlay token URL', async () => {
  const { sent, reply } = await ask('echo', { version: 2 });
  assert.is(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.equal(Object.keys(reply.json), ['messageID', 'version', 'isAllowed', 'epTokenURL']);
  assert.is(reply.json.messageID, sent.messageID);
  assert.is(reply.json.version, 2);
  assert.is(reply.json.isAllowed, true);
  assert.match(reply.json.epTokenURL, FAIRPLAY_URL);
  const entry = await entryOf(sent.messageID);
  assert.is(entry.rule, 'echo');
  assert.equal(entry.response.body, reply.json);
});

test('messageID: mismatch sends a valid GUID that is not the request\'s', async () => {
  for (let i = 0; i < 3; i++) {
    const { sent, reply } = await ask('mismatch');
    assert.match(reply.json.messageID, GUID);
    assert.is.not(reply.json.messageID, sent.messageID);
    assert.is(reply.json.version, 1);
    assert.is((await entryOf(sent.messageID)).response.body.messageID, reply.json.messageID, 'the journal has what was sent');
  }
});

test('messageID and version literals are sent as written, strings and numbers alike', async () => {
  const literal = (await ask('literal-ids')).reply.json;
  assert.is(literal.messageID, 'not-the-request-id');
  assert.is(literal.version, 7);
  const typed = (await ask('literal-typed')).reply.json;
  assert.is(typed.messageID, 12345);
  assert.is(typed.version, '1');
});

test('isAllowed is sent as written: "yes" stays a string, null stays null', async () => {
  const yes = (await ask('allowed-yes')).reply;
  assert.is(yes.json.isAllowed, 'yes');
  assert.match(yes.bodyText, /"isAllowed":"yes"/);
  assert.match(yes.json.epTokenURL, FAIRPLAY_URL, 'a non-false isAllowed keeps the default token URL');
  const nothing = (await ask('allowed-null')).reply;
  assert.is(nothing.json.isAllowed, null);
  assert.match(nothing.bodyText, /"isAllowed":null/);
});

test('epTokenURL is "" on a deny that sets none, and as written on a deny that does', async () => {
  const bare = (await ask('deny-bare')).reply;
  assert.is(bare.status, 200);
  assert.is(bare.json.isAllowed, false);
  assert.is(bare.json.epTokenURL, '');
  assert.not.ok('error' in bare.json || 'errorText' in bare.json, 'error and errorText only when set');
  assert.is((await ask('deny-with-url')).reply.json.epTokenURL, 'https://tokens.test/denied');
});

test('epTokenURL is a template whose substituted values are percent-encoded', async () => {
  const contentID = 'tpl a b&c=d/é?#%';
  const customerCookie = 'x y+z';
  const { reply } = await ask(contentID, { customerCookie, version: 1 });
  const expected =
    `https://tokens.test/t?c=${encodeURIComponent(contentID)}&k=${encodeURIComponent(customerCookie)}` +
    `&v=1&r=&n=license-server`;
  assert.is(reply.json.epTokenURL, expected);
  assert.is(reply.json.epTokenURL, 'https://tokens.test/t?c=tpl%20a%20b%26c%3Dd%2F%C3%A9%3F%23%25&k=x%20y%2Bz&v=1&r=&n=license-server');
  const url = new URL(reply.json.epTokenURL);
  assert.is(url.searchParams.get('c'), contentID, 'the value survives a URL parser');
  assert.is(url.searchParams.get('k'), customerCookie);
  assert.is((await ask('tpl-2', { requestType: 3 })).reply.json.epTokenURL, 'https://tokens.test/t?c=tpl-2&k=&v=1&r=3&n=license-server');
});

test('error is sent as written; errorText is a template with values inserted as they are', async () => {
  const { reply } = await ask('err a&b', { customerCookie: 'cookie 1/2', requestType: 2 });
  assert.is(reply.json.isAllowed, false);
  assert.is(reply.json.error, -2033);
  assert.is(reply.json.errorText, 'no err a&b for cookie 1/2 (v1, type 2, license-server)');
  assert.is(reply.json.epTokenURL, '');
  const asWritten = (await ask('written-error')).reply.json;
  assert.is(asWritten.error, '403');
  assert.is(asWritten.errorText, 42);
});

test('templates: {{uuid}}, {{now}} and {{token}} are fresh per request, {{messageID}} is the request\'s', async () => {
  const before = Date.now();
  const first = await ask('generated');
  const second = await ask('generated');
  const [uuid, now, token, messageID] = String(first.reply.json.errorText).split('|');
  assert.match(uuid!, GUID);
  assert.match(now!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  assert.ok(Math.abs(Date.parse(now!) - before) < 5000, 'now is the time of the request');
  assert.match(token!, /^[A-Za-z0-9_-]{43}$/);
  assert.is(Buffer.from(token!, 'base64url').length, 32);
  assert.is(messageID, first.sent.messageID);
  const [uuid2, , token2] = String(second.reply.json.errorText).split('|');
  assert.is.not(uuid2, uuid);
  assert.is.not(token2, token);
});

test('extra adds fields (any JSON value, sent as written) and can override a standard one', async () => {
  const { sent, reply } = await ask('extra');
  assert.is(reply.json.messageID, sent.messageID);
  assert.is(reply.json.issuedBy, 'entitlement-mock');
  assert.equal(reply.json.policy, { maxPlays: 3, tags: ['a', 'b'] });
  assert.is(reply.json.epTokenURL, 42);
  assert.is(reply.json.nothing, null);
  assert.ok('nothing' in reply.json);
});

test('omit leaves fields out of the JSON', async () => {
  const one = (await ask('omit-message-id')).reply.json;
  assert.equal(Object.keys(one), ['version', 'isAllowed', 'epTokenURL']);
  const two = (await ask('omit-two')).reply.json;
  assert.equal(Object.keys(two), ['messageID', 'version']);
});

test('status sets the HTTP status of a JSON answer', async () => {
  const { reply } = await ask('status');
  assert.is(reply.status, 503);
  assert.is(reply.json.error, 503);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
});

test('headers are added, numbers as text, and Content-Type can be overridden', async () => {
  const { sent, reply } = await ask('headers');
  assert.is(reply.status, 200);
  assert.is(reply.headers['x-mock'], 'yes');
  assert.is(reply.headers['retry-after'], '5');
  assert.is(reply.headers['content-type'], 'text/html; charset=utf-8');
  assert.is(reply.json.messageID, sent.messageID, 'still the JSON answer, only labelled otherwise');
});

test('body is sent verbatim: HTML with its status and type, malformed and truncated JSON, an empty body', async () => {
  const html = (await ask('raw-html')).reply;
  assert.is(html.status, 502);
  assert.is(html.headers['content-type'], 'text/html');
  assert.is(html.bodyText, '<html><body>Bad Gateway</body></html>');

  const malformed = await ask('raw-malformed');
  assert.is(malformed.reply.status, 200);
  assert.is(malformed.reply.bodyText, '{messageID: not json');
  assert.is(malformed.reply.json, null, 'not parseable');
  assert.match(String(malformed.reply.headers['content-type']), /^text\/plain/);
  assert.is((await entryOf(malformed.sent.messageID)).response.body, '{messageID: not json');

  const truncated = (await ask('raw-truncated')).reply;
  assert.is(truncated.bodyText, '{"messageID":"x","isAll');
  assert.is(truncated.headers['content-length'], String(Buffer.byteLength('{"messageID":"x","isAll')), 'an honest Content-Length');

  const empty = await ask('raw-empty');
  assert.is(empty.reply.status, 200);
  assert.is(empty.reply.bodyText, '');
  assert.is(empty.reply.headers['content-length'], '0');
  assert.is((await entryOf(empty.sent.messageID)).response.body, '');
});

test('delay: 200, "250ms", "0.2s" and {min, max} hold the answer that long', async () => {
  const [number, ms, seconds, ...ranges] = await Promise.all([
    ask('delay-number'),
    ask('delay-ms'),
    ask('delay-seconds'),
    ask('delay-range'),
    ask('delay-range'),
    ask('delay-range'),
    ask('delay-range'),
  ]);
  const checks: [typeof number, number][] = [
    [number, 200],
    [ms, 250],
    [seconds, 200],
  ];
  for (const [{ sent, reply, elapsed }, delayMs] of checks) {
    assert.is(reply.status, 200);
    assert.is(reply.json.messageID, sent.messageID);
    assert.ok(elapsed >= delayMs - 10 && elapsed < delayMs + slack(300), `${String(sent.contentID)}: ${elapsed} ms for a ${delayMs} ms delay`);
    assert.is((await entryOf(sent.messageID)).response.delayMs, delayMs);
  }
  const picked: number[] = [];
  for (const { sent, reply, elapsed } of ranges) {
    assert.is(reply.status, 200);
    const { delayMs } = (await entryOf(sent.messageID)).response;
    assert.ok(delayMs >= 100 && delayMs <= 300, `uniform pick ${delayMs} within 100..300`);
    assert.ok(elapsed >= delayMs - 10 && elapsed < delayMs + slack(300), `${elapsed} ms for a picked ${delayMs} ms delay`);
    picked.push(delayMs);
  }
  assert.ok(new Set(picked).size > 1, `uniform picks vary: ${picked.join(', ')}`);
});

test.run();
