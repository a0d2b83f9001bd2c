/** Loading scenario sources: positioned errors, hostile input, lint warnings, folders, the published schema. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenarioText, MAX_NESTING_DEPTH, MAX_SCENARIO_BYTES } from '../src/scenario/format/parse.js';
import { loadScenarioPath } from '../src/scenario/registry/load.js';
import { schemaIssues } from '../src/scenario/format/schema-errors.js';
import { regexMinLength } from '../src/scenario/runtime/matchers.js';
import type { PositionedError } from '../src/scenario/format/loaded.js';
import { renderJsonSchema, SCHEMA_FILE } from '../scripts/gen-schema.js';
import { BUNDLED_SCENARIOS } from './helpers/bundled.js';
import { cpuTimeOf, slack } from './helpers/slack.js';

const parse = (text: string, file = 'test.yaml') => parseScenarioText(text, file, { defaultName: 'test' });

/** The one error (or warning) whose message contains `text`, with its position. */
function find(problems: PositionedError[], text: string): PositionedError {
  const found = problems.find((problem) => problem.message.includes(text));
  assert.ok(found, `no problem mentioning ${JSON.stringify(text)} in:\n${problems.map((p) => `${p.line}:${p.column}: ${p.message}`).join('\n')}`);
  return found;
}

function assertAt(problem: PositionedError, line: number, column: number): void {
  assert.equal([problem.line, problem.column], [line, column], `position of: ${problem.message}`);
}

test('a valid scenario loads with its name from name: or from the file name', () => {
  const named = parse('name: custom\nrules:\n  - respond: {isAllowed: true}\n');
  assert.equal(named.errors, []);
  assert.is(named.scenario?.name, 'custom');
  const unnamed = parse('rules:\n  - respond: {isAllowed: true}\n');
  assert.is(unnamed.scenario?.name, 'test');
  assert.is(unnamed.scenario?.file, 'test.yaml');
});

test('JSON is accepted too', () => {
  const result = parse('{"name": "json", "rules": [{"match": {"contentID": "a"}, "respond": {"isAllowed": false}}]}');
  assert.equal(result.errors, []);
  assert.is(result.scenario?.name, 'json');
});

test('JSON takes a fast path, but errors and warnings in JSON are still positioned', () => {
  const json = '{\n  "rules": [\n    {"respond": {}},\n    {"respond": {"delay": "soon"}},\n    {"name": "dead", "respond": {}}\n  ]\n}';
  assertAt(find(parse(json).errors, 'rules[1].respond.delay: expected a number of ms'), 4, 27);
  const warned = parse(json.replace('"soon"', '5'));
  assert.equal(warned.errors, []);
  assertAt(find(warned.warnings, 'rules[2]: unreachable'), 5, 5);
  const deep = parse(`{"rules": [{"respond": {"extra": {"x": ${'['.repeat(10_000)}${']'.repeat(10_000)}}}}]}`);
  assert.ok(find(deep.errors, 'nesting deeper than').line === 1);
});

test('an unknown key is positioned at the key, with a suggestion', () => {
  const { scenario, errors } = parse('rules:\n  - match:\n      contentId: abc\n    respond: {}\n');
  assert.is(scenario, null);
  const error = find(errors, 'unknown key');
  assert.is(error.message, 'rules[0].match.contentId: unknown key (did you mean contentID?)');
  assertAt(error, 3, 7);
});

test('an unknown key without a near miss lists the known keys; misplaced keys get a hint', () => {
  const { errors } = parse('colour: red\nrules:\n  - isAllowed: true\n    respond: {}\n');
  assertAt(find(errors, 'colour: unknown key; expected one of name, description'), 1, 1);
  assertAt(find(errors, 'rules[0].isAllowed: unknown key; response fields go under respond:'), 3, 5);
});

test('wrong types name the field, what was expected and what was found', () => {
  const { errors } = parse('rules:\n  - times: two\n    respond:\n      status: 700\n      body: 5\n');
  assertAt(find(errors, 'rules[0].times: expected a whole number of at least 1, got the string "two"'), 2, 12);
  assertAt(find(errors, 'rules[0].respond.status: expected an HTTP status'), 4, 15);
  assertAt(find(errors, 'rules[0].respond.body: expected a string, got the number 5'), 5, 13);
});

