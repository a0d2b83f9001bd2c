import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isGuid, parseEntitlementRequest, validateEntitlementRequest } from '../src/protocol/validate.js';

const GUID = '2b9ad3b8-3c4e-4c1b-8f4e-6c2a1b0f9d11';
const CONTENT = 'a1b2c3d4-0000-4000-8000-000000000001';
const valid = { messageID: GUID, version: 1, contentID: CONTENT };

function problemsOf(value: unknown): string[] {
  const parsed = validateEntitlementRequest(value);
  return parsed.valid ? [] : parsed.problems;
}

test('a well-formed request is valid and has no warnings', () => {
  const parsed = validateEntitlementRequest({ ...valid, requestType: 2, customerCookie: 'x'.repeat(32) });
  assert.ok(parsed.valid);
  assert.equal(parsed.warnings, []);
});

test('not JSON, empty and non-object bodies are named', () => {
  const notJson = parseEntitlementRequest('{"messageID": ');
  assert.not.ok(notJson.valid);
  assert.match((notJson as { problems: string[] }).problems[0] ?? '', /^body is not valid JSON: /);
  assert.equal((parseEntitlementRequest('') as { problems: string[] }).problems, ['body is not valid JSON: the body is empty']);
  assert.equal(problemsOf([1, 2]), ['body must be a JSON object, got an array']);
  assert.equal(problemsOf('x'), ['body must be a JSON object, got a string']);
  assert.equal(problemsOf(null), ['body must be a JSON object, got null']);
});

test('every missing required field is named at once', () => {
  assert.equal(problemsOf({}), [
    'messageID: required field missing',
    'version: required field missing',
    'contentID: required field missing',
  ]);
});

test('wrong types are named with what was expected and what came', () => {
  assert.equal(problemsOf({ messageID: 7, version: true, contentID: [], requestType: '2', customerCookie: 5 }), [
    'messageID: expected a string, got a number',
    'version: expected a positive integer, got a boolean',
    'contentID: expected a string, got an array',
    'requestType: expected 1, 2 or 3, got a string',
    'customerCookie: expected a string, got a number',
  ]);
});

test('out-of-range values are problems', () => {
  assert.equal(problemsOf({ ...valid, requestType: 4 }), ['requestType: expected 1, 2 or 3, got 4']);
  assert.equal(problemsOf({ ...valid, customerCookie: 'c'.repeat(33) }), ['customerCookie: at most 32 characters, got 33']);
  assert.equal(problemsOf({ ...valid, version: 0 }), ['version: expected a positive integer, got 0']);
  assert.equal(problemsOf({ ...valid, version: 1.5 }), ['version: expected a positive integer, got 1.5']);
  assert.equal(problemsOf({ ...valid, version: -0 }), ['version: expected a positive integer, got 0']);
  assert.equal(problemsOf({ ...valid, version: 2 ** 53 + 2 }).length, 1);
  assert.equal(problemsOf(JSON.parse(`{"messageID":"${GUID}","contentID":"${CONTENT}","version":1e400}`)), [
    'version: expected a positive integer, got Infinity (out of range)',
  ]);
});

test('a numeric string version is accepted as a number, with a warning', () => {
  const parsed = validateEntitlementRequest({ ...valid, version: '1' });
  assert.ok(parsed.valid);
  if (!parsed.valid) return;
  assert.is(parsed.request.version, 1);
  assert.equal(parsed.warnings, ['version: sent as the string "1"; treated as the number 1']);
  assert.equal(problemsOf({ ...valid, version: 'one' }), ['version: expected a positive integer, got a string']);
});

test('a version above 1, the protocol version the mock knows, is accepted with a warning', () => {
  for (const [sent, expected] of [
    [2, ['version: 2 is above 1, the protocol version the mock knows; answered as usual']],
    ['7', ['version: sent as the string "7"; treated as the number 7', 'version: 7 is above 1, the protocol version the mock knows; answered as usual']],
  ] as const) {
    const parsed = validateEntitlementRequest({ ...valid, version: sent });
    assert.ok(parsed.valid, `version ${JSON.stringify(sent)}`);
    if (!parsed.valid) return;
    assert.is(parsed.request.version, Number(sent));
    assert.equal(parsed.warnings, expected);
  }
  assert.equal(validateEntitlementRequest(valid).warnings, [], 'version 1 is not warned about');
  assert.equal(problemsOf({ ...valid, version: 0 }), ['version: expected a positive integer, got 0'], 'still a problem, not a warning');
});

test('non-GUID ids and unknown fields are warnings, not problems', () => {
  const parsed = validateEntitlementRequest({ messageID: 'm-1', version: 1, contentID: 'movie', extraField: 1, __proto__x: 2 });
  assert.ok(parsed.valid);
  assert.equal(parsed.warnings, [
    'messageID: "m-1" is not a GUID',
    'contentID: "movie" is not a GUID',
    'unknown field "extraField"',
    'unknown field "__proto__x"',
  ]);
});

test('__proto__ in the JSON text stays an own field and is only warned about', () => {
  const parsed = parseEntitlementRequest(`{"messageID":"${GUID}","version":1,"contentID":"${CONTENT}","__proto__":{"isAdmin":true}}`);
  assert.ok(parsed.valid);
  assert.equal(parsed.warnings, ['unknown field "__proto__"']);
  assert.is(({} as Record<string, unknown>).isAdmin, undefined);
});

test('isGuid says what the GUID pattern says, braces and case included', () => {
  const pattern = /^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/;
  const guid = '0a1B2c3D-4e5F-6789-abcd-EF0123456789';
  const cases = [guid, `{${guid}}`, `{${guid}`, `${guid}}`, `{{${guid}}`, `${guid}}}`, '', '{', '}', '{}', guid.slice(1), `${guid}0`, `${guid}\n`,
    guid.replace('-', '_'), guid.replace('a', 'g'), guid.replace('B', 'G'), guid.replace('0', '/'), guid.replace('9', ':'), guid.replace('a', '`'), guid.replace('F', '@'),
    guid.replace(/-/g, ''), `0a1B2c3D4-e5F-6789-abcd-EF0123456789`, guid.toUpperCase(), `\u0660${guid.slice(1)}`];
  for (let i = 0; i < 36; i++) for (const unit of [0x2d, 0x30, 0x46, 0x47, 0x66, 0x67, 0x7b]) cases.push(guid.slice(0, i) + String.fromCharCode(unit) + guid.slice(i + 1));
  for (const value of cases) assert.is(isGuid(value), pattern.test(value), JSON.stringify(value));
});

test.run();
