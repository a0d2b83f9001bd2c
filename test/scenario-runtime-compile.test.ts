/** A compiled scenario decides the answers: rule order, counters, responses, invalid/unmatched, the contentID index. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileScenario, DEFAULT_EP_TOKEN_URL, ScenarioCompileError } from '../src/scenario/runtime/compile.js';
import { seededRandom } from '../src/scenario/runtime/random.js';
import type { CompiledScenario, Decision, RequestFacts } from '../src/scenario/runtime/engine.js';
import type { ResponsePlan } from '../src/respond/plan.js';
import type { Rule, Scenario } from '../src/scenario/format/format.js';
import { parseScenarioText } from '../src/scenario/format/parse.js';
import { formatPath } from '../src/scenario/format/positions.js';
import type { EntitlementRequest } from '../src/protocol/types.js';

const MESSAGE_ID = '6f1f3b4e-1d3a-4c6e-9b7e-0f2a1c3d4e5f';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const client = { cn: 'license-server', fingerprint: 'ab'.repeat(32), authorized: true };

function compile(definition: Scenario, seed = 1): CompiledScenario {
  return compileScenario({ name: 'test', file: 'test.yaml', definition }, seededRandom(seed));
}

function facts(contentID: string, more: Partial<EntitlementRequest> = {}): RequestFacts {
  return { request: { messageID: MESSAGE_ID, version: 1, contentID, ...more }, client };
}

function json(decision: Decision): Record<string, unknown> {
  const plan = decision.plan;
  if (plan.kind !== 'json') throw new Error(`expected a JSON plan, got ${JSON.stringify(plan)}`);
  return plan.body;
}

function ruleOf(scenario: CompiledScenario, contentID: string, more: Partial<EntitlementRequest> = {}): string | null {
  return scenario.answer(facts(contentID, more)).rule;
}

const FAIRPLAY_URL = /^https:\/\/fp\.service\.expressplay\.com:80\/hms\/fp\/rights\/\?ExpressPlayToken=[A-Za-z0-9_-]{43}$/;

// --- rule order and counters ---------------------------------------------------

test('the first matching rule answers; unnamed rules are rule-<n>', () => {
  const scenario = compile({
    rules: [
      { name: 'denied', match: { contentID: 'denied-*' }, respond: { isAllowed: false } },
      { match: { contentID: 'denied-1' }, respond: {} },
      { match: { customerCookie: { exists: true } }, respond: {} },
    ],
  });
  assert.equal(scenario.ruleNames, ['denied', 'rule-2', 'rule-3']);
  assert.is(ruleOf(scenario, 'denied-1'), 'denied', 'the earlier glob wins over the later exact rule');
  assert.is(ruleOf(scenario, 'x', { customerCookie: 'c' }), 'rule-3');
  assert.is(ruleOf(scenario, 'x'), null);
  assert.is(scenario.name, 'test');
  assert.is(scenario.file, 'test.yaml');
  assert.is(scenario.description, '');
});

test('all given keys must match, including client identity', () => {
  const scenario = compile({
    rules: [
      { name: 'both', match: { contentID: 'a', requestType: [2, 3], clientCN: 'license-server', clientAuthorized: true }, respond: {} },
      { name: 'fingerprint', match: { clientFingerprint: 'ab'.repeat(32), version: 2 }, respond: {} },
      { name: 'no-cert', match: { clientCN: { exists: false } }, respond: {} },
    ],
  });
  assert.is(ruleOf(scenario, 'a', { requestType: 2 }), 'both');
  assert.is(ruleOf(scenario, 'a', { requestType: 1 }), null);
  assert.is(ruleOf(scenario, 'b', { version: 2 }), 'fingerprint');
  const anonymous = { request: { messageID: MESSAGE_ID, version: 1, contentID: 'a', requestType: 2 as const }, client: { cn: null, fingerprint: null, authorized: false } };
  assert.is(scenario.answer(anonymous).rule, 'no-cert', 'a null CN is an absent clientCN');
});

test('times: after N matches the rule is skipped (faults count)', () => {
  const scenario = compile({
    rules: [
      { name: 'first-two-hang', match: { contentID: 'timeout-then-ok' }, times: 2, respond: { fault: 'hang' } },
      { name: 'everything-else', respond: { isAllowed: true } },
    ],
  });
  const answers = [1, 2, 3, 4].map(() => scenario.answer(facts('timeout-then-ok')));
  assert.equal(answers.map((d) => d.rule), ['first-two-hang', 'first-two-hang', 'everything-else', 'everything-else']);
  assert.equal(answers[0]!.plan, { kind: 'fault', fault: 'hang', delayMs: 0 });
  assert.is(answers[0]!.step, null);
});

test('sequence: one step per matching request, faults included; the last step repeats', () => {
  const scenario = compile({
    rules: [
      {
        name: 'flaky-backend',
        match: { contentID: 'flaky' },
        sequence: [{ fault: 'reset' }, { status: 503, headers: { 'Retry-After': '1' }, body: 'busy' }, { isAllowed: true }],
      },
    ],
  });
  const answers = [1, 2, 3, 4].map(() => scenario.answer(facts('flaky')));
  assert.equal(answers.map((d) => d.step), [0, 1, 2, 2]);
  assert.equal(answers[0]!.plan, { kind: 'fault', fault: 'reset', delayMs: 0 });
  assert.equal(answers[1]!.plan, { kind: 'raw', status: 503, headers: { 'Retry-After': '1' }, body: 'busy', delayMs: 0, delivery: 'whole' });
  assert.is(json(answers[3]!).isAllowed, true);
  assert.is(ruleOf(scenario, 'other'), null, 'a request the rule does not match takes no step');
  assert.is(scenario.answer(facts('flaky')).step, 2);
});

test('sequence with loop: true restarts after the last step', () => {
  const scenario = compile({ rules: [{ sequence: [{ status: 200 }, { status: 500 }], loop: true }] });
  const steps = [1, 2, 3, 4, 5].map(() => scenario.answer(facts('x')));
  assert.equal(steps.map((d) => d.step), [0, 1, 0, 1, 0]);
  assert.equal(steps.map((d) => (d.plan as { status: number }).status), [200, 500, 200, 500, 200]);
});

test('sequence and times together share the rule counter', () => {
  const scenario = compile({ rules: [{ name: 's', times: 3, sequence: [{ status: 201 }, { status: 202 }] }, { name: 'after', respond: {} }] });
  assert.equal([1, 2, 3, 4].map(() => scenario.answer(facts('x'))).map((d) => `${d.rule}:${d.step}`), ['s:0', 's:1', 's:1', 'after:null']);
});

test('resetCounters restores times and sequences', () => {
  const scenario = compile({
    rules: [
      { name: 'once', match: { contentID: 'a' }, times: 1, respond: {} },
      { name: 'seq', match: { contentID: 'b' }, sequence: [{}, {}, {}] },
    ],
  });
  assert.is(ruleOf(scenario, 'a'), 'once');
  assert.is(ruleOf(scenario, 'a'), null);
  scenario.answer(facts('b'));
  assert.is(scenario.answer(facts('b')).step, 1);
  scenario.resetCounters();
  assert.is(ruleOf(scenario, 'a'), 'once');
  assert.is(scenario.answer(facts('b')).step, 0);
});

test('random: picks by weight, reproducibly with a seed', () => {
  const definition: Scenario = { rules: [{ random: [{ weight: 95, isAllowed: true }, { weight: 5, fault: 'hang' }] }] };
  const choices = (seed: number) => {
    const scenario = compile(definition, seed);
    return Array.from({ length: 10_000 }, () => scenario.answer(facts('x')).plan.kind);
  };
  const first = choices(42);
  const hangs = first.filter((kind) => kind === 'fault').length;
  assert.ok(hangs > 400 && hangs < 600, `about 5% hang: ${hangs}`);
  assert.equal(choices(42), first, 'same seed, same choices');
  assert.not.equal(choices(43), first, 'another seed, other choices');
  const three = compile({ rules: [{ random: [{ weight: 1, status: 201 }, { weight: 2, status: 202 }, { weight: 1, status: 203 }] }] }, 7);
  const counts: Record<number, number> = { 201: 0, 202: 0, 203: 0 };
  for (let i = 0; i < 8000; i++) counts[(three.answer(facts('x')).plan as { status: number }).status]! += 1;
  assert.ok(counts[201]! > 1800 && counts[201]! < 2200, JSON.stringify(counts));
  assert.ok(counts[202]! > 3700 && counts[202]! < 4300, JSON.stringify(counts));
  assert.ok(counts[203]! > 1800 && counts[203]! < 2200, JSON.stringify(counts));
});

// --- responses -------------------------------------------------------------------

test('the default response allows, echoes, and carries a fresh FairPlay token URL', () => {
  const decision = compile({ rules: [{ respond: {} }] }).answer(facts('movie'));
  const plan = decision.plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.is(plan.kind, 'json');
  assert.is(plan.status, 200);
  assert.equal(plan.headers, {});
  assert.is(plan.delayMs, 0);
  assert.is(plan.delivery, 'whole');
  assert.equal(Object.keys(plan.body), ['messageID', 'version', 'isAllowed', 'epTokenURL']);
  assert.is(plan.body.messageID, MESSAGE_ID);
  assert.is(plan.body.version, 1);
  assert.is(plan.body.isAllowed, true);
  assert.match(plan.body.epTokenURL as string, FAIRPLAY_URL);
  assert.ok(DEFAULT_EP_TOKEN_URL.endsWith('ExpressPlayToken={{token}}'));
  const again = compile({ rules: [{ respond: {} }] }).answer(facts('movie'));
  assert.is.not(json(again).epTokenURL, plan.body.epTokenURL, 'a fresh token each time');
});

test('messageID: mismatch is another valid GUID; literals are sent as written', () => {
  const scenario = compile({
    rules: [
      { match: { contentID: 'mismatch' }, respond: { messageID: 'mismatch' } },
      { match: { contentID: 'literal' }, respond: { messageID: 'not-a-guid' } },
      { match: { contentID: 'number' }, respond: { messageID: 5, version: 'echo' } },
    ],
  });
  for (let i = 0; i < 20; i++) {
    const id = json(scenario.answer(facts('mismatch'))).messageID as string;
    assert.match(id, GUID);
    assert.is.not(id, MESSAGE_ID);
  }
  assert.is(json(scenario.answer(facts('literal'))).messageID, 'not-a-guid');
  const number = json(scenario.answer(facts('number', { version: 3 })));
  assert.is(number.messageID, 5);
  assert.is(number.version, 3);
});

test('literal version, isAllowed "yes", error and errorText as written', () => {
  const scenario = compile({
    rules: [
      { match: { contentID: 'v' }, respond: { version: 2 } },
      { match: { contentID: 'vs' }, respond: { version: '1' } },
      { match: { contentID: 'yes' }, respond: { isAllowed: 'yes' } },
      { match: { contentID: 'denied-*' }, respond: { isAllowed: false, error: 403, errorText: 'not entitled to {{contentID}}' } },
      { match: { contentID: 'odd' }, respond: { isAllowed: false, error: -2033, errorText: 17, epTokenURL: 'x://{{contentID}}' } },
    ],
  });
  assert.is(json(scenario.answer(facts('v'))).version, 2);
  assert.is(json(scenario.answer(facts('vs'))).version, '1');
  const yes = json(scenario.answer(facts('yes')));
  assert.is(yes.isAllowed, 'yes');
  assert.match(yes.epTokenURL as string, FAIRPLAY_URL, 'not false, so the built-in URL');
  assert.equal(json(scenario.answer(facts('denied-a b'))), {
    messageID: MESSAGE_ID,
    version: 1,
    isAllowed: false,
    epTokenURL: '',
    error: 403,
    errorText: 'not entitled to denied-a b',
  });
  const odd = json(scenario.answer(facts('odd')));
  assert.is(odd.error, -2033);
  assert.is(odd.errorText, 17);
  assert.is(odd.epTokenURL, 'x://odd');
});

test('extra adds fields (and wins), omit leaves fields out', () => {
  const scenario = compile({
    rules: [
      { match: { contentID: 'extra' }, respond: { extra: { licenseType: 'rental', isAllowed: 1, nested: { a: [1] } } } },
      { match: { contentID: 'omit' }, respond: { omit: ['messageID'] } },
      { match: { contentID: 'omit2' }, respond: { omit: ['isAllowed', 'epTokenURL'] } },
    ],
  });
  const extra = json(scenario.answer(facts('extra')));
  assert.is(extra.licenseType, 'rental');
  assert.is(extra.isAllowed, 1);
  assert.equal(extra.nested, { a: [1] });
  assert.ok(Object.isFrozen(extra.nested), 'shared values are frozen');
  assert.equal(Object.keys(json(scenario.answer(facts('omit')))), ['version', 'isAllowed', 'epTokenURL']);
  assert.equal(Object.keys(json(scenario.answer(facts('omit2')))), ['messageID', 'version']);
});

test('an extra field named __proto__ is a plain field', () => {
  const extra = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  const body = json(compile({ rules: [{ respond: { extra } }] }).answer(facts('x')));
  assert.is(JSON.stringify(body).includes('"__proto__":{"polluted":true}'), true);
  assert.is((body as { polluted?: unknown }).polluted, undefined);
  assert.is(({} as { polluted?: unknown }).polluted, undefined);
});

test('status, headers, raw body, delays and delivery faults', () => {
  const scenario = compile(
    {
      rules: [
        { match: { contentID: 'raw' }, respond: { status: 500, headers: { 'Content-Type': 'text/html', 'X-Count': 3 }, body: '<h1>oops</h1>' } },
        { match: { contentID: 'delay' }, respond: { delay: '250ms' } },
        { match: { contentID: 'uniform' }, respond: { delay: { min: 100, max: '200ms' } } },
        { match: { contentID: 'slow' }, respond: { fault: 'slow', delay: '2s' } },
        { match: { contentID: 'partial' }, respond: { fault: 'partial', body: '{"messageID":' } },
        { match: { contentID: 'close' }, respond: { fault: 'close', delay: 50, status: 500 } },
      ],
    },
    3,
  );
  assert.equal(scenario.answer(facts('raw')).plan, {
    kind: 'raw',
    status: 500,
    headers: { 'Content-Type': 'text/html', 'X-Count': '3' },
    body: '<h1>oops</h1>',
    delayMs: 0,
    delivery: 'whole',
  });
  assert.is(scenario.answer(facts('delay')).plan.delayMs, 250);
  const uniform = Array.from({ length: 200 }, () => scenario.answer(facts('uniform')).plan.delayMs);
  assert.ok(uniform.every((ms) => ms >= 100 && ms <= 200));
  assert.ok(new Set(uniform).size > 20, 'varies per request');
  const slow = scenario.answer(facts('slow')).plan;
  assert.is(slow.kind, 'json');
  assert.is((slow as { delivery: string }).delivery, 'slow');
  assert.is(slow.delayMs, 2000);
  const partial = scenario.answer(facts('partial')).plan;
  assert.is(partial.kind, 'raw');
  assert.is((partial as { delivery: string }).delivery, 'partial');
  assert.equal(scenario.answer(facts('close')).plan, { kind: 'fault', fault: 'close', delayMs: 50 });
});

test('answers are fresh objects: changing one does not change the next', () => {
  const scenario = compile({ rules: [{ respond: { headers: { 'X-A': 'a' } } }] });
  const first = scenario.answer(facts('x')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  first.headers['X-B'] = 'b';
  first.body.isAllowed = 'changed';
  const second = scenario.answer(facts('x')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.equal(second.headers, { 'X-A': 'a' });
  assert.is(second.body.isAllowed, true);
});

test('defaults are merged under rule responses, sequence steps and random choices', () => {
  const scenario = compile({
    defaults: {
      epTokenURL: 'https://x.test/?t=MOCK-{{contentID}}',
      headers: { 'X-Mock': 'yes', 'Content-Type': 'application/json; charset=utf-8' },
      extra: { a: 1, b: 2 },
      delay: 10,
    },
    rules: [
      { match: { contentID: 'plain' }, respond: {} },
      { match: { contentID: 'over' }, respond: { headers: { 'content-type': 'text/plain' }, extra: { b: 3 }, delay: 0 } },
      { match: { contentID: 'denied' }, respond: { isAllowed: false } },
      { match: { contentID: 'seq' }, sequence: [{ status: 201 }] },
      { match: { contentID: 'rnd' }, random: [{ weight: 1, status: 202 }] },
    ],
  });
  const plain = scenario.answer(facts('plain/1')).plan;
  assert.is(ruleOf(scenario, 'plain'), 'rule-1');
  const plainPlan = scenario.answer(facts('plain')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.is(plain.kind, 'json', 'unmatched answers are JSON too');
  assert.is(plainPlan.body.epTokenURL, 'https://x.test/?t=MOCK-plain');
  assert.equal(plainPlan.headers, { 'X-Mock': 'yes', 'Content-Type': 'application/json; charset=utf-8' });
  assert.is(plainPlan.body.a, 1);
  assert.is(plainPlan.delayMs, 10);
  const over = scenario.answer(facts('over')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.equal(over.headers, { 'X-Mock': 'yes', 'content-type': 'text/plain' }, 'headers merge case-insensitively');
  assert.equal([over.body.a, over.body.b], [1, 3], 'extra merges entry by entry');
  assert.is(over.delayMs, 0);
  assert.is(json(scenario.answer(facts('denied'))).epTokenURL, 'https://x.test/?t=MOCK-denied', 'a default epTokenURL counts as set');
  const seq = scenario.answer(facts('seq')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.equal([seq.status, seq.body.a, seq.delayMs], [201, 1, 10]);
  const rnd = scenario.answer(facts('rnd')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.equal([rnd.status, rnd.body.a, rnd.delayMs], [202, 1, 10]);
  assert.not.ok('weight' in rnd.body);
  const unmatched = scenario.answer(facts('zzz')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.is(unmatched.body.epTokenURL, '', 'defaults do not apply to unmatched');
  assert.is(unmatched.delayMs, 0);
  assert.equal(unmatched.headers, {});
});

// --- invalid and unmatched --------------------------------------------------------

test('invalid requests: built-in 400 naming every problem', () => {
  const scenario = compile({ rules: [{ respond: {} }] });
  const decision = scenario.answerInvalid({
    request: { messageID: 'm-1', version: 'abc', contentID: 5 },
    problems: ['version: expected a positive integer', 'contentID: expected a string'],
    client,
  });
  assert.is(decision.rule, null);
  assert.is(decision.step, null);
  assert.is(decision.scenario, 'test');
  const plan = decision.plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.is(plan.status, 400);
  assert.equal(plan.body, {
    messageID: 'm-1',
    version: 1,
    isAllowed: false,
    epTokenURL: '',
    error: 400,
    errorText: 'version: expected a positive integer; contentID: expected a string',
  });
  const notJson = scenario.answerInvalid({ request: null, problems: ['body is not JSON'], client });
  assert.equal(json(notJson), { version: 1, isAllowed: false, epTokenURL: '', error: 400, errorText: 'body is not JSON' }, 'no messageID to echo');
  const numericVersion = scenario.answerInvalid({ request: { messageID: 7, version: '2' }, problems: ['x'], client });
  assert.equal([json(numericVersion).messageID, json(numericVersion).version], [undefined, 2]);
  const array = scenario.answerInvalid({ request: [1, 2], problems: ['not an object'], client });
  assert.is(json(array).errorText, 'not an object');
});

test("the scenario's invalid: response is merged over the built-in one; templates see the raw request", () => {
  const scenario = compile({
    defaults: { isAllowed: true, status: 299 },
    invalid: { status: 422, errorText: 'bad request for {{contentID}} ({{customerCookie}})', messageID: 'mismatch' },
  });
  const plan = scenario.answerInvalid({ request: { contentID: 'c-1', messageID: 'm-1', customerCookie: 'x'.repeat(40) }, problems: ['customerCookie: too long'], client })
    .plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.is(plan.status, 422);
  assert.is(plan.body.isAllowed, false, 'defaults: do not reach invalid answers');
  assert.is(plan.body.error, 400);
  assert.is(plan.body.errorText, `bad request for c-1 (${'x'.repeat(40)})`);
  assert.match(plan.body.messageID as string, GUID);
  assert.is.not(plan.body.messageID, 'm-1');
});

test('unmatched: built-in 404 naming the scenario and contentID, with near misses', () => {
  const scenario = compile({
    rules: [
      { name: 'far', match: { contentID: 'x', requestType: [2, 3], customerCookie: 'q' }, respond: {} },
      { name: 'denied-content', match: { contentID: 'denied-*' }, respond: {} },
      { name: 'needs-cookie', match: { contentID: 'zzz', customerCookie: { exists: true } }, respond: {} },
      { name: 'two-off', match: { contentID: 'y', customerCookie: 'q' }, respond: {} },
      { name: 'type-1', match: { contentID: 'zzz', requestType: 1 }, respond: {} },
      { name: 'late-one-off', match: { requestType: 1 }, respond: {} },
    ],
  });
  const decision = scenario.answer(facts('zzz'));
  assert.is(decision.rule, null);
  assert.is(decision.step, null);
  const plan = decision.plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.is(plan.status, 404);
  assert.equal(plan.body, {
    messageID: MESSAGE_ID,
    version: 1,
    isAllowed: false,
    epTokenURL: '',
    error: 404,
    errorText: 'no rule of scenario "test" matched contentID "zzz"',
  });
  assert.equal(decision.nearMisses, [
    { rule: 'denied-content', failed: [{ key: 'contentID', reason: 'wanted glob "denied-*", got "zzz"' }] },
    { rule: 'needs-cookie', failed: [{ key: 'customerCookie', reason: 'wanted exists, got nothing' }] },
    { rule: 'type-1', failed: [{ key: 'requestType', reason: 'wanted equals 1, got nothing' }] },
  ]);
});

test('near misses: fewest failed keys first, a used-up rule fails on times', () => {
  const scenario = compile({
    rules: [
      { name: 'two-off', match: { contentID: 'y', customerCookie: 'q' }, respond: {} },
      { name: 'once', match: { contentID: 'zzz' }, times: 1, respond: {} },
      { name: 'one-off', match: { customerCookie: 'q' }, respond: {} },
    ],
  });
  assert.is(ruleOf(scenario, 'zzz'), 'once');
  const decision = scenario.answer(facts('zzz'));
  assert.is(decision.rule, null);
  assert.equal(decision.nearMisses, [
    { rule: 'once', failed: [{ key: 'times', reason: 'already answered 1 of times: 1' }] },
    { rule: 'one-off', failed: [{ key: 'customerCookie', reason: 'wanted exact "q", got nothing' }] },
    {
      rule: 'two-off',
      failed: [
        { key: 'contentID', reason: 'wanted exact "y", got "zzz"' },
        { key: 'customerCookie', reason: 'wanted exact "q", got nothing' },
      ],
    },
  ]);
  assert.equal(compile({}).answer(facts('a')).nearMisses, [], 'no rules, no near misses');
});

test("the scenario's unmatched: response is merged over the built-in one", () => {
  const scenario = compile({ unmatched: { status: 200, isAllowed: true, omit: ['error', 'errorText'] } });
  const plan = scenario.answer(facts('zzz')).plan as Extract<ResponsePlan, { kind: 'json' }>;
  assert.is(plan.status, 200);
  assert.equal(Object.keys(plan.body), ['messageID', 'version', 'isAllowed', 'epTokenURL']);
  assert.match(plan.body.epTokenURL as string, FAIRPLAY_URL);
});

// --- the contentID index ----------------------------------------------------------

test('index: rule order holds between indexed and unindexed rules', () => {
  const scenario = compile({
    rules: [
      { name: 'exact-with-cookie', match: { contentID: 'movie-1', customerCookie: 'x' }, respond: {} },
      { name: 'glob-type-3', match: { contentID: 'movie-*', requestType: 3 }, respond: {} },
      { name: 'list', match: { contentID: ['movie-1', 'movie-2', 'movie-1'] }, times: 1, respond: {} },
      { name: 'numeric', match: { contentID: 12345 }, respond: {} },
      { name: 'equals', match: { contentID: { equals: 'movie-*' } }, respond: {} },
      { name: 'late-glob', match: { contentID: 'movie-?' }, respond: {} },
      { name: 'late-exact', match: { contentID: 'movie-1' }, respond: {} },
    ],
  });
  assert.is(ruleOf(scenario, 'movie-1', { customerCookie: 'x' }), 'exact-with-cookie');
  assert.is(ruleOf(scenario, 'movie-1', { requestType: 3 }), 'glob-type-3', 'an earlier glob beats a later indexed rule');
  assert.is(ruleOf(scenario, 'movie-1', { requestType: 2 }), 'list');
  assert.is(ruleOf(scenario, 'movie-1', { requestType: 2 }), 'late-glob', 'times used up: the next rule in order');
  assert.is(ruleOf(scenario, 'movie-2'), 'late-glob');
  assert.is(ruleOf(scenario, '12345'), 'numeric');
  assert.is(ruleOf(scenario, 'movie-*'), 'equals');
  assert.is(ruleOf(scenario, 'movie-10'), null);
  scenario.resetCounters();
  assert.is(ruleOf(scenario, 'movie-2'), 'list');
});

test('100,000 exact rules plus a few hundred glob/regex rules: compiled quickly, answered correctly', () => {
  const rules: Rule[] = [{ name: 'early-glob', match: { contentID: 'content-99999*' }, respond: { status: 299 } }];
  for (let i = 0; i < 100_000; i++) {
    rules.push({ name: `exact-${i}`, match: { contentID: `content-${i}` }, respond: { isAllowed: i % 2 === 0, error: i % 2 === 0 ? undefined : 403 } });
  }
  for (let i = 0; i < 300; i++) {
    rules.push(
      i % 2 === 0
        ? { name: `glob-${i}`, match: { contentID: `glob-${i}-*` }, respond: { status: 201 } }
        : { name: `regex-${i}`, match: { contentID: { regex: `^re-${i}-[0-9]+$` } }, respond: { status: 202 } },
    );
  }
  rules.push({ name: 'catch-all', match: { customerCookie: { not: 'blocked' } }, respond: {} });

  const started = performance.now();
  const scenario = compile({ rules });
  const compileMs = performance.now() - started;

  assert.is(scenario.ruleNames.length, 100_302);
  assert.is(ruleOf(scenario, 'content-0'), 'exact-0');
  assert.is(ruleOf(scenario, 'content-77777'), 'exact-77777');
  assert.is(json(scenario.answer(facts('content-77777'))).isAllowed, false);
  assert.is(json(scenario.answer(facts('content-77777'))).error, 403);
  assert.is(ruleOf(scenario, 'content-99999'), 'early-glob', 'an earlier glob still wins over an indexed rule');
  assert.is(ruleOf(scenario, 'content-99998'), 'exact-99998');
  assert.is(ruleOf(scenario, 'glob-298-x'), 'glob-298');
  assert.is(ruleOf(scenario, 're-299-42'), 'regex-299');
  assert.is(ruleOf(scenario, 'nothing'), 'catch-all');
  const unmatched = scenario.answer(facts('nothing', { customerCookie: 'blocked' }));
  assert.is(unmatched.rule, null);
  assert.is(unmatched.nearMisses?.length, 3);

  const ids = Array.from({ length: 20_000 }, (_, i) => `content-${(i * 7919) % 100_000}`);
  const answerStarted = performance.now();
  for (const id of ids) scenario.answer(facts(id));
  const perRequestUs = ((performance.now() - answerStarted) * 1000) / ids.length;
  console.log(`    100,302 rules: compiled in ${compileMs.toFixed(0)} ms; ${perRequestUs.toFixed(1)} µs per answer`);
});

test('compile problems are collected with their paths', () => {
  try {
    compile({
      defaults: { delay: '2 minutes' as unknown as string },
      rules: [
        { match: { contentID: { regex: '(a+)+$' } }, respond: {} },
        { respond: { errorText: 'bad {{nope}}' } },
        { match: { contentID: 'x' } },
      ],
    });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, ScenarioCompileError);
    const problems = (error as ScenarioCompileError).problems;
    assert.equal(
      problems.map((p) => p.path),
      [['defaults', 'delay'], ['rules', 0, 'match', 'contentID', 'regex'], ['rules', 1, 'respond', 'errorText'], ['rules', 2]],
    );
    assert.match(problems[1]!.message, /catastrophic backtracking/);
    assert.match(problems[2]!.message, /unknown template variable \{\{nope\}\}/);
    assert.match((error as Error).message, /^scenario "test": defaults\.delay: invalid delay "2 minutes"/);
  }
});

test('the compiler words a check of the format as validation does (format/checks.ts)', () => {
  const definition = {
    invalid: { setState: 'x' },
    rules: [{ respond: {}, sequence: [{}] }, { respond: { setState: 'a', clearState: true } }],
  } as Scenario;
  let compiled: string[] = [];
  try {
    compile(definition);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, ScenarioCompileError);
    compiled = (error as ScenarioCompileError).problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
  }
  const validated = parseScenarioText(JSON.stringify(definition), 'test.json', { defaultName: 'test' }).errors.map((e) => e.message);
  assert.equal([...compiled].sort(), [...validated].sort());
  assert.equal(compiled, [
    'rules[0].sequence: respond and sequence cannot be combined: a rule has exactly one of respond, sequence or random',
    'rules[1].respond.clearState: setState and clearState cannot be combined: a response sets a state or clears it',
    "invalid.setState: setState applies to the rules' responses (and defaults:), not to invalid:",
  ]);
});

test('answerIfMatched: the decision (counters and state as answer() keeps them) when a rule matches; null when none does', () => {
  const scenario = compile({
    stateKey: 'customerCookie',
    rules: [
      { name: 'once', match: { contentID: 'a' }, times: 1, respond: { setState: 'seen' } },
      { name: 'seen', match: { contentID: 'b', state: 'seen' }, respond: {} },
    ],
  });
  assert.is(scenario.answerIfMatched(facts('b', { customerCookie: 'k' })), null, 'no state yet: nothing matches');
  assert.is(scenario.answerIfMatched(facts('a', { customerCookie: 'k' }))?.rule, 'once');
  assert.equal(scenario.answerIfMatched(facts('b', { customerCookie: 'k' }))?.state, { key: 'k', before: 'seen', after: 'seen' });
  assert.is(scenario.answerIfMatched(facts('a', { customerCookie: 'k' })), null, 'times: 1 used up');
  assert.is(scenario.answer(facts('z', { customerCookie: 'k' })).rule, null, 'answer() still gives the unmatched answer');
  assert.equal(Object.keys(scenario.stateListing().keys), ['k']);
});

test.run();
