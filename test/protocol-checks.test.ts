import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allPassed, CHECK_NAMES, checkEntitlementResponse, type CheckName, type CheckResult } from '../src/protocol/checks.js';

const sent = { messageID: 'a6f3a1de-3c1d-4c49-9bd6-4c3f6f0b2d11', version: 1, contentID: 'c1' };
const goodBody = {
  messageID: sent.messageID,
  version: 1,
  isAllowed: true,
  epTokenURL: 'https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken=abc',
};

function check(body: unknown, overrides: { status?: number; contentType?: string; bodyText?: string } = {}): CheckResult[] {
  return checkEntitlementResponse(sent, {
    status: overrides.status ?? 200,
    contentType: 'contentType' in overrides ? overrides.contentType : 'application/json; charset=utf-8',
    bodyText: overrides.bodyText ?? JSON.stringify(body),
  });
}

function failed(results: CheckResult[]): CheckName[] {
  return results.filter((result) => !result.ok).map((result) => result.name);
}

function result(results: CheckResult[], name: CheckName): CheckResult {
  const found = results.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no check named ${name}`);
  return found;
}

test('a correct response passes every check, all of them reported in order', () => {
  const results = check(goodBody);
  assert.equal(results.map((r) => r.name), [...CHECK_NAMES]);
  assert.equal(failed(results), []);
  assert.ok(allPassed(results));
});

test('a denial with an empty epTokenURL, error and errorText passes', () => {
  const results = check({ ...goodBody, isAllowed: false, epTokenURL: '', error: 403, errorText: 'not entitled' });
  assert.equal(failed(results), []);
});

test('HTTP status other than 200 fails only that check', () => {
  const results = check(goodBody, { status: 503 });
  assert.equal(failed(results), ['HTTP status 200']);
  assert.match(result(results, 'HTTP status 200').detail, '503');
});

test('Content-Type: missing, text/html fail; application/problem+json passes', () => {
  assert.equal(failed(check(goodBody, { contentType: undefined })), ['Content-Type is JSON']);
  assert.equal(failed(check(goodBody, { contentType: 'text/html' })), ['Content-Type is JSON']);
  assert.equal(failed(check(goodBody, { contentType: 'application/vnd.mock+json' })), []);
});

test('a body that is not JSON fails the object check and every field check', () => {
  const results = check(null, { bodyText: '<html>busy</html>' });
  assert.equal(failed(results), CHECK_NAMES.slice(2));
  assert.match(result(results, 'body is a JSON object').detail, 'not JSON');
  assert.match(result(results, 'messageID echoed').detail, 'cannot check');
});

test('an empty body, a JSON array and JSON null are not objects', () => {
  assert.match(result(check(null, { bodyText: '' }), 'body is a JSON object').detail, 'empty');
  assert.match(result(check([goodBody]), 'body is a JSON object').detail, 'not an object');
  assert.not.ok(result(check(null), 'body is a JSON object').ok);
});

test('messageID: mismatched or missing fails', () => {
  const mismatched = check({ ...goodBody, messageID: '00000000-0000-4000-8000-000000000000' });
  assert.equal(failed(mismatched), ['messageID echoed']);
  assert.match(result(mismatched, 'messageID echoed').detail, sent.messageID);
  const { messageID: _dropped, ...withoutId } = goodBody;
  assert.equal(result(check(withoutId), 'messageID echoed').detail, 'missing');
});

test('version: missing, a string, a fraction, or above the request fails; below passes', () => {
  const name = "version present, an integer, <= the request's";
  const { version: _dropped, ...withoutVersion } = goodBody;
  assert.equal(failed(check(withoutVersion)), [name]);
  assert.equal(failed(check({ ...goodBody, version: '1' })), [name]);
  assert.equal(failed(check({ ...goodBody, version: 1.5 })), [name]);
  assert.match(result(check({ ...goodBody, version: 2 }), name).detail, 'above');
  assert.equal(failed(checkEntitlementResponse({ ...sent, version: 3 }, { status: 200, contentType: 'application/json', bodyText: JSON.stringify(goodBody) })), []);
});

test('isAllowed: missing or "yes" fails', () => {
  const { isAllowed: _dropped, ...withoutAllowed } = goodBody;
  assert.ok(failed(check(withoutAllowed)).includes('isAllowed present and a boolean'));
  const stringly = check({ ...goodBody, isAllowed: 'yes' });
  assert.equal(failed(stringly), ['isAllowed present and a boolean']);
  assert.match(result(stringly, 'isAllowed present and a boolean').detail, '(string)');
});

test('epTokenURL: missing or a number fails the presence check', () => {
  const { epTokenURL: _dropped, ...withoutUrl } = goodBody;
  assert.equal(failed(check(withoutUrl)), ['epTokenURL present and a string', 'epTokenURL an absolute http(s) URL when isAllowed is true']);
  assert.ok(failed(check({ ...goodBody, epTokenURL: 42 })).includes('epTokenURL present and a string'));
  // Not allowed: the URL is not needed, but it must still be a string.
  const { isAllowed: _a, epTokenURL: _b, ...neither } = goodBody;
  assert.equal(failed(check({ ...neither, isAllowed: false })), ['epTokenURL present and a string']);
});

test('epTokenURL: when allowed it must be an absolute http(s) URL', () => {
  const name = 'epTokenURL an absolute http(s) URL when isAllowed is true';
  for (const bad of ['', '/relative/path', 'ftp://example.com/x', 'http:example.com', ' https://example.com', 'https://exa mple.com'])
    assert.equal(failed(check({ ...goodBody, epTokenURL: bad })), [name], bad);
  assert.equal(failed(check({ ...goodBody, epTokenURL: 'http://127.0.0.1:9000/token?x=1' })), []);
  assert.equal(failed(check({ ...goodBody, isAllowed: false, epTokenURL: 'not a url' })), []);
});

test('error must be an integer and errorText a string when present', () => {
  assert.equal(failed(check({ ...goodBody, error: '403' })), ['error an integer when present']);
  assert.equal(failed(check({ ...goodBody, error: null })), ['error an integer when present']);
  assert.equal(failed(check({ ...goodBody, errorText: 403 })), ['errorText a string when present']);
  assert.equal(result(check(goodBody), 'error an integer when present').detail, 'absent');
});

test.run();
