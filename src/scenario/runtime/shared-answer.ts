/**
 * How a rule set answers when its counters and states are shared (state/shared.ts): the same
 * rules in the same order as the local path (rule-index.ts, rule.ts), but each count is taken
 * from the shared holder in one atomic operation, and the request's state is read and changed
 * there.
 *
 * Only what needs shared things waits: a request with no state key to read is walked
 * synchronously, and answered synchronously when the first rule whose conditions hold counts
 * nothing (no `times:`, sequence or `perKey:`); from the first counted rule on, the walk goes
 * on asynchronously. When the holder does not answer, the request is answered 503 with an
 * errorText naming it and what needed it, and the journal lists the same words as a problem.
 */
import type { Decision, RequestFacts } from './engine.js';
import type { ResponsePlan } from '../../respond/plan.js';
import { nearMisses } from './near-misses.js';
import type { CompiledRule, Condition, RuleDecision } from './rule.js';
import type { RuleIndex } from './rule-index.js';
import { ignoredChangeWarning, type CompiledKey } from './state/key.js';
import { counterName, type SharedScope } from './state/shared.js';

interface Candidate {
  readonly rule: CompiledRule;
  readonly conditions: readonly Condition[];
}

/** The per-key state of the rule set: its key and lifetime (null: the rule set uses no state). */
export interface SharedStateKey {
  readonly key: CompiledKey;
  readonly ttlMs: number | null;
}

/** What the shared path needs of its rule set. */
export interface SharedRuleSet {
  readonly name: string;
  readonly rules: readonly CompiledRule[];
  readonly index: RuleIndex;
  readonly state: SharedStateKey | null;
  /** The unmatched answer, with each rule's count for its near misses. */
  unmatched(facts: RequestFacts, countOf: (rule: CompiledRule) => number): RuleDecision;
}

/** A rule's answer when its conditions hold and it counts nothing; the rule itself when it counts (the shared count decides). */
const answerOrCounted = (rule: CompiledRule, facts: RequestFacts, conditions: readonly Condition[]): RuleDecision | CompiledRule | null =>
  !rule.holds(facts, conditions) ? null : rule.counted ? rule : rule.answerAt(facts, 0);

/** The shared holder did not answer: what needed it, in words. */
class StoreUnavailable extends Error {
  constructor(
    readonly what: string,
    readonly rule: string | null,
    cause: unknown,
  ) {
    super(what, { cause });
  }
}

export class SharedAnswer {
  constructor(
    private readonly ruleSet: SharedRuleSet,
    private readonly shared: SharedScope,
  ) {}

  /** The answer (or, without `orUnmatched`, null when no rule matches): synchronous unless something shared is needed. */
  answer(facts: RequestFacts, orUnmatched: boolean): Decision | null | Promise<Decision | null> {
    const stateKey = this.ruleSet.state?.key ?? null;
    const key = stateKey === null ? null : stateKey.of(facts);
    if (key !== null) return this.guarded(this.answerFrom(facts, this.candidates(facts), 0, key, orUnmatched));
    // The rules in order, as the local path walks them (nothing allocated): the first whose
    // conditions hold answers here if it counts nothing; a counted one goes on asynchronously.
    const found = this.ruleSet.index.walk(facts, answerOrCounted);
    if (found === null) return orUnmatched ? this.guarded(this.unmatched(facts)) : null;
    if ('plan' in found) return this.withoutKey(found, facts);
    const candidates = this.candidates(facts);
    const from = candidates.findIndex((candidate) => candidate.rule === found);
    return this.guarded(this.answerFrom(facts, candidates, from, null, orUnmatched));
  }

  private candidates(facts: RequestFacts): Candidate[] {
    const candidates: Candidate[] = [];
    this.ruleSet.index.walk(facts, (rule, _facts, conditions) => {
      candidates.push({ rule, conditions });
      return null;
    });
    return candidates;
  }

