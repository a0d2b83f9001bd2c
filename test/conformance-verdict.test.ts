/**
 * judgeCase, the verdict of one case, on its own: the kinds of evidence the runs' tests over
 * mTLS do not produce with a well-behaved client (an invalid request, an answer from the
 * scenario instead of the case, a reused messageID, a request still held, nothing posted).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeCase, type CaseFacts } from '../src/conformance/verdict.js';
import type { ConformanceCase } from '../src/conformance/format.js';
import { journalEntry } from './helpers/journal-entry.js';

const NOW = Date.parse('2026-01-01T00:00:10Z');
const CONTENT = 'abcd1234-0000-4000-8000-000000000001';
const refuseCase: ConformanceCase = {
  id: 'mismatch',
  title: 'mismatch',
  checks: { basis: 'documented', rule: "The answer's messageID must match" },
  respond: { messageID: 'mismatch' },
  expect: { license: 'refused' },
};

const answered = (overrides: Parameters<typeof journalEntry>[0] = {}) =>
  journalEntry({ contentID: CONTENT, scenario: null, session: 'conformance-abcd1234', rule: 'mismatch', time: '2026-01-01T00:00:00Z', ...overrides });

function facts(overrides: Partial<CaseFacts>): CaseFacts {
  return { testCase: refuseCase, contentID: CONTENT, notRun: null, listener: null, givesUpWithinMs: null, outcome: { license: 'refused' }, entries: [answered()], now: NOW, ...overrides };
}

test('pass; fail names the rule and what the client got', () => {
  assert.equal(judgeCase(facts({})).verdict, 'pass');
  const failed = judgeCase(facts({ outcome: { license: 'granted' } }));
  assert.is(failed.verdict, 'fail');
  assert.is(failed.reason, "The protocol asks: the answer's messageID must match; seen: the client got granted, where it must be refused");
});

test("a recommended case's fail does not put its rule in the protocol's mouth", () => {
  const recommended: ConformanceCase = { ...refuseCase, checks: { basis: 'recommended', rule: 'Only the boolean true grants' } };
  const failed = judgeCase(facts({ testCase: recommended, outcome: { license: 'granted' } }));
  assert.is(failed.reason, 'Recommended (the protocol leaves it open): only the boolean true grants; seen: the client got granted, where it must be refused');
});

test('inconclusive: nothing posted; an invalid request; a request the scenario answered instead of the case', () => {
  assert.equal(judgeCase(facts({ outcome: null })).reason, 'no outcome posted yet (1 request seen)');
  const invalid = judgeCase(facts({ entries: [answered({ id: 7, valid: false, rule: null, problems: ['version: expected an integer'] })] }));
  assert.equal([invalid.verdict, invalid.reason], ['inconclusive', "request 7 of the case was not a valid Entitlement Request (version: expected an integer), so the case's answer was not what the license server saw"]);
  const byScenario = judgeCase(facts({ entries: [answered({ id: 8, scenario: 'default', rule: 'allow' })] }));
  assert.equal([byScenario.verdict, byScenario.reason], ['inconclusive', "request 8 of the case was not answered by the case, so the case's answer was not what the license server saw"]);
  assert.equal(judgeCase(facts({ entries: [answered({ rule: 'mismatch/registered' })] })).verdict, 'pass', "a case's own rules answer as ID/RULE");
  assert.equal(judgeCase(facts({ entries: [answered({ rule: 'mismatch-2' })] })).verdict, 'inconclusive', 'another case whose id starts alike');
});

test('a retry that reuses its messageID fails; retries over the bound fail', () => {
  const reused = judgeCase(facts({ entries: [answered({ id: 1, messageID: 'm' }), answered({ id: 2, messageID: 'm' })] }));
  assert.equal([reused.verdict, reused.seen.messageIDs], ['fail', ['m', 'm']]);
  assert.match(reused.reason, 'messageID "m" sent more than once for the case');
  const bounded = { ...refuseCase, expect: { license: 'refused' as const, retriesAtMost: 1 } };
  const entries = [1, 2, 3].map((id) => answered({ id, messageID: `m-${id}` }));
  assert.match(judgeCase(facts({ testCase: bounded, entries })).reason, '3 requests for the case, 2 retries where at most 1 are expected');
  assert.is(judgeCase(facts({ testCase: bounded, entries: entries.slice(0, 2) })).verdict, 'pass');
});

test('givesUpWithin: ended in time passes; ended late or still held past it fails; still held within it is inconclusive', () => {
  const hang = { ...refuseCase, expect: { license: 'refused' as const, givesUpWithin: 'timeout' as const } };
  const judge = (durationMs: number | null, now = NOW) => judgeCase(facts({ testCase: hang, givesUpWithinMs: 3000, entries: [answered({ id: 4, durationMs })], now }));
  assert.is(judge(2100).verdict, 'pass');
  assert.equal([judge(3500).verdict, judge(3500).reason.endsWith('waited 3500 ms on request 4 before giving up, past 3000 ms')], ['fail', true]);
  assert.equal(judge(null).verdict, 'fail', 'held 10 s, past 3 s');
  assert.match(judge(null).reason, 'request 4 still held open after 10000 ms, past 3000 ms');
  const early = judge(null, Date.parse('2026-01-01T00:00:01Z'));
  assert.equal([early.verdict, early.reason], ['inconclusive', 'request 4 is still open after 1000 ms; the license server has until 3000 ms to give up']);
});

test('certificate cases: a request over the bad listener fails whatever was posted; none and refused passes; granted without asking fails', () => {
  const cert = { ...refuseCase, listener: 'expired' as const };
  const over = judgeCase(facts({ testCase: cert, listener: 'expired', outcome: null, entries: [answered({ listener: 'expired' })] }));
  assert.is(over.verdict, 'fail');
  assert.match(over.reason, 'completed the TLS handshake with an expired certificate and sent 1 request over it');
  assert.equal(judgeCase(facts({ testCase: cert, listener: 'expired', entries: [] })).verdict, 'pass');
  assert.equal(judgeCase(facts({ testCase: cert, listener: 'expired', entries: [answered()] })).verdict, 'inconclusive', 'asked the main listener');
  assert.equal(judgeCase(facts({ entries: [], outcome: { license: 'granted' } })).verdict, 'fail');
  assert.equal(judgeCase(facts({ notRun: 'no --trouble-port' })).verdict, 'not-run');
});

test.run();