test('a bad delay: the union is explained once, not branch by branch', () => {
  const { errors } = parse('rules:\n  - respond: {isAllowed: true}\n  - respond: {isAllowed: true}\n  - respond:\n      delay: fast\n');
  assert.is(errors.length, 1);
  assert.is(errors[0]?.message, 'rules[2].respond.delay: expected a number of ms, a string like "250ms" or "2s", or {min, max}, got the string "fast"');
  assertAt(errors[0] as PositionedError, 5, 14);
});

test('a delay over the limit and a min above max are refused by the delay parser, positioned', () => {
  const { errors } = parse('rules:\n  - respond: {delay: 4000s}\n  - respond: {delay: {min: 2s, max: 1s}}\n');
  assertAt(find(errors, 'rules[0].respond.delay: delay "4000s" is longer than'), 2, 22);
  assertAt(find(errors, 'rules[1].respond.delay: delay min "2s" is greater than max "1s"'), 3, 22);
});

test('matcher forms: the intended branch is followed', () => {
  const text = [
    'rules:',
    '  - match:',
    '      contentID: {glob: a, regex: b}',
    '      requestType: {regx: 2}',
    '      clientCN: {not: {glob: 5}}',
    '      version: ~',
    '    respond: {fault: hnag}',
  ].join('\n');
  const { errors } = parse(text);
  assertAt(find(errors, 'rules[0].match.contentID: "glob" and "regex" cannot be combined'), 3, 18);
  assertAt(find(errors, 'rules[0].match.requestType.regx: unknown key (did you mean regex?)'), 4, 21);
  assertAt(find(errors, 'rules[0].match.clientCN.not.glob: expected a string, got the number 5'), 5, 30);
  assertAt(find(errors, 'rules[0].match.version: expected a matcher'), 6, 16);
  assertAt(find(errors, 'rules[0].respond.fault: expected one of hang, reset, close, slow, partial, got the string "hnag" (did you mean hang?)'), 7, 22);
});

test('a list inside a matcher list is refused at the inner list (one flat list means the same)', () => {
  const { errors } = parse('rules:\n  - match: { contentID: [[x, y], z] }\n    respond: {}\n');
  assertAt(find(errors, 'rules[0].match.contentID[0]: expected a list item: a string'), 2, 26);
  assert.match(find(errors, 'rules[0].match.contentID[0]').message, /\(one flat list, not a list inside a list\), got a list$/);
});

test('invalid and catastrophic regexes are positioned at the regex', () => {
  const text = 'rules:\n  - match:\n      customerCookie: [a, {regex: "(a+)+$"}]\n      contentID: {regex: "[z-a]"}\n    respond: {}\n';
  const { errors } = parse(text);
  assertAt(find(errors, 'rules[0].match.customerCookie[1].regex: regex "(a+)+$" is prone to catastrophic backtracking'), 3, 35);
  assertAt(find(errors, 'rules[0].match.contentID.regex: invalid regex "[z-a]"'), 4, 26);
});

test('an unknown template variable is positioned at the template', () => {
  const { errors } = parse('defaults:\n  epTokenURL: "https://x.test/?t={{tokn}}"\nrules:\n  - respond: {errorText: "for {{contentId}}"}\n');
  assertAt(find(errors, 'defaults.epTokenURL: unknown template variable {{tokn}}'), 2, 15);
  assertAt(find(errors, 'rules[0].respond.errorText: unknown template variable {{contentId}}'), 4, 26);
});

test('omit names only response fields; header names and values are checked', () => {
  const { errors } = parse('rules:\n  - respond:\n      omit: [messageId]\n      headers: {"Bad Header": x, X-Ok: "a\\nb"}\n');
  assertAt(find(errors, 'rules[0].respond.omit[0]: expected one of messageID, version'), 3, 14);
  assertAt(find(errors, 'rules[0].respond.headers["Bad Header"]: not a valid HTTP header name'), 4, 17);
  assertAt(find(errors, 'rules[0].respond.headers["X-Ok"]: expected a header value'), 4, 40);
});

