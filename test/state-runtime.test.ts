/** Per-key state and per-key counters: the stores, their caps and expiry, and a compiled scenario using them. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileScenario } from '../src/scenario/runtime/compile.js';
import { seededRandom } from '../src/scenario/runtime/random.js';
import { StateStore } from '../src/scenario/runtime/state/store.js';
import { KeyedCounts } from '../src/scenario/runtime/state/counts.js';
import { compileKey } from '../src/scenario/runtime/state/key.js';
import { parseTtl } from '../src/scenario/runtime/state/ttl.js';
import type { CompiledScenario, Decision, RequestFacts } from '../src/scenario/runtime/engine.js';
import type { Scenario } from '../src/scenario/format/format.js';
import type { EntitlementRequest } from '../src/protocol/types.js';
import { cpuTimeOf, slack } from './helpers/slack.js';

const client = { cn: 'license-server', fingerprint: 'ab'.repeat(32), authorized: true };

function compile(definition: Scenario): CompiledScenario {
  return compileScenario({ name: 'test', file: 'test.yaml', definition }, seededRandom(1));
}

let messages = 0;
function facts(more: Partial<EntitlementRequest> = {}, cn: string | null = client.cn): RequestFacts {
  return { request: { messageID: `m-${++messages}`, version: 1, contentID: 'c', ...more }, client: { ...client, cn } };
}

function body(decision: Decision): Record<string, unknown> {
  if (decision.plan.kind !== 'json') throw new Error('expected JSON');
  return decision.plan.body;
}

// --- the state store ---------------------------------------------------------------

test('StateStore: set, get, delete, clear; a later set moves a key to the end', () => {
  const store = new StateStore(null, 10, () => 1000);
  assert.is(store.get('a'), null);
  store.set('a', 'registered');
  store.set('b', 'x');
  store.set('a', 'again');
  assert.is(store.get('a'), 'again');
  assert.equal([...store.entries()].map(([key, r]) => [key, r.state, r.setAt, r.expiresAt]), [
    ['b', 'x', 1000, null],
    ['a', 'again', 1000, null],
  ]);
  store.delete('b');
  assert.is(store.get('b'), null);
  assert.is(store.clear(), 1);
  assert.is(store.size, 0);
});

test('StateStore: a state expires ttl after it was set, read as none and dropped; a new set starts the ttl again', () => {
  let now = 0;
  const store = new StateStore(1000, 10, () => now);
  store.set('a', 'registered');
  now = 999;
  assert.is(store.get('a'), 'registered');
  store.set('b', 'registered');
  now = 1000;
  assert.is(store.get('a'), null, 'expired exactly at setAt + ttl');
  assert.is(store.size, 1, 'dropped when read');
  assert.equal([...store.entries()].map(([key, r]) => [key, r.expiresAt]), [['b', 1999]]);
  store.set('b', 'registered');
  now = 1999;
  assert.is(store.get('b'), 'registered', 'the second set (at 1000) restarted the ttl');
  now = 3000;
  assert.equal([...store.entries()], [], 'listing drops expired states');
  assert.is(store.size, 0);
});

test('StateStore: past its capacity the key set longest ago is forgotten and counted; expired ones go first, uncounted', () => {
  let now = 0;
  const store = new StateStore(100, 3, () => now);
  for (const key of ['a', 'b', 'c']) store.set(key, 's');
  store.set('a', 't'); // a is now the newest
  store.set('d', 's');
  assert.equal([...store.entries()].map(([key]) => key), ['c', 'a', 'd']);
  assert.is(store.forgotten, 1);
  now = 150; // c, a and d expired
  store.set('e', 's');
  assert.is(store.size, 1, 'expired states swept on the way');
  assert.is(store.forgotten, 1, 'expiry is not forgetting');
  store.clear();
  assert.is(store.forgotten, 0);
});

test('StateStore: 100,000 keys stay within the cap at constant cost per set', async () => {
  const store = new StateStore(null, 1000);
  const { ms } = await cpuTimeOf(() => {
    for (let i = 0; i < 100_000; i++) store.set(`cookie-${i}`, 'registered');
  });
  assert.is(store.size, 1000);
  assert.is(store.forgotten, 99_000);
  assert.is(store.get('cookie-99999'), 'registered');
  assert.is(store.get('cookie-98999'), null);
  assert.ok(ms < slack(500), `${ms} ms of CPU`);
});

test('KeyedCounts: counts per key, keyless requests share one count, the oldest key is forgotten past the cap', () => {
  const counts = new KeyedCounts(2);
  counts.set('a', 1);
  counts.set('b', 1);
  counts.set(null, 5);
  assert.equal([counts.get('a'), counts.get('b'), counts.get(null), counts.get('z')], [1, 1, 5, 0]);
  counts.set('a', 2);
  counts.set('c', 1);
  assert.equal([counts.get('a'), counts.get('b'), counts.get('c')], [2, 0, 1], 'b was counted longest ago');
  assert.equal([counts.size, counts.forgotten], [2, 1]);
  counts.reset();
  assert.equal([counts.size, counts.forgotten, counts.get(null), counts.get('a')], [0, 0, 0, 0]);
});

test('keys: a field, a template of fields; a request lacking any of them has none', () => {
  const cookie = compileKey('customerCookie');
  assert.is(cookie.of(facts({ customerCookie: 'A' })), 'A');
  assert.is(cookie.of(facts()), null);
  assert.is(compileKey('requestType').of(facts({ requestType: 2 })), '2');
  assert.is(compileKey('clientCN').of(facts({}, null)), null);
  const both = compileKey('{{customerCookie}}/{{ contentID }}');
  assert.equal(both.fields, ['customerCookie', 'contentID']);
  assert.is(both.of(facts({ customerCookie: 'A b', contentID: 'x' })), 'A b/x', 'not percent-encoded');
  assert.is(both.of(facts({ contentID: 'x' })), null);
  assert.throws(() => compileKey('cookie'), /unknown key "cookie": expected a request field \(customerCookie, contentID/);
  assert.throws(() => compileKey('{{customerCookie}}-{{token}}'), /\{\{token\}\} cannot be part of a key/);
  assert.throws(() => compileKey('{{customerCookie'), /without a matching/);
});

test('stateTtl: ms, s, m, h, d; zero, garbage and more than a year refused', () => {
  assert.equal(['250', 250, '1.5s', '10m', '48h', '7d', ' 30 s '].map((v) => parseTtl(v as string)), [250, 250, 1500, 600_000, 172_800_000, 604_800_000, 30_000]);
  assert.throws(() => parseTtl(0), /above 0/);
  assert.throws(() => parseTtl('soon'), /invalid stateTtl "soon"/);
  assert.throws(() => parseTtl('400d'), /longer than a year/);
});

// --- a compiled scenario with state ---------------------------------------------------

const DEVICE_BINDING: Scenario = {
  rules: [
    { name: 'register', match: { requestType: 2 }, respond: { setState: 'registered', errorText: 'state was {{customerCookie}}' } },
    { name: 'bound', match: { requestType: 3, state: 'registered' }, respond: { isAllowed: true } },
    { name: 'unbound', match: { requestType: 3 }, respond: { isAllowed: false, error: -2033 } },
    { name: 'forget', match: { requestType: 1, state: { exists: true } }, respond: { clearState: true } },
    { name: 'rest', respond: {} },
  ],
};

test('state: type 3 is denied until a type 2 registered the same cookie; other cookies are untouched', () => {
  const scenario = compile(DEVICE_BINDING);
  const a3 = scenario.answer(facts({ requestType: 3, customerCookie: 'A' }));
  assert.equal([a3.rule, a3.state], ['unbound', { key: 'A', before: null, after: null }]);
  const a2 = scenario.answer(facts({ requestType: 2, customerCookie: 'A' }));
  assert.equal([a2.rule, a2.state], ['register', { key: 'A', before: null, after: 'registered' }]);
  const again = scenario.answer(facts({ requestType: 3, customerCookie: 'A' }));
  assert.equal([again.rule, again.state], ['bound', { key: 'A', before: 'registered', after: 'registered' }]);
  assert.is(scenario.answer(facts({ requestType: 3, customerCookie: 'B' })).rule, 'unbound');
  const cleared = scenario.answer(facts({ requestType: 1, customerCookie: 'A' }));
  assert.equal([cleared.rule, cleared.state], ['forget', { key: 'A', before: 'registered', after: null }]);
  assert.is(scenario.answer(facts({ requestType: 3, customerCookie: 'A' })).rule, 'unbound');
});

test('state: a request without the key sees no state, and its setState is ignored with a warning', () => {
  const scenario = compile(DEVICE_BINDING);
  const register = scenario.answer(facts({ requestType: 2 }));
  assert.is(register.rule, 'register');
  assert.is(register.state, null);
  assert.equal(register.warnings, ['setState: registered of rule "register" ignored: the request has no customerCookie (stateKey customerCookie)']);
  assert.is(scenario.answer(facts({ requestType: 3 })).rule, 'unbound', 'no state without a key');
  assert.equal(Object.keys(scenario.stateListing().keys), []);
});

test('state: the unmatched answer records the state seen; near misses name the state matcher', () => {
  const scenario = compile({ rules: [{ name: 'only-registered', match: { state: 'registered' }, respond: {} }, { name: 'reg', match: { contentID: 'reg' }, respond: { setState: 'registered' } }] });
  const miss = scenario.answer(facts({ customerCookie: 'A' }));
  assert.equal([miss.rule, miss.state], [null, { key: 'A', before: null, after: null }]);
  assert.equal(miss.nearMisses?.[0], { rule: 'only-registered', failed: [{ key: 'state', reason: 'wanted exact "registered", got nothing' }] });
});

test('state: a template stateKey, stateTtl in the listing, resetCounters and clearState forget every state', () => {
  const scenario = compile({
    stateKey: '{{customerCookie}}/{{contentID}}',
    stateTtl: '30s',
    rules: [
      { name: 'seen', match: { state: 'seen' }, respond: { errorText: 'again' } },
      { name: 'first', respond: { setState: 'seen' } },
    ],
  });
  const before = Date.now();
  assert.is(scenario.answer(facts({ customerCookie: 'A', contentID: 'x' })).rule, 'first');
  assert.is(scenario.answer(facts({ customerCookie: 'A', contentID: 'x' })).rule, 'seen');
  assert.is(scenario.answer(facts({ customerCookie: 'A', contentID: 'y' })).rule, 'first', 'another content is another key');
  const listing = scenario.stateListing();
  assert.equal([listing.stateKey, listing.stateTtlMs, listing.capacity, listing.forgotten], ['{{customerCookie}}/{{contentID}}', 30_000, 100_000, 0]);
  assert.equal(Object.keys(listing.keys), ['A/x', 'A/y']);
  const entry = listing.keys['A/x']!;
  assert.is(entry.state, 'seen');
  assert.ok(Date.parse(entry.setAt) >= before - 1000);
  assert.is(Date.parse(entry.expiresAt!) - Date.parse(entry.setAt), 30_000);
  assert.is(scenario.clearState(), 2);
  assert.is(scenario.answer(facts({ customerCookie: 'A', contentID: 'x' })).rule, 'first');
  scenario.resetCounters();
  assert.equal(scenario.stateListing().keys, {});
  assert.equal(scenario.keyStats(), { stateKeys: 0, stateKeysForgotten: 0, perKeyRules: [] });
});

test('state: setState on a sequence step and a random choice; clearState wins over a defaults setState', () => {
  const scenario = compile({
    defaults: { setState: 'touched' },
    rules: [
      { name: 'steps', match: { contentID: 'steps' }, sequence: [{ errorText: 'one' }, { setState: 'two' }, { clearState: true }] },
      { name: 'pick', match: { contentID: 'pick' }, random: [{ weight: 1, setState: 'picked' }] },
    ],
  });
  const states = ['steps', 'steps', 'steps', 'pick'].map((contentID) => scenario.answer(facts({ contentID, customerCookie: 'K' })).state?.after);
  assert.equal(states, ['touched', 'two', null, 'picked']);
});

test('a scenario without state does no state work and journals state: null', () => {
  const scenario = compile({ rules: [{ respond: {} }] });
  const decision = scenario.answer(facts({ customerCookie: 'A' }));
  assert.is(decision.state ?? null, null);
  assert.is(decision.warnings, undefined);
  assert.equal(scenario.stateListing(), { stateKey: null, stateTtlMs: null, capacity: 100_000, forgotten: 0, keys: {} });
});

// --- perKey ---------------------------------------------------------------------------

test('perKey: each cookie walks its own sequence; times counts per key; keyless requests share a count', () => {
  const scenario = compile({
    rules: [
      { name: 'first-fails', match: { contentID: 'seq' }, perKey: 'customerCookie', sequence: [{ isAllowed: false }, { isAllowed: true }] },
      { name: 'twice', match: { contentID: 'limited' }, perKey: 'customerCookie', times: 2, respond: {} },
      { name: 'rest', respond: { errorText: 'rest' } },
    ],
  });
  const walk = (cookie?: string) => body(scenario.answer(facts({ contentID: 'seq', ...(cookie ? { customerCookie: cookie } : {}) }))).isAllowed;
  assert.equal([walk('A'), walk('B'), walk('A'), walk('B'), walk('C'), walk()], [false, false, true, true, false, false]);
  assert.is(walk(), true, 'the second keyless request takes the second step');
  const limited = (cookie: string) => scenario.answer(facts({ contentID: 'limited', customerCookie: cookie })).rule;
  assert.equal([limited('A'), limited('A'), limited('A'), limited('B')], ['twice', 'twice', 'rest', 'twice']);
  const miss = compile({ rules: [{ name: 'once', perKey: 'customerCookie', times: 1, respond: {} }] });
  miss.answer(facts({ customerCookie: 'A' }));
  assert.equal(miss.answer(facts({ customerCookie: 'A' })).nearMisses, [
    { rule: 'once', failed: [{ key: 'times', reason: 'already answered 1 for this customerCookie of times: 1' }] },
  ]);
  assert.equal(scenario.keyStats().perKeyRules, [
    { rule: 'first-fails', keys: 3, forgotten: 0 },
    { rule: 'twice', keys: 2, forgotten: 0 },
  ]);
  scenario.resetCounters();
  assert.equal([walk('A'), limited('A')], [false, 'twice']);
});

test('perKey with a template key counts each cookie and content apart', () => {
  const scenario = compile({ rules: [{ perKey: '{{customerCookie}}:{{contentID}}', sequence: [{ errorText: '1' }, { errorText: '2' }] }] });
  const text = (cookie: string, contentID: string) => body(scenario.answer(facts({ customerCookie: cookie, contentID }))).errorText;
  assert.equal([text('A', 'x'), text('A', 'y'), text('A', 'x'), text('B', 'x')], ['1', '1', '2', '1']);
});

test.run();
