/** A rule set compiled with shared state: counts and states are taken from the holder; stateless rules never ask it; a holder that fails gives a 503. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileScenario } from '../src/scenario/runtime/compile.js';
import { seededRandom } from '../src/scenario/runtime/random.js';
import type { CompiledScenario, Decision, RequestFacts } from '../src/scenario/runtime/engine.js';
import type { Scenario } from '../src/scenario/format/format.js';
import { MemoryRuleState, type SharedRuleState } from '../src/scenario/runtime/state/shared.js';

const client = { cn: 'license-server', fingerprint: 'ab'.repeat(32), authorized: true };
const facts = (contentID: string, customerCookie?: string): RequestFacts => ({
  request: { messageID: 'm', version: 1, contentID, ...(customerCookie === undefined ? {} : { customerCookie }) },
  client,
});

/** Counts every call to the holder, and can be made to fail. */
class WatchedState extends MemoryRuleState {
  calls = 0;
  failing = false;
  override readonly description: string = 'the test holder';
  private check(): void {
    this.calls++;
    if (this.failing) throw new Error('connection refused');
  }
  override async take(scope: string, counter: string, limit: number) {
    this.check();
    return super.take(scope, counter, limit);
  }
  override async getState(scope: string, key: string) {
    this.check();
    return super.getState(scope, key);
  }
  override async setState(scope: string, key: string, state: string, ttlMs: number | null) {
    this.check();
    return super.setState(scope, key, state, ttlMs);
  }
  override async counts(scope: string, counters: readonly string[]) {
    this.check();
    return super.counts(scope, counters);
  }
}

function compile(definition: Scenario, store: SharedRuleState): CompiledScenario {
  return compileScenario({ name: 'shared', file: 'shared.yaml', definition }, seededRandom(1), { store, scope: 'scenario:shared' });
}

const SCENARIO: Scenario = {
  rules: [
    { name: 'plain', match: { contentID: 'plain' }, respond: {} },
    { name: 'steps', match: { contentID: 'steps' }, sequence: [{ status: 200 }, { status: 500 }, { status: 503 }] },
    { name: 'once', match: { contentID: 'once' }, times: 1, respond: {} },
    { name: 'per-cookie', match: { contentID: 'per' }, perKey: 'customerCookie', sequence: [{ status: 200 }, { status: 500 }] },
  ],
};

const statusOf = (decision: Decision) => (decision.plan.kind === 'fault' ? decision.plan.fault : decision.plan.status);

test('a stateless rule is answered synchronously without asking the holder', () => {
  const store = new WatchedState();
  const decision = compile(SCENARIO, store).decide(facts('plain'));
  assert.not.ok(decision instanceof Promise);
  assert.is((decision as Decision).rule, 'plain');
  assert.is(store.calls, 0);
});

test('two compilations of one rule set share its sequence, times and perKey counts through the holder', async () => {
  const store = new WatchedState();
  const [a, b] = [compile(SCENARIO, store), compile(SCENARIO, store)];
  const steps = [];
  for (const runtime of [a, b, a, b]) steps.push((await runtime.decide(facts('steps'))).step);
  assert.equal(steps, [0, 1, 2, 2]);
  assert.is((await a.decide(facts('once'))).rule, 'once');
  const second = await b.decide(facts('once'));
  assert.is(second.rule, null, 'times: 1 is used up for every process');
  assert.equal(second.nearMisses?.find((miss) => miss.rule === 'once'), { rule: 'once', failed: [{ key: 'times', reason: 'already answered 1 of times: 1' }] });
  assert.equal([await a.decide(facts('per', 'x')), await b.decide(facts('per', 'y')), await b.decide(facts('per', 'x'))].map(statusOf), [200, 200, 500]);
});

test('per-key state is read and set through the holder, with its lifetime', async () => {
  let now = 1_000;
  const store = new MemoryRuleState(() => now);
  const definition: Scenario = {
    stateTtl: '1s',
    rules: [
      { name: 'bound', match: { state: 'registered' }, respond: { isAllowed: true } },
      { name: 'register', match: { requestType: 2 }, respond: { setState: 'registered' } },
      { name: 'refuse', respond: { isAllowed: false } },
    ],
  };
  const [a, b] = [compile(definition, store), compile(definition, store)];
  const type = (requestType: 2 | 3): RequestFacts => ({ ...facts('c', 'cookie'), request: { ...facts('c', 'cookie').request, requestType } });
  assert.is((await a.decide(type(3))).rule, 'refuse');
  const registered = await a.decide(type(2));
  assert.equal(registered.state, { key: 'cookie', before: null, after: 'registered' });
  assert.is((await b.decide(type(3))).rule, 'bound', 'the other process sees the state');
  now += 1_000;
  assert.is((await b.decide(type(3))).rule, 'refuse', 'the state expired for everyone');
});

test('a holder that fails: counted rules answer 503 naming it, with a journal problem; stateless rules still answer', async () => {
  const store = new WatchedState();
  const runtime = compile(SCENARIO, store);
  store.failing = true;
  const failed = await runtime.decide(facts('steps'));
  assert.is(statusOf(failed), 503);
  assert.is(failed.rule, 'steps');
  const body = (failed.plan as { body: Record<string, unknown> }).body;
  assert.is(body.isAllowed, false);
  assert.match(String(body.errorText), /the test holder did not answer \(connection refused\): the count of rule "steps"/);
  assert.match(failed.problems?.[0] ?? '', /^shared state unavailable: /);
  assert.is((runtime.decide(facts('plain')) as Decision).rule, 'plain');
  store.failing = false;
  assert.is((await runtime.decide(facts('steps'))).step, 0, 'it recovers, and the failed request counted nothing');
});

test.run();
