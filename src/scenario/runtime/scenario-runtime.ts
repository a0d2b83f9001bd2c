/**
 * The object a compiled scenario is at run time (what compileScenario returns): it answers
 * requests with its rule index, applies the state changes of the rule that answered in
 * scenarios that use state, and gives unmatched and invalid requests their answers.
 *
 * - Unmatched requests: built-in HTTP 404, isAllowed false, error 404, errorText
 *   `no rule of scenario "<name>" matched contentID "<id>"`, epTokenURL "", plus near misses.
 * - Invalid requests (`answerInvalid`): built-in HTTP 400, isAllowed false, error 400,
 *   errorText = every problem joined with "; ", epTokenURL "", messageID echoed when the
 *   raw request had a string messageID (else left out: there is nothing to echo), version
 *   echoed when the raw request had a positive whole number (or such a numeric string),
 *   else 1. Templates see whatever fields the raw request had.
 */
import type { EntitlementRequest } from '../../protocol/types.js';
import type { CompiledScenario, Decision, InvalidRequestFacts, KeyStats, RequestFacts, StateListing, StateListingEntry } from './engine.js';
import { nearMisses } from './near-misses.js';
import type { PlanBuilder } from './responses.js';
import type { CompiledRule, RuleDecision } from './rule.js';
import type { RuleIndex } from './rule-index.js';
import type { CompiledKey } from './state/key.js';
import { MAX_STATE_KEYS, type StateStore } from './state/store.js';
import { ignoredChangeWarning } from './state/key.js';
import type { SharedScope } from './state/shared.js';
import { SharedAnswer } from './shared-answer.js';

/** The per-key state of a scenario that uses state: whose state, and where it is kept. */
export interface ScenarioState {
  readonly key: CompiledKey;
  readonly store: StateStore;
}

const NO_PROBLEMS: readonly string[] = Object.freeze([]);

export class ScenarioRuntime implements CompiledScenario {
  readonly ruleNames: readonly string[];
  private readonly perKeyRules: readonly CompiledRule[];

  constructor(
    readonly name: string,
    readonly file: string,
    readonly description: string,
    /** Every rule, in rule order. */
    private readonly rules: readonly CompiledRule[],
    private readonly index: RuleIndex,
    /** Null in a scenario that uses no state: its requests do no state work at all. */
    private readonly state: ScenarioState | null,
    private readonly unmatchedResponse: PlanBuilder,
    private readonly invalidResponse: PlanBuilder,
    /** Where counters and states are shared; null: in this object (the request path never waits). */
    shared: SharedScope | null = null,
  ) {
    this.ruleNames = Object.freeze(rules.map((rule) => rule.name));
    this.perKeyRules = rules.filter((rule) => rule.perKey !== null);
    // A rule set that counts nothing and keeps no state has nothing to share.
    this.shared =
      shared === null || (state === null && !rules.some((rule) => rule.counted))
        ? null
        : new SharedAnswer(
            {
              name,
              rules,
              index,
              state: state === null ? null : { key: state.key, ttlMs: state.store.ttlMs },
              unmatched: (facts, countOf) => this.unmatched(facts, countOf),
            },
            shared,
          );
  }

  private readonly shared: SharedAnswer | null;

  decide(facts: RequestFacts): Decision | Promise<Decision> {
    const shared = this.shared;
    return shared === null ? this.answer(facts) : (shared.answer(facts, true) as Decision | Promise<Decision>);
  }

  decideIfMatched(facts: RequestFacts): Decision | null | Promise<Decision | null> {
    const shared = this.shared;
    return shared === null ? this.answerIfMatched(facts) : shared.answer(facts, false);
  }

  answer(facts: RequestFacts): Decision {
    const state = this.state;
    return state === null ? (this.index.firstAnswer(facts) ?? this.unmatched(facts)) : this.answerWithState(state, facts, true)!;
  }

  answerIfMatched(facts: RequestFacts): Decision | null {
    const state = this.state;
    return state === null ? this.index.firstAnswer(facts) : this.answerWithState(state, facts, false);
  }

  answerInvalid(facts: InvalidRequestFacts): Decision {
    const raw = facts.request;
    const request = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as EntitlementRequest;
    return {
      scenario: this.name,
      rule: null,
      step: null,
      plan: this.invalidResponse.build({ request, client: facts.client }, facts.problems),
      state: null,
    };
  }

  resetCounters(): void {
    for (const rule of this.rules) rule.resetCounts();
    this.state?.store.clear();
  }

  stateListing(): StateListing {
    const state = this.state;
    // fromEntries defines each key as its own property, "__proto__" included.
    const keys: Record<string, StateListingEntry> = Object.fromEntries(
      [...(state?.store.entries() ?? [])].map(([key, record]) => [
        key,
        {
          state: record.state,
          setAt: new Date(record.setAt).toISOString(),
          expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
        },
      ]),
    );
    return {
      stateKey: state?.key.form ?? null,
      stateTtlMs: state?.store.ttlMs ?? null,
      capacity: state?.store.capacity ?? MAX_STATE_KEYS,
      forgotten: state?.store.forgotten ?? 0,
      keys,
    };
  }

  clearState(): number {
    return this.state?.store.clear() ?? 0;
  }

  keyStats(): KeyStats {
    return {
      stateKeys: this.state?.store.size ?? 0,
      stateKeysForgotten: this.state?.store.forgotten ?? 0,
      perKeyRules: this.perKeyRules.map((rule) => ({ rule: rule.name, keys: rule.perKey!.counts.size, forgotten: rule.perKey!.counts.forgotten })),
    };
  }

  /**
   * A stateful request: the rules see the state of its key; the rule that answers may set or
   * clear it. A request without a key sees no state, and a state change for it is ignored
   * (with a journal warning): requests without a key never share a state.
   */
  private answerWithState({ key: stateKey, store }: ScenarioState, facts: RequestFacts, orUnmatched: boolean): Decision | null {
    const key = stateKey.of(facts);
    const before = key === null ? null : store.get(key);
    const seen: RequestFacts = before === null ? facts : { request: facts.request, client: facts.client, state: before };
    const decision = this.index.firstAnswer(seen) ?? (orUnmatched ? this.unmatched(seen) : null);
    if (decision === null) return null;
    const change = decision.change ?? null;
    if (key === null) {
      if (change !== null) decision.warnings = [ignoredChangeWarning(stateKey, change, decision.rule, facts)];
      decision.state = null;
      return decision;
    }
    let after = before;
    if (change !== null) {
      if (change.kind === 'set') store.set(key, (after = change.state));
      else {
        store.delete(key);
        after = null;
      }
    }
    decision.state = { key, before, after };
    return decision;
  }

  private unmatched(facts: RequestFacts, countOf?: (rule: CompiledRule) => number): RuleDecision {
    return {
      scenario: this.name,
      rule: null,
      step: null,
      nearMisses: nearMisses(this.rules, facts, countOf),
      plan: this.unmatchedResponse.build(facts, NO_PROBLEMS),
      state: null,
    };
  }
}
