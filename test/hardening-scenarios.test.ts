/**
 * Issue 6, part 5: hostile scenario input, posted to /admin/scenarios or left
 * in the scenario folder. Alias bombs, huge and deeply nested documents, broken
 * and backtracking-prone regexes get a positioned error, a size limit or a
 * bounded evaluation, and the mock keeps answering throughout.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestMock, entitlementRequest, scenarioFolder, type TestMock } from './helpers/mock.js';
import { REGEX_INPUT_LIMIT } from '../src/scenario/runtime/matchers.js';
import { slack } from './helpers/slack.js';

const MiB = 1024 * 1024;
/** Generous: the point is "answers at all, soon", not a benchmark (the quadratic key check took 80 s). */
const BOUND_MS = 10_000;

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock({ logLevel: 'warn' });
});
test.after(async () => {
  await mock.close();
});

async function post(text: string, contentType = 'application/yaml') {
  const started = Date.now();
  const reply = await mock.admin('POST', '/admin/scenarios?activate=false', text, { 'content-type': contentType });
  return { ...reply, ms: Date.now() - started };
}

async function assertStillServing(): Promise<void> {
  const reply = await mock.entitle(entitlementRequest(), { timeoutMs: 2000 });
  assert.is(reply.status, 200, 'the mock keeps answering');
}

function assertPositioned(reply: { status: number; json: any; ms: number }, pattern: RegExp): void {
  assert.is(reply.status, 400);
  const [error] = reply.json.errors;
  assert.match(error.message, pattern);
  assert.ok(error.line >= 1 && error.column >= 1, `positioned: ${JSON.stringify(error)}`);
  assert.ok(reply.ms < BOUND_MS, `answered in ${reply.ms} ms`);
}

const aliasBomb = () => {
  const lines = ['name: bomb', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const names = 'abcdefghijk';
  for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
  lines.push('rules: [{respond: {isAllowed: true}}]');
  return lines.join('\n');
};

test('a YAML alias bomb (9^10 nodes) is refused with the position of its first alias', async () => {
  const reply = await post(aliasBomb());
  assertPositioned(reply, /aliases expand to too many nodes/);
  assert.is(reply.json.errors[0].line, 3);
  await assertStillServing();
});

test('uploads over 1 MiB get a JSON 413; a 10 MB file is refused by its size, before it is read', async () => {
  for (const size of [10 * 1024 * 1024, MiB + 1024]) {
    const reply = await post(`name: big\ndescription: "${'x'.repeat(size)}"\nrules: [{respond: {isAllowed: true}}]\n`);
    assert.is(reply.status, 413, `${size} bytes`);
    assert.is(reply.json.error, 'request entity too large');
  }
  const json = await post(JSON.stringify({ name: 'big', description: 'x'.repeat(2 * MiB), rules: [] }), 'application/json');
  assert.is(json.status, 413);
  await assertStillServing();
});

test('deep nesting, in YAML flow and block style and in JSON, is refused before it is built', async () => {
  const flow = `name: deep\nrules: [{respond: {isAllowed: true}}]\nx: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`;
  assertPositioned(await post(flow), /nesting deeper than 64 levels/);
  const block = `name: deep\nrules: [{respond: {isAllowed: true}}]\nx:\n${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(2 * i + 2)}a${i}:`).join('\n')} 1\n`;
  assertPositioned(await post(block), /nesting deeper than 64 levels/);
  const json = `{"name":"deep","rules":[{"respond":{"isAllowed":true}}],"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
  assertPositioned(await post(json, 'application/json'), /nesting deeper than 64 levels/);
  await assertStillServing();
});

test('85,000 keys in one mapping, and 40,000 repeats of one key, are answered in bounded time', async () => {
  const manyKeys = `name: keys\nrules: [{respond: {isAllowed: true}}]\nextra:\n${Array.from({ length: 85_000 }, (_, i) => `  k${i}: 1`).join('\n')}\n`;
  assert.ok(manyKeys.length > MiB * 0.9 && manyKeys.length < MiB);
  assertPositioned(await post(manyKeys), /extra: unknown key/);
  const repeats = `name: keys\nrules:\n  - respond:\n${'      isAllowed: true\n'.repeat(40_000)}`;
  const reply = await post(repeats);
  assertPositioned(reply, /duplicate key "isAllowed": a mapping has each key once/);
  assert.is(reply.json.errors[0].line, 5, 'the first repeat');
  assert.ok(reply.json.errors.length <= 101, 'errors are capped');
  await assertStillServing();
});

