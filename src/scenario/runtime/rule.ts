/**
 * A compiled rule: a small named unit that can *try* a request (its conditions, its
 * `times:` count, then the answer of its response, sequence step or random choice) and
 * *explain* a miss (which keys failed and why: the near misses of an unmatched request).
 *
 * - One count per rule of the requests it answered (per key value with `perKey:`).
 *   `times: N` skips the rule once it answered N; a `sequence:` answers step `count` (the
 *   last step repeats, or with `loop: true` it restarts). Every matching request takes a
 *   step, faults included.
 * - A condition is one `match:` key: how the key is read from a request (READERS) and the
 *   compiled matcher (matchers.ts). A new match key is added to format.ts and READERS.
 */
import type { MatchKey } from '../format/format.js';
import type { Decision, RandomSource, RequestFacts } from './engine.js';
import type { ResponsePlan } from '../../respond/plan.js';
import type { NearMiss } from './outcome.js';
import { missReason, type CompiledMatcher } from './matchers.js';
import type { RuleResponse, StateChange } from './responses.js';
import type { CompiledKey } from './state/key.js';
import type { KeyedCounts } from './state/counts.js';

/** A decision, with the state change of the rule that answered (the stateful path applies it; stateless scenarios ignore it). */
export type RuleDecision = Decision & { readonly change?: StateChange | null };

/** One `match:` key of a rule. */
export interface Condition {
  readonly key: MatchKey;
  readonly matcher: CompiledMatcher;
  readonly read: (facts: RequestFacts) => unknown;
}

/** How each match key is read from a request. Null identity fields count as absent. */
export const READERS: Record<MatchKey, (facts: RequestFacts) => unknown> = {
  contentID: (facts) => facts.request.contentID,
  requestType: (facts) => facts.request.requestType,
  customerCookie: (facts) => facts.request.customerCookie,
  messageID: (facts) => facts.request.messageID,
  version: (facts) => facts.request.version,
  clientCN: (facts) => facts.client.cn ?? undefined,
  clientFingerprint: (facts) => facts.client.fingerprint ?? undefined,
  clientAuthorized: (facts) => facts.client.authorized,
  state: (facts) => facts.state,
};

/** With `perKey:`, the key and its counts. */
export interface PerKeyCounts {
  readonly key: CompiledKey;
  readonly counts: KeyedCounts;
}

/** How a rule answers its `count`-th matching request (from 0): one response, a sequence or a random choice. */
export interface RuleResponder {
  answer(rule: CompiledRule, facts: RequestFacts, count: number): RuleDecision;
}

/** What every rule's answer to a request looks like (one object shape for every rule). */
function ruleDecision(rule: CompiledRule, step: number | null, plan: ResponsePlan, change: StateChange | null): RuleDecision {
  return { scenario: rule.scenario, rule: rule.name, step, plan, change };
}

const NO_PROBLEMS: readonly string[] = Object.freeze([]);
const NO_CONDITIONS: readonly Condition[] = Object.freeze([]);

/** `respond:`: the same response every time. */
export class OneResponse implements RuleResponder {
  constructor(private readonly response: RuleResponse) {}

  answer(rule: CompiledRule, facts: RequestFacts): RuleDecision {
    const response = this.response;
    return ruleDecision(rule, null, response.plan.build(facts, NO_PROBLEMS), response.change);
  }
}

/** `sequence:`: step `count`; the last repeats, or with `loop:` the sequence restarts. */
export class SequenceOfResponses implements RuleResponder {
  private readonly last: number;

  constructor(
    private readonly steps: readonly RuleResponse[],
    private readonly loop: boolean,
  ) {
    this.last = steps.length - 1;
  }

  answer(rule: CompiledRule, facts: RequestFacts, count: number): RuleDecision {
    const step = this.loop ? count % this.steps.length : Math.min(count, this.last);
    const response = this.steps[step]!;
    return ruleDecision(rule, step, response.plan.build(facts, NO_PROBLEMS), response.change);
  }
}

/** `random:`: a choice by weight, from the scenario's random source (seeded by --seed). */
export class RandomResponse implements RuleResponder {
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(
    private readonly choices: readonly RuleResponse[],
    weights: readonly number[],
    private readonly random: RandomSource,
  ) {
    let total = 0;
    for (const weight of weights) this.cumulative.push((total += weight));
    this.total = total;
  }

