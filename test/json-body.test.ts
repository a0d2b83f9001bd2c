/** Where a malformed admin body stops being JSON, and how that is said. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeJsonProblem, jsonErrorOffset } from '../src/admin/json-body.js';

test('jsonErrorOffset: null for JSON, else the first offset that is not', () => {
  for (const valid of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ', '"s"', '0']) assert.is(jsonErrorOffset(valid), null, valid);
  const cases: [string, number][] = [
    ['{"a":', 5],
    ['{"a" 1}', 5],
    ['{"a": 1,}', 8],
    ['[1 2]', 3],
    ['{"a": tru }', 9],
    ['{"a": "x\ny"}', 8],
    ['{"a": "\\q"}', 7],
    ['{"a": -}', 6],
    ['{} x', 3],
    ["{'a': 1}", 1],
  ];
  for (const [text, offset] of cases) assert.is(jsonErrorOffset(text), offset, text);
});

test('a deeply nested body is scanned without overflowing the stack', () => {
  const deep = `${'['.repeat(500_000)}${']'.repeat(499_999)}`;
  assert.is(jsonErrorOffset(deep), deep.length);
});

test('describeJsonProblem: the reason without the body echoed, at line and column', () => {
  const text = `{\n  "name": "${'x'.repeat(5000)}",\n  oops\n}`;
  let refusal: Error = new Error();
  try {
    JSON.parse(text);
  } catch (error) {
    refusal = error as Error;
  }
  const message = describeJsonProblem(text, refusal);
  assert.ok(message.length < 120, message);
  assert.match(message, /^body is not valid JSON: .*, at line 3, column 3$/);
});

test.run();