  private async answerFrom(facts: RequestFacts, candidates: readonly Candidate[], from: number, key: string | null, orUnmatched: boolean): Promise<Decision | null> {
    const { store, scope } = this.shared;
    let seen = facts;
    let before: string | null = null;
    if (key !== null) {
      before = await asking(store.getState(scope, key), `the state of key ${JSON.stringify(key)}`, null);
      if (before !== null) seen = { request: facts.request, client: facts.client, state: before };
    }
    for (let at = from; at < candidates.length; at++) {
      const { rule, conditions } = candidates[at]!;
      if (!rule.holds(seen, conditions)) continue;
      let count = 0;
      if (rule.counted) {
        const taken = await asking(store.take(scope, this.counterOf(rule, seen), rule.times), `the count of rule "${rule.name}"`, rule.name);
        if (taken === null) continue;
        count = taken;
      }
      const decision = rule.answerAt(seen, count);
      return key === null ? this.withoutKey(decision, facts) : this.changeState(decision, key, before);
    }
    if (!orUnmatched) return null;
    const decision = await this.unmatched(seen);
    if (key !== null) decision.state = null;
    return decision;
  }

  private async unmatched(facts: RequestFacts): Promise<Decision> {
    const counted = this.ruleSet.rules.filter((rule) => rule.counted);
    const counts = new Map<CompiledRule, number>();
    if (counted.length > 0) {
      const { store, scope } = this.shared;
      const values = await asking(
        store.counts(
          scope,
          counted.map((rule) => this.counterOf(rule, facts)),
        ),
        'the counts of the rules (for the near misses)',
        null,
      );
      counted.forEach((rule, i) => counts.set(rule, values[i] ?? 0));
    }
    return this.ruleSet.unmatched(facts, (rule) => counts.get(rule) ?? 0);
  }

  private counterOf(rule: CompiledRule, facts: RequestFacts): string {
    return counterName(rule.name, rule.perKey !== null, rule.perKey === null ? null : rule.perKey.key.of(facts));
  }

  /** A request without a state key (or a rule set without state): a state change is ignored, with a warning. */
  private withoutKey(decision: RuleDecision, facts: RequestFacts): Decision {
    const state = this.ruleSet.state;
    if (state === null) return decision;
    const change = decision.change ?? null;
    if (change !== null) decision.warnings = [ignoredChangeWarning(state.key, change, decision.rule, facts)];
    decision.state = null;
    return decision;
  }

  private async changeState(decision: RuleDecision, key: string, before: string | null): Promise<Decision> {
    const { store, scope } = this.shared;
    const change = decision.change ?? null;
    let after = before;
    if (change !== null) {
      const what = `the state of key ${JSON.stringify(key)}`;
      if (change.kind === 'set') await asking(store.setState(scope, key, (after = change.state), this.ruleSet.state!.ttlMs), what, decision.rule);
      else {
        await asking(store.deleteState(scope, key), what, decision.rule);
        after = null;
      }
    }
    decision.state = { key, before, after };
    return decision;
  }

  /** The answer, or the 503 of an unreachable holder. */
  private guarded(answer: Promise<Decision | null>): Promise<Decision | null> {
    return answer.catch((error: unknown) => {
      if (!(error instanceof StoreUnavailable)) throw error;
      return this.storeUnavailable(error);
    });
  }

  private storeUnavailable(error: StoreUnavailable): Decision {
    const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
    const errorText = `${this.shared.store.description} did not answer (${cause}): ${error.what} is kept there`;
    const plan: ResponsePlan = {
      kind: 'json',
      status: 503,
      headers: {},
      body: { isAllowed: false, error: 503, errorText },
      delayMs: 0,
      delivery: 'whole',
    };
    return { scenario: this.ruleSet.name, rule: error.rule, step: null, plan, state: null, problems: [`shared state unavailable: ${errorText}`] };
  }
}

/** A shared operation; its failure becomes a StoreUnavailable naming what needed it. */
async function asking<T>(operation: Promise<T>, what: string, rule: string | null): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw new StoreUnavailable(what, rule, error);
  }
}