  answer(rule: CompiledRule, facts: RequestFacts): RuleDecision {
    const target = this.random() * this.total;
    const cumulative = this.cumulative;
    let choice = 0;
    while (choice < cumulative.length - 1 && cumulative[choice]! <= target) choice++;
    const response = this.choices[choice]!;
    return ruleDecision(rule, null, response.plan.build(facts, NO_PROBLEMS), response.change);
  }
}

export class CompiledRule {
  /** The conditions other than contentID: enough when the rule was found by its indexed contentID. */
  readonly conditionsBesideContentID: readonly Condition[];
  /** Requests answered, when the rule counts all requests together. */
  private answered = 0;
  /** The rule counts its answers (`times:`, a sequence or `perKey:`): with shared state it asks the store for each answer. */
  readonly counted: boolean;

  constructor(
    /** The scenario's name (every decision names it). */
    readonly scenario: string,
    /** Its position in the scenario (rule order). */
    readonly index: number,
    /** `name:`, or `rule-<1-based index>`. */
    readonly name: string,
    readonly conditions: readonly Condition[],
    /** Infinity without `times:`. */
    readonly times: number,
    /** Null when the rule counts all requests together. */
    readonly perKey: PerKeyCounts | null,
    /** The rule matches on state or one of its responses sets or clears it. */
    readonly usesState: boolean,
    private readonly responder: RuleResponder,
  ) {
    this.counted = times !== Infinity || perKey !== null || responder instanceof SequenceOfResponses;
    this.conditionsBesideContentID =
      conditions.length === 1 && conditions[0]!.key === 'contentID' ? NO_CONDITIONS : conditions.filter((c) => c.key !== 'contentID');
  }

  /**
   * The rule's answer when `conditions` (all of them, or those the index has not already
   * settled) hold and it is not used up; counts the answer. Null (and nothing counted) otherwise.
   */
  try(facts: RequestFacts, conditions: readonly Condition[]): RuleDecision | null {
    const perKey = this.perKey;
    let count: number;
    if (perKey === null) {
      count = this.answered;
      if (count >= this.times) return null;
      for (const condition of conditions) if (!condition.matcher.test(condition.read(facts))) return null;
      this.answered = count + 1;
    } else {
      for (const condition of conditions) if (!condition.matcher.test(condition.read(facts))) return null;
      const key = perKey.key.of(facts);
      count = perKey.counts.get(key);
      if (count >= this.times) return null;
      perKey.counts.set(key, count + 1);
    }
    return this.responder.answer(this, facts, count);
  }

  /** Whether `conditions` hold for the request (nothing counted): the shared path counts apart (shared-answer.ts). */
  holds(facts: RequestFacts, conditions: readonly Condition[]): boolean {
    for (const condition of conditions) if (!condition.matcher.test(condition.read(facts))) return false;
    return true;
  }

  /** The rule's answer as its `count`-th (from 0) answer, counted elsewhere (shared state). */
  answerAt(facts: RequestFacts, count: number): RuleDecision {
    return this.responder.answer(this, facts, count);
  }

  /** How many times the rule answered (for this request's key when it counts per key). */
  countFor(facts: RequestFacts): number {
    return this.perKey === null ? this.answered : this.perKey.counts.get(this.perKey.key.of(facts));
  }

  /** How many of the rule's keys a request fails (being used up fails `times`); counting stops past `limit`. */
  failures(facts: RequestFacts, limit: number, count: number = this.countFor(facts)): number {
    let failures = count >= this.times ? 1 : 0;
    for (const condition of this.conditions) {
      if (failures > limit) break;
      if (!condition.matcher.test(condition.read(facts))) failures++;
    }
    return failures;
  }

  /** Each key the request fails, with why: `{key: 'contentID', reason: 'wanted glob "denied-*", got "abc"'}`. */
  explainMiss(facts: RequestFacts, count: number = this.countFor(facts)): NearMiss['failed'] {
    const failed: NearMiss['failed'] = [];
    if (count >= this.times) {
      const whose = this.perKey === null ? '' : ` for this ${this.perKey.key.form}`;
      failed.push({ key: 'times', reason: `already answered ${count}${whose} of times: ${this.times}` });
    }
    for (const { key, matcher, read } of this.conditions) {
      const value = read(facts);
      if (!matcher.test(value)) failed.push({ key, reason: missReason(matcher, value) });
    }
    return failed;
  }

  /** Forget every count (per-key ones included). */
  resetCounts(): void {
    this.answered = 0;
    this.perKey?.counts.reset();
  }
}