test('respond, sequence and random: exactly one; loop only with sequence', () => {
  const text = 'rules:\n  - respond: {}\n    sequence: [{}]\n  - random: [{weight: 1}]\n    loop: true\n  - match: {contentID: x}\n';
  const { errors } = parse(text);
  assertAt(find(errors, 'rules[0].sequence: respond and sequence cannot be combined'), 3, 5);
  assertAt(find(errors, 'rules[1].loop: loop only applies to a sequence'), 5, 5);
  assertAt(find(errors, 'rules[2]: a rule needs one of respond, sequence or random'), 6, 5);
});

test('duplicate rule names, including an automatic name, are errors at the later name', () => {
  const text = 'rules:\n  - name: a\n    respond: {}\n  - respond: {}\n  - name: a\n    respond: {}\n  - name: rule-2\n    respond: {}\n';
  const { errors } = parse(text);
  assertAt(find(errors, 'rules[2].name: duplicate rule name "a" (first used by rules[0], line 2)'), 5, 11);
  assertAt(find(errors, 'rules[3].name: "rule-2" is also the automatic name of the unnamed rules[1]'), 7, 11);
});

test('one pass: type errors hide no semantic error elsewhere, and all come in position order', () => {
  const text = [
    'rules:',
    '  - name: same',
    '    match: {contentID: {regex: "[z-a]"}}',
    '    respond: {}',
    '  - name: same',
    '    respond: {status: 700}',
    '    sequence: [{delay: 5s}]',
    '  - times: two',
    '    respond: {delay: soon, errorText: "{{nope}}"}',
    '  - match: {customerCookie: [{regx: a}, {regex: "(a+)+$"}]}',
    '    respond: {delay: {min: 2s, max: 1s}}',
  ].join('\n');
  const { scenario, errors } = parse(text);
  assert.is(scenario, null);
  assert.equal(
    errors.map((error) => `${error.line}:${error.column}: ${error.message.replace(/:.*$/, '')}`),
    [
      '3:32: rules[0].match.contentID.regex',
      '5:11: rules[1].name',
      '6:23: rules[1].respond.status',
      '7:5: rules[1].sequence',
      '8:12: rules[2].times',
      '9:22: rules[2].respond.delay',
      '9:39: rules[2].respond.errorText',
      '10:31: rules[3].match.customerCookie[0].regx',
      '10:49: rules[3].match.customerCookie[1].regex',
      '11:22: rules[3].respond.delay',
    ],
  );
  assert.match(find(errors, 'rules[1].name').message, /duplicate rule name "same"/);
  assert.match(find(errors, 'rules[1].sequence').message, /respond and sequence cannot be combined/);
  assert.match(find(errors, 'rules[2].respond.errorText').message, /unknown template variable \{\{nope\}\}/);
  assert.match(find(errors, 'rules[3].match.customerCookie[1].regex').message, /catastrophic backtracking/);
});

test('one pass: the state checks too (key forms, stateTtl, setState with clearState, state in unmatched:)', () => {
  const text = [
    'stateKey: "{{customerCookie}}-{{now}}"',
    'stateTtl: 400d',
    'unmatched: {setState: x}',
    'rules:',
    '  - perKey: "{{uuid}}"',
    '    respond: {setState: a, clearState: true, status: 700}',
  ].join('\n');
  assert.equal(
    parse(text).errors.map((error) => `${error.line}:${error.column}: ${error.message.replace(/:.*$/, '')}`),
    ['1:11: stateKey', '2:11: stateTtl', '3:23: unmatched.setState', '5:13: rules[0].perKey', '6:40: rules[0].respond.clearState', '6:54: rules[0].respond.status'],
  );
});

test('one pass: warnings of well-typed parts come with the errors of others', () => {
  const { errors, warnings } = parse('rules:\n  - respond: {status: 700}\n  - match: {requestType: 4}\n    respond: {}\n');
  assertAt(find(errors, 'rules[0].respond.status'), 2, 23);
  assertAt(find(warnings, 'rules[1].match.requestType: never matches'), 3, 26);
});

