/** The scenario runtime's small pieces: matchers, delays, the seeded random source, templates. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  compileMatcher,
  describeMiss,
  exactStrings,
  MatcherError,
  MAX_PATTERN_LENGTH,
  REGEX_INPUT_LIMIT,
} from '../src/scenario/runtime/matchers.js';
import { DelayError, parseDelay, pickDelayMs } from '../src/scenario/runtime/delay.js';
import { defaultSeed, seededRandom } from '../src/scenario/runtime/random.js';
import { compileTemplate, TemplateError } from '../src/scenario/runtime/templates.js';
import type { RequestFacts } from '../src/scenario/runtime/engine.js';
import type { Matcher } from '../src/scenario/format/format.js';
import { cpuTimeOf, slack } from './helpers/slack.js';

const matches = (m: Matcher, value: unknown) => compileMatcher(m).test(value);

// --- matchers ----------------------------------------------------------------

test('an exact string matches only that string, and a number by its string form', () => {
  assert.ok(matches('abc', 'abc'));
  assert.not.ok(matches('abc', 'abcd'));
  assert.not.ok(matches('abc', 'ABC'));
  assert.ok(matches('2', 2), 'YAML "2" matches the number 2');
  assert.not.ok(matches('2', 3));
  assert.not.ok(matches('abc', undefined));
  assert.not.ok(matches('abc', null));
  assert.ok(matches('true', true));
});

test('numbers and booleans are equal, also to their string forms', () => {
  assert.ok(matches(2, 2));
  assert.not.ok(matches(2, 3));
  assert.ok(matches(2, '2'));
  assert.not.ok(matches(2, '02'));
  assert.ok(matches(true, true));
  assert.not.ok(matches(true, false));
  assert.ok(matches(false, 'false'));
  assert.not.ok(matches(false, undefined), 'an absent field is not false');
});

test('a glob is anchored: * any run, ? exactly one character', () => {
  assert.ok(matches('denied-*', 'denied-1'));
  assert.ok(matches('denied-*', 'denied-'));
  assert.not.ok(matches('denied-*', 'not-denied-1'), 'anchored at the start');
  assert.ok(matches('*-hd', 'movie-hd'));
  assert.not.ok(matches('*-hd', 'movie-hd-2'), 'anchored at the end');
  assert.ok(matches('a*b*c', 'a-b-c'));
  assert.ok(matches('a*b*c', 'abc'));
  assert.not.ok(matches('a*b*c', 'acb'));
  assert.ok(matches('a*b*c', 'abbbc'));
  assert.ok(matches('dev-?', 'dev-7'));
  assert.not.ok(matches('dev-?', 'dev-'));
  assert.not.ok(matches('dev-?', 'dev-77'));
  assert.ok(matches('dev-?', 'dev-😀'), '? is one character, even outside the BMP');
  assert.ok(matches('*', ''));
  assert.ok(matches('1*', 10), 'a glob is tried on the string form of a number');
  assert.ok(matches({ glob: 'x.y' }, 'x.y'), 'no other character is special');
  assert.not.ok(matches({ glob: 'x.y' }, 'xzy'));
  assert.ok(matches({ glob: '[a]' }, '[a]'));
  assert.not.ok(matches('a*', undefined));
});

test('a glob with many stars stays fast on a long value that almost matches', async () => {
  const { value: matched, ms } = await cpuTimeOf(() => matches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(60_000)));
  assert.not.ok(matched);
  assert.ok(ms < slack(250), `${ms} ms of CPU`);
});

test('a list matches when any item matches', () => {
  assert.ok(matches([2, 3], 3));
  assert.not.ok(matches([2, 3], 1));
  assert.ok(matches(['a', 'b*'], 'bee'));
  assert.ok(matches(['2', '3'], 3));
  assert.ok(matches([{ regex: '^x' }, 'y'], 'xyz'));
  assert.not.ok(matches([2, 3], undefined));
});

test('equals is exact even with * or ?; equals null means absent', () => {
  assert.ok(matches({ equals: 'a*' }, 'a*'));
  assert.not.ok(matches({ equals: 'a*' }, 'ab'));
  assert.ok(matches({ equals: 1 }, 1));
  assert.ok(matches({ equals: null }, undefined));
  assert.not.ok(matches({ equals: null }, 'x'));
});

test('a regex is unanchored JavaScript RegExp semantics', () => {
  assert.ok(matches({ regex: '^dev-[0-9]+$' }, 'dev-42'));
  assert.not.ok(matches({ regex: '^dev-[0-9]+$' }, 'dev-x'));
  assert.ok(matches({ regex: 'ab' }, 'xxabxx'), 'unanchored');
  assert.ok(matches({ regex: '^[23]$' }, 2), 'tried on the string form of a number');
  assert.not.ok(matches({ regex: '.*' }, undefined), 'even .* does not match an absent field');
});

test('a regex is not tried on a value longer than the limit', () => {
  assert.ok(matches({ regex: '^a+$' }, 'a'.repeat(REGEX_INPUT_LIMIT)));
  assert.not.ok(matches({ regex: '^a+$' }, 'a'.repeat(REGEX_INPUT_LIMIT + 1)));
});

test('exists and not, with absent fields', () => {
  assert.ok(matches({ exists: true }, 'x'));
  assert.ok(matches({ exists: true }, 0));
  assert.ok(matches({ exists: true }, false));
  assert.not.ok(matches({ exists: true }, undefined));
  assert.not.ok(matches({ exists: true }, null), 'null (no client CN) is absent');
  assert.ok(matches({ exists: false }, undefined));
  assert.not.ok(matches({ exists: false }, ''));
  assert.ok(matches({ not: 'x' }, 'y'));
  assert.not.ok(matches({ not: 'x' }, 'x'));
  assert.ok(matches({ not: 'x' }, undefined), 'an absent field matches a not');
  assert.ok(matches({ not: { regex: '^a' } }, undefined));
  assert.not.ok(matches({ not: { exists: false } }, undefined));
  assert.ok(matches({ not: [1, 2] }, 3));
  assert.not.ok(matches({ not: [1, 2] }, 2));
});

test('explain says what a matcher wants', () => {
  const explain = (m: Matcher) => compileMatcher(m).explain();
  assert.is(explain('denied-*'), 'glob "denied-*"');
  assert.is(explain('abc'), 'exact "abc"');
  assert.is(explain({ equals: 'a*' }), 'exact "a*"');
  assert.is(explain(2), 'equals 2');
  assert.is(explain(true), 'equals true');
  assert.is(explain([2, 3]), 'one of [2, 3]');
  assert.is(explain(['a', 'b*', { regex: 'c' }]), 'one of ["a", glob "b*", regex /c/]');
  assert.is(explain({ regex: '^dev-[0-9]+$' }), 'regex /^dev-[0-9]+$/');
  assert.is(explain({ not: 'x' }), 'not exact "x"');
  assert.is(explain({ exists: true }), 'exists');
  assert.is(explain({ exists: false }), 'absent');
  assert.is(explain({ equals: null }), 'equals null');
});

test('describeMiss says what was wanted and what came', () => {
  assert.is(describeMiss('contentID', compileMatcher('denied-*'), 'abc'), 'contentID: wanted glob "denied-*", got "abc"');
  assert.is(describeMiss('customerCookie', compileMatcher({ exists: true }), undefined), 'customerCookie: wanted exists, got nothing');
  assert.is(describeMiss('requestType', compileMatcher([2, 3]), 1), 'requestType: wanted one of [2, 3], got 1');
  const long = describeMiss('contentID', compileMatcher('x'), 'y'.repeat(1000));
  assert.ok(long.endsWith('… (1000 characters)'), long);
  assert.ok(long.length < 120);
});

test('a bad regex is refused with the reason', () => {
  try {
    compileMatcher({ regex: '([a-' });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, MatcherError);
    assert.match((error as Error).message, /^invalid regex "\(\[a-": /);
    assert.equal((error as MatcherError).path, ['regex']);
  }
  try {
    compileMatcher(['a', { not: { regex: '(' } }]);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.equal((error as MatcherError).path, [1, 'not', 'regex'], 'the path leads to the bad regex');
  }
});

test('regexes prone to catastrophic backtracking are refused at compile time', () => {
  for (const regex of ['(a+)+$', '(a*)*b', '^(\\w+\\s?)*$', '(?:x|y+)+', '((ab)*c)*', '(a{1,5}){2,}', '(?<n>a+)+']) {
    assert.throws(() => compileMatcher({ regex }), (e: unknown) => e instanceof MatcherError && /catastrophic backtracking/.test((e as Error).message), regex);
  }
  assert.throws(() => compileMatcher({ regex: '(a+)+$' }), /"\(a\+\)\+" repeats something that itself repeats/);
  for (const regex of ['(a)\\1', '(?<x>a)\\k<x>']) {
    assert.throws(() => compileMatcher({ regex }), /back-reference/, regex);
  }
  // Safe shapes pass: single repeats, optional parts inside repeats, fixed counts, alternation, escapes and classes.
  for (const regex of ['^dev-[0-9]+$', '(ab?)+', '(a{3})+', '(a|b)*', '\\(a+\\)+', '[(a+)+]', '^\\d{4}-\\d{2}$', '\\1', '[^]*x', 'a{,3}+']) {
    compileMatcher({ regex });
  }
});

test('a regex that passes the static check still answers quickly on hostile input', async () => {
  const { value: matched, ms } = await cpuTimeOf(() => matches({ regex: '\\d+\\d+\\d+x' }, '1'.repeat(REGEX_INPUT_LIMIT)));
  assert.not.ok(matched);
  assert.ok(ms < slack(125), `${ms} ms of CPU (without the linear-time fallback this takes seconds)`);
});

test('overlong patterns and deep nesting are refused; a long glob stays fast', async () => {
  assert.is(MAX_PATTERN_LENGTH, 1000);
  assert.throws(() => compileMatcher({ regex: 'a|'.repeat(600) }), /is too long: 1200 characters, at most 1000/);
  assert.throws(() => compileMatcher('*'.repeat(1001)), /glob .* is too long/);
  assert.throws(() => compileMatcher({ regex: '('.repeat(200) + 'a' + ')'.repeat(200) }), /nests groups more than 100 deep/);
  const glob = compileMatcher(`*?${'a'.repeat(990)}b*`);
  const { value: matched, ms } = await cpuTimeOf(() => glob.test('a'.repeat(64 * 1024)));
  assert.not.ok(matched);
  assert.ok(ms < slack(250), `${ms} ms of CPU`);
});

test('exactStrings finds the values an exact matcher stands for', () => {
  assert.equal(exactStrings('abc'), ['abc']);
  assert.equal(exactStrings(['a', 'b', 3]), ['a', 'b', '3']);
  assert.equal(exactStrings({ equals: 'a*' }), ['a*']);
  assert.is(exactStrings('a*'), null);
  assert.is(exactStrings(['a', 'b*']), null);
  assert.is(exactStrings({ regex: 'a' }), null);
  assert.is(exactStrings({ not: 'a' }), null);
  assert.is(exactStrings({ equals: null }), null);
});

// --- delays ------------------------------------------------------------------

test('delays: numbers, units and ranges', () => {
  assert.equal(parseDelay(250), { kind: 'fixed', ms: 250 });
  assert.equal(parseDelay(0), { kind: 'fixed', ms: 0 });
  assert.equal(parseDelay('250ms'), { kind: 'fixed', ms: 250 });
  assert.equal(parseDelay('250'), { kind: 'fixed', ms: 250 });
  assert.equal(parseDelay('2s'), { kind: 'fixed', ms: 2000 });
  assert.equal(parseDelay(' 1.5 s '), { kind: 'fixed', ms: 1500 });
  assert.equal(parseDelay({ min: '100ms', max: '2s' }), { kind: 'uniform', minMs: 100, maxMs: 2000 });
  assert.equal(parseDelay({ min: 5, max: 5 }), { kind: 'uniform', minMs: 5, maxMs: 5 });
});

test('bad delays are refused with a message', () => {
  assert.throws(() => parseDelay('fast'), (e: unknown) => e instanceof DelayError && /invalid delay "fast"/.test((e as Error).message));
  assert.throws(() => parseDelay('2m'), /invalid delay "2m"/);
  assert.throws(() => parseDelay('-5ms'), /invalid delay/);
  assert.throws(() => parseDelay(-1), /invalid delay -1 ms/);
  assert.throws(() => parseDelay(Number.NaN), /invalid delay/);
  assert.throws(() => parseDelay({ min: '2s', max: '100ms' }), /delay min "2s" is greater than max "100ms"/);
  assert.throws(() => parseDelay('99999s'), /longer than the longest allowed/);
});

test('pickDelayMs: fixed as given, uniform within bounds and whole milliseconds', () => {
  const random = seededRandom(7);
  assert.is(pickDelayMs({ kind: 'fixed', ms: 250 }, random), 250);
  const picks = Array.from({ length: 2000 }, () => pickDelayMs({ kind: 'uniform', minMs: 100, maxMs: 110 }, random));
  assert.ok(picks.every((ms) => Number.isInteger(ms) && ms >= 100 && ms <= 110));
  assert.ok(picks.includes(100) && picks.includes(110), 'both ends can be picked');
  assert.is(pickDelayMs({ kind: 'uniform', minMs: 5, maxMs: 5 }, random), 5);
  assert.is(pickDelayMs({ kind: 'uniform', minMs: 0, maxMs: 10 }, () => 0.999999999), 10);
});

// --- random --------------------------------------------------------------------

test('seededRandom: the same seed gives the same sequence, another seed another', () => {
  const take = (seed: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: 20 }, () => random());
  };
  assert.equal(take(42), take(42));
  assert.not.equal(take(42), take(43));
  assert.not.equal(take(0), take(2 ** 32), 'seeds beyond 32 bits still differ');
  const values = take(1);
  assert.ok(values.every((v) => v >= 0 && v < 1));
});

test('seededRandom is roughly uniform', () => {
  const random = seededRandom(123);
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) buckets[Math.floor(random() * 10)]! += 1;
  for (const count of buckets) assert.ok(count > 9_500 && count < 10_500, `bucket ${count}`);
});

test('defaultSeed gives a 32-bit whole number', () => {
  const seed = defaultSeed();
  assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
});

// --- templates ---------------------------------------------------------------

const facts: RequestFacts = {
  request: {
    messageID: '6f1f3b4e-1d3a-4c6e-9b7e-0f2a1c3d4e5f',
    version: 1,
    requestType: 2,
    contentID: 'movie 1/&x',
    customerCookie: 'dev-42',
  },
  client: { cn: 'license-server', fingerprint: 'ab'.repeat(32), authorized: true },
};

test('templates insert each request variable', () => {
  const render = (text: string) => compileTemplate(text, { percentEncode: false })(facts);
  assert.is(render('{{contentID}}'), 'movie 1/&x');
  assert.is(render('{{messageID}}'), facts.request.messageID);
  assert.is(render('{{requestType}}'), '2');
  assert.is(render('{{customerCookie}}'), 'dev-42');
  assert.is(render('{{version}}'), '1');
  assert.is(render('{{clientCN}}'), 'license-server');
  assert.is(render('not entitled to {{ contentID }}!'), 'not entitled to movie 1/&x!');
});

test('templates generate uuid, now and token afresh', () => {
  const render = (text: string) => compileTemplate(text, { percentEncode: false })(facts);
  assert.match(render('{{uuid}}'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.is.not(render('{{uuid}}'), render('{{uuid}}'));
  const now = render('{{now}}');
  assert.match(now, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  assert.ok(Math.abs(Date.parse(now) - Date.now()) < 5000);
  const token = render('{{token}}');
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 bytes of base64url');
  assert.is(Buffer.from(token, 'base64url').length, 32);
  assert.is.not(token, render('{{token}}'));
});

test('absent values insert nothing', () => {
  const bare: RequestFacts = { request: { messageID: 'm', version: 1, contentID: 'c' }, client: { cn: null, fingerprint: null, authorized: false } };
  assert.is(compileTemplate('[{{customerCookie}}|{{requestType}}|{{clientCN}}]', { percentEncode: true })(bare), '[||]');
});

test('percent-encoding applies to inserted values only, and only when asked', () => {
  const url = compileTemplate('https://x.test/?c={{contentID}}&k={{customerCookie}}', { percentEncode: true });
  assert.is(url(facts), 'https://x.test/?c=movie%201%2F%26x&k=dev-42');
  const text = compileTemplate('https://x.test/?c={{contentID}}', { percentEncode: false });
  assert.is(text(facts), 'https://x.test/?c=movie 1/&x');
  const lone: RequestFacts = { ...facts, request: { ...facts.request, contentID: 'a\uD800b' } };
  assert.is(url(lone), 'https://x.test/?c=a%EF%BF%BDb&k=dev-42', 'a lone surrogate does not throw');
});

test('an unknown variable is refused when compiling, naming the known ones', () => {
  try {
    compileTemplate('x {{contentId}} y', { percentEncode: false });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, TemplateError);
    assert.match((error as Error).message, /unknown template variable \{\{contentId\}\}/);
    assert.match((error as Error).message, /known: \{\{contentID\}\}, \{\{messageID\}\}.*\{\{token\}\}/);
  }
  assert.throws(() => compileTemplate('x {{contentID', { percentEncode: false }), /without a matching/);
});

test('plain text compiles to a constant function', () => {
  const constant = compileTemplate('no variables here, even with {single} braces', { percentEncode: true });
  assert.is(constant(facts), 'no variables here, even with {single} braces');
  assert.is(constant.length, 0, 'the function does not even look at the request');
  assert.is(compileTemplate('', { percentEncode: false })(facts), '');
});

test('invalid requests may carry any JSON: templates still produce text', () => {
  const odd = { request: { contentID: { a: 1 }, version: 'abc' }, client: facts.client } as unknown as RequestFacts;
  assert.is(compileTemplate('{{contentID}} {{version}} {{messageID}}', { percentEncode: false })(odd), '{"a":1} abc ');
});

test.run();
