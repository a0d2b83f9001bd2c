/**
 * The compiled scenario's second index (bench: 100k-rule scenarios): pattern rules filed by
 * the first character their contentID must start with. Rule order must be exactly as if
 * every rule were tried in turn.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileScenario } from '../src/scenario/runtime/compile.js';
import { seededRandom } from '../src/scenario/runtime/random.js';
import type { CompiledScenario } from '../src/scenario/runtime/engine.js';
import type { Scenario } from '../src/scenario/format/format.js';

const client = { cn: 'license-server', fingerprint: 'ab'.repeat(32), authorized: true };

function compile(definition: Scenario): CompiledScenario {
  return compileScenario({ name: 'test', file: 'test.yaml', definition }, seededRandom(1));
}

function ruleOf(scenario: CompiledScenario, contentID: string, customerCookie?: string): string | null {
  const request = { messageID: '6f1f3b4e-1d3a-4c6e-9b7e-0f2a1c3d4e5f', version: 1, contentID, ...(customerCookie ? { customerCookie } : {}) };
  return scenario.answer({ request, client }).rule;
}

test('exact, first-character and unindexable rules answer in rule order', () => {
  const scenario = compile({
    rules: [
      { name: 'glob-a', match: { contentID: 'a*-late' }, respond: {} },
      { name: 'exact-ab', match: { contentID: 'ab-late' }, respond: {} },
      { name: 'regex-b', match: { contentID: { regex: '^b[0-9]+$' } }, respond: {} },
      { name: 'any-suffix', match: { contentID: '*-x' }, respond: {} },
      { name: 'exact-b1', match: { contentID: 'b1' }, respond: {} },
      { name: 'list', match: { contentID: ['c?', { glob: 'd*' }, 'e'] }, respond: {} },
      { name: 'unanchored', match: { contentID: { regex: 'zz' } }, respond: {} },
      { name: 'optional-first', match: { contentID: { regex: '^f?g' } }, respond: {} },
      { name: 'alternation', match: { contentID: { regex: '^h|k' } }, respond: {} },
      { name: 'cookie-and-glob', match: { contentID: 'm*', customerCookie: 'yes' }, respond: {} },
      { name: 'catch-all', respond: {} },
    ],
  });
  assert.is(ruleOf(scenario, 'ab-late'), 'glob-a', 'an earlier glob beats a later exact rule');
  assert.is(ruleOf(scenario, 'b1'), 'regex-b', 'an earlier anchored regex beats a later exact rule');
  assert.is(ruleOf(scenario, 'b1-x'), 'any-suffix', 'a glob starting with * is tried for every contentID');
  assert.is(ruleOf(scenario, 'c1'), 'list');
  assert.is(ruleOf(scenario, 'dog'), 'list');
  assert.is(ruleOf(scenario, 'e'), 'list');
  assert.is(ruleOf(scenario, 'ezz'), 'unanchored');
  assert.is(ruleOf(scenario, 'g1'), 'optional-first', 'a first character made optional does not file the rule under it');
  assert.is(ruleOf(scenario, 'ok'), 'alternation', 'an alternation does not file the rule under its first branch');
  assert.is(ruleOf(scenario, 'mom'), 'catch-all', 'other conditions still apply');
  assert.is(ruleOf(scenario, 'mom', 'yes'), 'cookie-and-glob');
  assert.is(ruleOf(scenario, ''), 'catch-all', 'an empty contentID has no first character');
  assert.is(ruleOf(scenario, 'Ab-late'), 'catch-all', 'first characters are compared exactly');
});

test('times: a used-up pattern rule hands over to the next rule in order', () => {
  const scenario = compile({
    rules: [
      { name: 'first-two', match: { contentID: 'x*' }, times: 2, respond: {} },
      { name: 'exact', match: { contentID: 'x1' }, respond: {} },
    ],
  });
  assert.equal(['x1', 'x1', 'x1'].map((id) => ruleOf(scenario, id)), ['first-two', 'first-two', 'exact']);
});

test.run();
