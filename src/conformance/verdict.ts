/**
 * One case's verdict: what the harness says the license server's client got, joined with what
 * the mock saw of the case (its journal entries). A pure function of those and the time.
 *
 * Order of judgement: a case that could not be set up is not-run; a request over a trouble
 * listener is a fail whatever the client got (the handshake should never have completed);
 * then the client's outcome against `expect`; then what the mock saw (retries, messageIDs
 * reused, exchanges held past givesUpWithin); an outcome that cannot be tied to what the mock
 * answered is inconclusive.
 */
import type { JournalEntry } from '../journal/entry.js';
import type { ConformanceCase } from './format.js';
import type { CaseOutcome, CaseSeen, Verdict } from './types.js';

export interface CaseFacts {
  readonly testCase: ConformanceCase;
  readonly contentID: string;
  /** Why the case cannot run, or null. */
  readonly notRun: string | null;
  /** The journal's name of the trouble listener the case asks through, or null for the main one. */
  readonly listener: string | null;
  /** givesUpWithin in ms (resolved against the run timeout), or null. */
  readonly givesUpWithinMs: number | null;
  readonly outcome: CaseOutcome | null;
  /** The case's journal entries, oldest first. */
  readonly entries: readonly JournalEntry[];
  readonly now: number;
}

export interface Judgement {
  verdict: Verdict;
  reason: string;
  seen: CaseSeen;
}

const TROUBLE_WORDS: Record<string, string> = {
  expired: 'an expired certificate',
  'wrong-host': 'a certificate for another host name',
  untrusted: 'a certificate from a CA it does not trust',
  'self-signed': 'a self-signed certificate',
  revoked: 'a certificate its CA has revoked',
};

export function judgeCase(facts: CaseFacts): Judgement {
  const seen = seenOf(facts.entries);
  const verdict = (kind: Verdict, reason: string): Judgement => ({ verdict: kind, reason, seen });
  const { testCase, outcome, entries } = facts;
  const { expect, checks } = testCase;
  // A recommended case's rule is our fail-closed advice, not the protocol's words: say so.
  const asks = `${checks.basis === 'documented' ? 'the protocol asks' : 'recommended (the protocol leaves it open)'}: ${lowerFirst(checks.rule)}`;

  if (facts.notRun !== null) return verdict('not-run', facts.notRun);

  if (facts.listener !== null) {
    const over = entries.filter((entry) => entry.listener === facts.listener);
    if (over.length > 0) {
      const trouble = TROUBLE_WORDS[testCase.listener ?? ''] ?? 'a bad certificate';
      return verdict('fail', `${capitalise(asks)}; seen: the license server completed the TLS handshake with ${trouble} and sent ${count(over.length, 'request')} over it`);
    }
    if (entries.length > 0) {
      return verdict('inconclusive', `the request came to the ${entries[0]?.listener} listener, not through the case's entitlementUrl: have the license server ask that URL`);
    }
  }
  if (outcome === null) {
    return verdict('inconclusive', entries.length === 0 ? 'no outcome posted and no request seen yet' : `no outcome posted yet (${count(entries.length, 'request')} seen)`);
  }

  const got = describeOutcome(outcome);
  if (entries.length === 0 && facts.listener === null) {
    if (outcome.license === 'granted') return verdict('fail', `The license server granted the license without asking the entitlement service (no request for ${facts.contentID} reached the mock)`);
    return verdict('inconclusive', `no request for contentID ${facts.contentID} reached the mock, so the refusal says nothing about this case's answer`);
  }
  const notAnswered = entries.find((entry) => !entry.valid || !answeredByCase(entry, testCase.id));
  if (notAnswered !== undefined) {
    const why = !notAnswered.valid ? `was not a valid Entitlement Request (${notAnswered.problems[0] ?? 'see the journal'})` : 'was not answered by the case';
    return verdict('inconclusive', `request ${notAnswered.id} of the case ${why}, so the case's answer was not what the license server saw`);
  }

  if (outcome.license !== expect.license) return verdict('fail', `${capitalise(asks)}; seen: the client got ${got}, where it must be ${expect.license}`);
  if (expect.code !== undefined && outcome.code !== expect.code) {
    return verdict('fail', `${capitalise(asks)}; seen: the client got code ${outcome.code ?? 'none'}, where the service's error ${expect.code} must reach it`);
  }
  if (expect.text !== undefined && outcome.text !== expect.text) {
    return verdict('fail', `${capitalise(asks)}; seen: the client got text ${JSON.stringify(outcome.text ?? null)}, where the service's errorText ${JSON.stringify(expect.text)} must reach it`);
  }
  const retries = entries.length - 1;
  if (expect.retriesAtMost !== undefined && retries > expect.retriesAtMost) {
    return verdict('fail', `${capitalise(asks)}; seen: ${count(entries.length, 'request')} for the case, ${retries} retries where at most ${expect.retriesAtMost} are expected`);
  }
  const reused = firstReusedMessageId(entries);
  if (reused !== null) {
    return verdict('fail', `Each request carries a messageID of its own (the answer is matched against it); seen: messageID ${JSON.stringify(reused)} sent more than once for the case`);
  }
  if (facts.givesUpWithinMs !== null) {
    const limit = facts.givesUpWithinMs;
    for (const [index, held] of seen.heldMs.entries()) {
      const entry = entries[index] as JournalEntry;
      if (held === null) {
        const open = facts.now - Date.parse(entry.time);
        if (open > limit) return verdict('fail', `${capitalise(asks)}; seen: request ${entry.id} still held open after ${Math.round(open)} ms, past ${limit} ms`);
        return verdict('inconclusive', `request ${entry.id} is still open after ${Math.round(open)} ms; the license server has until ${limit} ms to give up`);
      }
      if (held > limit) return verdict('fail', `${capitalise(asks)}; seen: the license server waited ${Math.round(held)} ms on request ${entry.id} before giving up, past ${limit} ms`);
    }
  }
  return verdict('pass', `the client got ${got}${facts.listener !== null ? ' and no request came over the bad certificate' : ''}`);
}

function seenOf(entries: readonly JournalEntry[]): CaseSeen {
  return {
    requests: entries.length,
    entries: entries.map((entry) => entry.id),
    messageIDs: entries.map((entry) => messageIdOf(entry)),
    listeners: entries.map((entry) => entry.listener),
    heldMs: entries.map((entry) => (entry.durationMs === null ? null : entry.durationMs)),
  };
}

/** The run's rule for the case answered (named after the case: `ID`, or `ID/RULE` for a case's rules), not the active scenario. */
function answeredByCase(entry: JournalEntry, caseId: string): boolean {
  return entry.scenario === null && entry.rule !== null && (entry.rule === caseId || entry.rule.startsWith(`${caseId}/`));
}

function messageIdOf(entry: JournalEntry): string | null {
  const request = entry.request;
  const value = request !== null && typeof request === 'object' ? (request as { messageID?: unknown }).messageID : undefined;
  return typeof value === 'string' ? value : null;
}

function firstReusedMessageId(entries: readonly JournalEntry[]): string | null {
  const ids = new Set<string>();
  for (const entry of entries) {
    const id = messageIdOf(entry);
    if (id === null) continue;
    if (ids.has(id)) return id;
    ids.add(id);
  }
  return null;
}

function describeOutcome(outcome: CaseOutcome): string {
  const details = [outcome.code !== undefined ? `code ${outcome.code}` : null, outcome.text !== undefined ? `text ${JSON.stringify(outcome.text)}` : null].filter(Boolean);
  return `${outcome.license}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