test('YAML syntax errors and duplicate keys are positioned', () => {
  const broken = parse('rules:\n  - respond: {isAllowed: true\n  - x: 1\n');
  assert.ok(broken.errors.length >= 1);
  assert.is(broken.errors[0]?.line, 3);
  const duplicate = parse('rules: []\ndescription: a\nrules: []\n');
  assertAt(find(duplicate.errors, 'duplicate key "rules"'), 3, 1);
  const twoDocuments = parse('rules: []\n---\nrules: []\n');
  assertAt(find(twoDocuments.errors, 'more than one YAML document'), 2, 1);
});

test('an empty document and a non-mapping are refused', () => {
  assertAt(find(parse('').errors, 'the document is empty'), 1, 1);
  assertAt(find(parse('# nothing\n').errors, 'the document is empty'), 1, 1);
  assertAt(find(parse('- a\n- b\n').errors, '(scenario): expected a mapping, got a list'), 1, 1);
});

test('__proto__ and constructor are unknown keys, not prototype pollution', () => {
  const { errors } = parse('rules:\n  - respond: {}\n    __proto__: {polluted: 1}\n    constructor: 1\n');
  assertAt(find(errors, 'rules[0].__proto__: unknown key'), 3, 5);
  assertAt(find(errors, 'rules[0].constructor: unknown key'), 4, 5);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('an alias bomb is refused at the first alias, quickly', async () => {
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    'rules: []',
  ].join('\n');
  const { value: { errors }, ms } = await cpuTimeOf(() => parse(bomb));
  assert.ok(ms < slack(500), `bounded time: ${ms} ms of CPU`);
  assertAt(find(errors, 'YAML aliases expand to too many nodes'), 2, 8);
});

test('a few aliases are fine (anchors and merge keys for reuse)', () => {
  const text = 'defaults: &ok {isAllowed: true}\nrules:\n  - respond: *ok\n  - match: {contentID: x}\n    respond: {<<: *ok, delay: 1s}\n';
  const result = parse(text);
  assert.equal(result.errors, []);
  assert.equal(result.scenario?.definition.rules?.[1]?.respond, { isAllowed: true, delay: '1s' });
});

test('an oversize document is refused before parsing', async () => {
  const big = `description: "${'x'.repeat(MAX_SCENARIO_BYTES)}"\n`;
  const { value: { errors }, ms } = await cpuTimeOf(() => parse(big));
  assert.ok(ms < slack(250), `no parsing: ${ms} ms of CPU`);
  assertAt(find(errors, 'scenarios are limited to 8 MiB'), 1, 1);
});

test('deep nesting is refused at the first collection too deep, without overflowing the stack', () => {
  const flow = parse(`rules: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`);
  assertAt(find(flow.errors, `nesting deeper than ${MAX_NESTING_DEPTH} levels`), 1, 8 + MAX_NESTING_DEPTH - 1);
  const block = parse(`rules:\n${'  '.repeat(1)}${'- '.repeat(5000)}x\n`);
  assert.ok(find(block.errors, 'nesting deeper than').line === 2);
  const maps = parse(`${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`);
  assertAt(find(maps.errors, 'nesting deeper than'), 1, 1 + 4 * MAX_NESTING_DEPTH);
});

test('errors are capped with a count of the rest', () => {
  const rules = Array.from({ length: 150 }, (_, i) => `  - respond: {status: ${1000 + i}}`).join('\n');
  const { errors } = parse(`rules:\n${rules}\n`);
  assert.is(errors.length, 101);
  assert.match(errors[100]?.message ?? '', /^\.\.\. and 50 more errors$/);
});

test('a posted scenario without name: and without a default name needs one', () => {
  const result = parseScenarioText('rules: []\n', '(posted)');
  assertAt(find(result.errors, 'name: required here'), 1, 1);
});

// --- lint ------------------------------------------------------------------

test('warnings: unreachable rules after a catch-all or a twin match', () => {
  const text = [
    'rules:',
    '  - name: limited',
    '    times: 1',
    '    respond: {}',
    '  - name: first',
    '    match: {contentID: a}',
    '    respond: {}',
    '  - name: twin',
    '    match: {contentID: a}',
    '    respond: {}',
    '  - name: all',
    '    match: {contentID: "*"}',
    '    respond: {}',
    '  - name: dead',
    '    respond: {}',
  ].join('\n');
  const { errors, warnings } = parse(text);
  assert.equal(errors, []);
  assertAt(find(warnings, 'rules[2]: unreachable: rules[1] ("first") at line 5 has the same match'), 8, 5);
  assertAt(find(warnings, 'rules[4]: unreachable: rules[3] ("all") at line 11 matches every request'), 14, 5);
  assert.is(warnings.length, 2, 'a catch-all with times: is not a catch-all');
});

test('warnings: customerCookie patterns that need more than 32 characters, impossible requestType', () => {
  const long = 'c'.repeat(33);
  const text = `rules:\n  - match:\n      customerCookie: ["${long}", "${'d'.repeat(31)}*", {glob: "${long}*"}]\n      requestType: 4\n    respond: {}\n`;
  const { warnings } = parse(text);
  const cookieWarnings = warnings.filter((warning) => warning.message.includes('customerCookie'));
  assert.is(cookieWarnings.length, 2, 'the 31-character glob can match');
  assertAt(cookieWarnings[0] as PositionedError, 3, 24);
  assert.match(cookieWarnings[0]?.message ?? '', /never matches: a customerCookie is at most 32 characters and this value has 33/);
  assertAt(find(warnings, 'rules[0].match.requestType: never matches'), 4, 20);
});

test('the shortest match of a regex is a lower bound: exact where it can be, never more', () => {
  const cases: [string, number | null][] = [
    ['abc', 3],
    ['^[a-f0-9]{40}$', 40],
    ['x{33}', 33],
    ['x{2,}y+z*w?', 3],
    ['(abc|defg){11}', 33],
    ['a{33}|b', 1],
    ['(?:ab)+(?<name>cd)?', 2],
    ['(?=a{40})', 0],
    ['(?<!x{40})y', 1],
    ['\\bword\\b', 4],
    ['\\u0041{32}\\x41\\cA\\d\\.', 36],
    ['a{,5}', 5], // not a quantifier: the five characters themselves
    ['(a)\\1{50}', 1],
    ['[]]', 2], // an empty class (which never matches) and a literal ]: counted as one character each
    ['[a-z', null], // not a regex
  ];
  for (const [source, expected] of cases) assert.is(regexMinLength(source), expected, source);
});

test('warnings: a customerCookie regex that surely needs more than 32 characters; no rules at all', () => {
  const text = [
    'rules:',
    '  - match: {customerCookie: {regex: "^[a-f0-9]{40}$"}}',
    '    respond: {}',
    '  - match: {customerCookie: {regex: "[a-f0-9]{32}|x{40}"}}',
    '    respond: {}',
    '  - match: {contentID: {regex: "^[a-f0-9]{40}$"}}',
    '    respond: {}',
  ].join('\n');
  const { errors, warnings } = parse(text);
  assert.equal(errors, []);
  assert.is(warnings.length, 1);
  assertAt(find(warnings, 'rules[0].match.customerCookie.regex: never matches: a customerCookie is at most 32 characters and this regex needs at least 40'), 2, 37);
  const empty = parse('description: nothing yet\nrules: []\n');
  assertAt(find(empty.warnings, 'rules: no rules: every request gets the unmatched: answer'), 2, 1);
  assertAt(find(parse('description: nothing yet\n').warnings, '(scenario): no rules'), 1, 1);
  assert.equal(parse('rules: []\nunmatched: {status: 503}\n').warnings, [], 'an explicit unmatched: answer for everything is a choice');
});

test('warnings: keys that have no effect', () => {
  const text = [
    'rules:',
    '  - match: {contentID: a}',
    '    respond: {fault: reset, status: 500}',
    '  - match: {contentID: b}',
    '    respond: {body: "x", isAllowed: false}',
    '  - match: {contentID: c}',
    '    respond: {fault: slow}',
    '  - match: {contentID: d}',
    '    respond: {headers: {Content-Length: "5"}}',
  ].join('\n');
  const { warnings } = parse(text);
  assertAt(find(warnings, 'ignored: fault: reset sends no response, so status has no effect'), 3, 29);
  assertAt(find(warnings, 'ignored: body: replaces the JSON, so isAllowed has no effect'), 5, 26);
  assertAt(find(warnings, 'fault: slow spreads the response over delay:'), 7, 22);
  assertAt(find(warnings, 'Content-Length is set by the HTTP layer'), 9, 25);
});

// --- folders ----------------------------------------------------------------

test('a folder: sorted *.yaml/*.yml, one bad file reported, the good ones loaded, duplicate names refused', () => {
  const folder = mkdtempSync(join(tmpdir(), 'em-load-'));
  try {
    writeFileSync(join(folder, 'b-good.yaml'), 'rules:\n  - respond: {isAllowed: true}\n');
    writeFileSync(join(folder, 'a-bad.yml'), 'rules:\n  - respond: {isAlowed: true}\n');
    writeFileSync(join(folder, 'c-same-name.yaml'), 'name: b-good\nrules: []\n');
    writeFileSync(join(folder, 'notes.txt'), 'not a scenario');
    writeFileSync(join(folder, '.#b-good.yaml'), 'editor lock file');
    const loaded = loadScenarioPath(folder);
    assert.equal(loaded.scenarios.map((scenario) => scenario.name), ['b-good']);
    assert.is(loaded.errors.length, 2);
    const bad = find(loaded.errors, 'isAlowed');
    assert.is(bad.file, join(folder, 'a-bad.yml'));
    assertAt(bad, 2, 15);
    const duplicate = find(loaded.errors, 'scenario name "b-good" is already used by');
    assert.is(duplicate.file, join(folder, 'c-same-name.yaml'));
    assertAt(duplicate, 1, 7);
    const single = loadScenarioPath(join(folder, 'b-good.yaml'));
    assert.equal(single.scenarios.map((scenario) => scenario.name), ['b-good']);
    assert.equal(single.errors, []);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a missing path and an empty folder are errors', () => {
  const folder = mkdtempSync(join(tmpdir(), 'em-load-'));
  try {
    assert.match(loadScenarioPath(join(folder, 'nope'))?.errors[0]?.message ?? '', /cannot read: no such file or folder/);
    assert.match(loadScenarioPath(folder).errors[0]?.message ?? '', /no scenario files/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

// --- bundled scenarios and the schema ------------------------------------------

test('every bundled scenario loads with no errors and no warnings', () => {
  const loaded = loadScenarioPath('scenarios');
  assert.equal(loaded.errors, []);
  assert.equal(loaded.warnings, []);
  assert.equal(loaded.scenarios.map((scenario) => scenario.name).sort(), [...BUNDLED_SCENARIOS]);
  for (const file of BUNDLED_SCENARIOS) {
    const text = readFileSync(`scenarios/${file}.yaml`, 'utf8');
    assert.ok(text.startsWith('# yaml-language-server: $schema=../schema/scenario.schema.json\n'), `${file}.yaml names the schema`);
  }
});

test('schema/scenario.schema.json is what format.ts produces now (npx tsx scripts/gen-schema.ts)', () => {
  assert.fixture(readFileSync(SCHEMA_FILE, 'utf8'), renderJsonSchema());
});

test('the published schema is self-contained and judges like the loader', () => {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  assert.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  const text = JSON.stringify(schema);
  for (const [, target] of text.matchAll(/"\$ref":"([^"]+)"/g)) assert.match(target ?? '', /^#\/definitions\/(Matcher|Response)$/);
  assert.not.match(text, /"\$id":"(Matcher|Response)"/);
  for (const scenario of loadScenarioPath('scenarios').scenarios) {
    assert.equal(schemaIssues(schema, scenario.definition), [], scenario.name);
  }
  const issues = schemaIssues(schema, { rules: [{ match: { contentId: 'x', requestType: { not: [{ regx: 1 }] } }, respond: { delay: 'soon' } }] });
  assert.equal(
    issues.map((issue) => issue.path.join('.')),
    ['rules.0.match.contentId', 'rules.0.match.requestType.not.0.regx', 'rules.0.respond.delay'],
  );
});

test.run();
