/** The state keys in validation: schema errors, compile problems and lints, each positioned at the place to fix. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseScenarioText } from '../src/scenario/format/parse.js';
import { compileScenario } from '../src/scenario/runtime/compile.js';
import type { PositionedError } from '../src/scenario/format/loaded.js';

const parse = (text: string) =>
  parseScenarioText(text, 'test.yaml', { defaultName: 'test', compile: (loaded) => compileScenario(loaded, Math.random) });

function at(problems: PositionedError[], text: string): string {
  const found = problems.find((problem) => problem.message.includes(text));
  assert.ok(found, `no problem mentioning ${JSON.stringify(text)} in:\n${problems.map((p) => `${p.line}:${p.column}: ${p.message}`).join('\n')}`);
  return `${found.line}:${found.column}`;
}

test('a stateful scenario with every key loads without errors or warnings', () => {
  const result = parse(
    [
      'stateKey: "{{customerCookie}}/{{contentID}}"',
      'stateTtl: 48h',
      'rules:',
      '  - match: { requestType: 3, state: [registered, { glob: "reg*" }] }',
      '    respond: { isAllowed: true }',
      '  - match: { requestType: 2 }',
      '    respond: { setState: registered }',
      '  - match: { requestType: 1, state: { exists: true } }',
      '    perKey: customerCookie',
      '    sequence: [{ clearState: true }, { isAllowed: false }]',
      '  - respond: { isAllowed: false }',
    ].join('\n'),
  );
  assert.equal(result.errors, []);
  assert.equal(result.warnings, []);
  assert.ok(result.compiled);
});

test('schema errors: a bad stateKey, stateTtl, setState, clearState and perKey name what is expected', () => {
  const { errors } = parse(
    [
      'stateKey: cookie', // 1
      'stateTtl: soon', // 2
      'rules:',
      '  - perKey: 7', // 4
      '    respond: { setState: "", clearState: "yes" }', // 5
    ].join('\n'),
  );
  assert.is(at(errors, 'stateKey: expected a request field (customerCookie, contentID'), '1:11');
  assert.is(at(errors, 'stateTtl: expected a number of ms above 0 or a string like "30s"'), '2:11');
  assert.is(at(errors, 'perKey: expected a request field'), '4:13');
  assert.is(at(errors, 'setState: expected a state name'), '5:26');
  assert.is(at(errors, 'clearState: expected'), '5:42');
});

test('compile problems: a template naming a non-field, setState with clearState, state changes in invalid:/unmatched:, a ttl over a year', () => {
  const { errors } = parse(
    [
      'stateKey: "{{customerCookie}}-{{now}}"', // 1
      'stateTtl: 400d', // 2
      'unmatched: { setState: x }', // 3
      'rules:',
      '  - perKey: "{{uuid}}"', // 5
      '    respond: { setState: a, clearState: true }', // 6
    ].join('\n'),
  );
  assert.is(at(errors, 'stateKey: {{now}} cannot be part of a key'), '1:11');
  assert.is(at(errors, 'stateTtl: stateTtl "400d" is longer than a year'), '2:11');
  assert.is(at(errors, "unmatched.setState: setState applies to the rules' responses"), '3:24');
  assert.is(at(errors, 'rules[0].perKey: {{uuid}} cannot be part of a key'), '5:13');
  assert.is(at(errors, 'setState and clearState cannot be combined'), '6:41');
});

test('lint: a state in match that no rule sets, positioned at the value (list items and globs too)', () => {
  const { errors, warnings } = parse(
    [
      'rules:',
      '  - match: { state: registred }', // 2: typo
      '    respond: {}',
      '  - match: { state: [registered, { glob: "x*" }] }', // 4
      '    respond: {}',
      '  - match: { requestType: 2 }',
      '    respond: { setState: registered }',
    ].join('\n'),
  );
  assert.equal(errors, []);
  assert.is(at(warnings, 'rules[0].match.state: never matches: no rule sets this state (states set: "registered")'), '2:21');
  assert.is(at(warnings, 'rules[1].match.state[1].glob: never matches'), '4:42');
  assert.is(warnings.length, 2, warnings.map((w) => w.message).join('\n'));
});

test('lint: state: {exists: true} when no rule sets any state', () => {
  const { warnings } = parse('rules:\n  - match: { state: { exists: true } }\n    respond: {}\n');
  assert.is(at(warnings, 'rules[0].match.state.exists: never matches: no rule sets this state (no rule sets a state)'), '2:31');
});

test('lint: a match on the state of a key the rule itself leaves out, and a setState there', () => {
  const { warnings } = parse(
    [
      'rules:',
      '  - match: { customerCookie: { exists: false }, state: registered }', // 2
      '    respond: {}',
      '  - match: { customerCookie: { equals: null } }', // 4
      '    sequence: [{}, { setState: registered }]', // 5
    ].join('\n'),
  );
  assert.is(
    at(warnings, 'rules[0].match.state: never matches: this rule only takes requests without customerCookie, which have no state key'),
    '2:56',
  );
  assert.is(at(warnings, 'rules[1].sequence[1].setState: no effect: this rule only takes requests without customerCookie'), '5:32');
});

test('lint: stateKey/stateTtl without any state use, perKey without sequence or times', () => {
  const { warnings } = parse(['stateKey: contentID', 'stateTtl: 30s', 'rules:', '  - perKey: customerCookie', '    respond: {}'].join('\n'));
  assert.is(at(warnings, 'stateKey: no effect: no rule matches on state: or sets one'), '1:1');
  assert.is(at(warnings, 'stateTtl: no effect'), '2:1');
  assert.is(at(warnings, 'rules[0].perKey: no effect: perKey counts sequence steps and times:'), '4:5');
});

test('state: written in a response is pointed to setState', () => {
  const { errors } = parse('rules:\n  - respond: { state: registered }\n');
  assert.is(at(errors, 'to change the state after answering write setState: NAME (or clearState: true)'), '2:16');
});

test.run();