test('invalid and catastrophic-backtracking regexes are refused at load, with their position', async () => {
  const scenario = (regex: string) => `name: re\nrules:\n  - match: { contentID: { regex: ${JSON.stringify(regex)} } }\n    respond: { isAllowed: true }\n`;
  for (const [regex, words] of [
    ['([', /invalid regex/],
    ['(a+)+$', /catastrophic backtracking/],
    ['(\\w+\\s?)*$', /catastrophic backtracking/],
    ['^(a*)*b', /catastrophic backtracking/],
    ['(.*a){20}', /catastrophic backtracking/],
    ['(a)\\1', /back-reference|backreference/i],
  ] as const) {
    const reply = await post(scenario(regex));
    assertPositioned(reply, words);
    assert.is(reply.json.errors[0].line, 3, regex);
  }
  await assertStillServing();
});

test('regexes that pass the check but backtrack (overlapping alternatives, chained \\d+) stay fast on hostile values', async () => {
  const patterns = ['^(a|aa)+$', '^(a|a?)+$', '^\\d+\\d+\\d+\\d+\\d+x$', '^(x+x+)y$'];
  const text = [
    'name: slow-regexes',
    'rules:',
    ...patterns.map((regex, i) => `  - name: p${i}\n    match: { contentID: { regex: ${JSON.stringify(regex)} } }\n    respond: { isAllowed: false, error: ${400 + i} }`),
    '  - name: fallthrough',
    '    respond: { isAllowed: true }',
  ].join('\n');
  const posted = await mock.admin('POST', '/admin/scenarios', text, { 'content-type': 'application/yaml' });
  assert.is(posted.status, 201, posted.text);
  try {
    for (const value of ['a'.repeat(REGEX_INPUT_LIMIT - 1) + '!', '1'.repeat(REGEX_INPUT_LIMIT - 1) + '!', 'x'.repeat(REGEX_INPUT_LIMIT - 1) + '!']) {
      const started = Date.now();
      const reply = await mock.entitle(entitlementRequest({ contentID: value }), { timeoutMs: BOUND_MS });
      const took = Date.now() - started;
      assert.is(reply.json.isAllowed, true, 'no pattern matched');
      assert.ok(took < slack(250), `a ${value.length}-character ${value[0]}… took ${took} ms against all four patterns`);
    }
    // Values longer than REGEX_INPUT_LIMIT are not tried at all: they do not match.
    const long = await mock.entitle(entitlementRequest({ contentID: 'a'.repeat(REGEX_INPUT_LIMIT + 1) }));
    assert.is(long.json.isAllowed, true);
    const matching = await mock.entitle(entitlementRequest({ contentID: 'a'.repeat(REGEX_INPUT_LIMIT) }));
    assert.is(matching.json.error, 400, 'a value at the limit is matched as usual');
  } finally {
    await mock.admin('DELETE', '/admin/scenarios/slow-regexes');
  }
});

test('hostile files beside a good one: the mock starts, serves, and lists each with its position', async () => {
  const folder = await scenarioFolder({
    'default.yaml': 'rules: [{respond: {isAllowed: true}}]\n',
    'bomb.yaml': aliasBomb().replace('name: bomb\n', ''),
    'deep.yaml': `rules: [{respond: {isAllowed: true}}]\nx: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
    'regex.yaml': 'rules:\n  - match: { customerCookie: { regex: "(a+)+$" } }\n    respond: { isAllowed: true }\n',
    'keys.yaml': `rules:\n  - respond:\n${'      isAllowed: true\n'.repeat(40_000)}`,
  });
  await writeFile(join(folder, 'huge.yaml'), Buffer.alloc(10 * 1024 * 1024, '#'));
  const started = Date.now();
  const hostile = await startTestMock({ scenarios: folder, logLevel: 'warn' });
  try {
    assert.ok(Date.now() - started < BOUND_MS, `started in ${Date.now() - started} ms`);
    const reply = await hostile.entitle(entitlementRequest());
    assert.is(reply.status, 200);
    const { errors } = (await hostile.admin('GET', '/admin/scenarios')).json;
    const byFile = (name: string) => errors.find((error: any) => error.file.endsWith(name));
    assert.match(byFile('bomb.yaml')?.message, /aliases/);
    assert.match(byFile('deep.yaml')?.message, /nesting deeper than 64/);
    assert.match(byFile('regex.yaml')?.message, /catastrophic backtracking/);
    assert.match(byFile('keys.yaml')?.message, /duplicate key/);
    assert.match(byFile('huge.yaml')?.message, /limited to 8 MiB/);
    for (const error of errors) assert.ok(error.line >= 1 && error.column >= 1, JSON.stringify(error));
  } finally {
    await hostile.close();
  }
});

test.run();
