/**
 * A validated scenario compiled once into its run-time object (ScenarioRuntime): matchers,
 * templates, delays and response shapes are all prepared at load; per request only the
 * answer itself is built. The pieces, each in its own module:
 *
 * - rule.ts: a compiled rule, which tries a request and explains a miss;
 * - rule-index.ts: which rules a request needs to try (the contentID index);
 * - responses.ts: responses compiled into plan builders (defaults merged, echoes, templates);
 * - near-misses.ts: the closest rules of an unmatched request;
 * - scenario-runtime.ts: the object compileScenario returns (answer, state, counters);
 * - ../format/checks.ts: the checks of the format, shared with validation.
 *
 * Rules are tried in order; the first that matches and is not used up answers. A rule's
 * name is its `name:` or `rule-<1-based index>`. Decisions are documented in docs/scenarios.md.
 */
import type { CompiledScenario, RandomSource } from './engine.js';
import { MATCH_KEYS, type MatchKey, type Matcher, type Response, type Rule } from '../format/format.js';
import { answerWaysProblem, stateChangeProblems } from '../format/checks.js';
import type { LoadedScenario } from '../format/loaded.js';
import { compileMatcher } from './matchers.js';
import { CompileProblems, type ValuePath } from './compile-problems.js';
import { ResponseCompiler, type RuleResponse } from './responses.js';
import { CompiledRule, OneResponse, RandomResponse, READERS, SequenceOfResponses, type Condition, type RuleResponder } from './rule.js';
import { RuleIndex } from './rule-index.js';
import { ScenarioRuntime, type ScenarioState } from './scenario-runtime.js';
import { compileKey, type CompiledKey } from './state/key.js';
import { StateStore } from './state/store.js';
import { KeyedCounts } from './state/counts.js';
import { parseTtl } from './state/ttl.js';
import type { SharedScope } from './state/shared.js';

export { DEFAULT_EP_TOKEN_URL } from './responses.js';
export { NEAR_MISS_COUNT } from './near-misses.js';
export { ScenarioCompileError, type ValuePath } from './compile-problems.js';

/** With `shared`, the rule set's counters and states live there (state/shared.ts); else in the compiled object. */
export function compileScenario(loaded: LoadedScenario, random: RandomSource, shared: SharedScope | null = null): CompiledScenario {
  return new ScenarioCompiler(loaded, random, shared).compile();
}

class ScenarioCompiler {
  private readonly problems = new CompileProblems();
  private readonly responses: ResponseCompiler;
  /** `respond:` rules with the same response share one responder. */
  private readonly oneResponses = new Map<RuleResponse, OneResponse>();

  constructor(
    private readonly loaded: LoadedScenario,
    private readonly random: RandomSource,
    private readonly shared: SharedScope | null,
  ) {
    this.responses = new ResponseCompiler(random, this.problems);
  }

  compile(): ScenarioRuntime {
    const { name, definition } = this.loaded;
    // Problems in defaults are reported once, under defaults, before the rules that inherit them.
    if (definition.defaults) {
      this.responses.check(definition.defaults, ['defaults']);
      this.checkStateChange(definition.defaults, ['defaults']);
    }
    const ruleDefinitions = definition.rules ?? [];
    const rules = ruleDefinitions.map((rule, index) => this.compileRule(rule, index));
    for (const key of ['invalid', 'unmatched'] as const) {
      const response = definition[key];
      if (response) this.checkStateChange(response, [key]);
    }
    const state = this.compileState(rules);
    const unmatchedResponse = this.responses.builtInResponse(definition.unmatched ?? {}, ['unmatched'], {
      builtIn: { status: 404, isAllowed: false, error: 404 },
      errorText: (facts) => `no rule of scenario ${JSON.stringify(name)} matched contentID ${quote(facts.request.contentID)}`,
    });
    const invalidResponse = this.responses.builtInResponse(definition.invalid ?? {}, ['invalid'], {
      builtIn: { status: 400, isAllowed: false, error: 400 },
      errorText: (_facts, problems) => (problems.length > 0 ? problems.join('; ') : 'invalid Entitlement Request'),
    });
    this.problems.throwIfAny(name);

    const index = new RuleIndex(
      rules,
      ruleDefinitions.map((rule) => rule.match?.contentID),
    );
    return new ScenarioRuntime(name, this.loaded.file, definition.description ?? '', rules, index, state, unmatchedResponse, invalidResponse, this.shared);
  }

  /** The scenario's state key and store, when a rule uses state; null otherwise (its requests then do no state work). */
  private compileState(rules: readonly CompiledRule[]): ScenarioState | null {
    const definition = this.loaded.definition;
    const stateKey = this.compileKeyAt(definition.stateKey ?? 'customerCookie', ['stateKey']);
    let stateTtlMs: number | null = null;
    if (definition.stateTtl !== undefined) {
      try {
        stateTtlMs = parseTtl(definition.stateTtl);
      } catch (error) {
        this.problems.caught(['stateTtl'], error);
      }
    }
    return stateKey !== null && rules.some((rule) => rule.usesState) ? { key: stateKey, store: new StateStore(stateTtlMs) } : null;
  }

  private compileRule(rule: Rule, index: number): CompiledRule {
    const path: ValuePath = ['rules', index];
    const name = rule.name ?? `rule-${index + 1}`;
    const conditions: Condition[] = [];
    for (const key of Object.keys(rule.match ?? {}) as MatchKey[]) {
      const matcher = rule.match?.[key] as Matcher | undefined;
      if (matcher === undefined || !MATCH_KEYS.includes(key)) continue;
      try {
        conditions.push({ key, matcher: compileMatcher(matcher), read: READERS[key] });
      } catch (error) {
        this.problems.caught([...path, 'match', key], error);
      }
    }
    const ways = answerWaysProblem(rule, path);
    if (ways) this.problems.add(ways);

    const defaults = this.loaded.definition.defaults;
    const responses = [rule.respond, ...(rule.sequence ?? []), ...(rule.random ?? [])];
    const usesState =
      rule.match?.state !== undefined ||
      [...responses, defaults].some((response) => response?.setState !== undefined || response?.clearState === true);
    const responder = this.compileResponder(rule, path);
    const perKey = rule.perKey === undefined ? null : this.compileKeyAt(rule.perKey, [...path, 'perKey']);
    return new CompiledRule(
      this.loaded.name,
      index,
      name,
      conditions,
      rule.times ?? Infinity,
      perKey === null ? null : { key: perKey, counts: new KeyedCounts() },
      usesState,
      responder,
    );
  }

  /** How the rule picks its answer: its sequence, its random choice, or its one response. */
  private compileResponder(rule: Rule, path: ValuePath): RuleResponder {
    const defaults = this.loaded.definition.defaults;
    const compile = (response: Response, at: ValuePath): RuleResponse => {
      this.checkStateChange(response, at);
      return this.responses.ruleResponse(response, defaults, at);
    };
    if (rule.sequence) {
      const steps = rule.sequence.map((step, i) => compile(step, [...path, 'sequence', i]));
      return new SequenceOfResponses(steps, rule.loop === true);
    }
    if (rule.random) {
      const choices = rule.random.map(({ weight: _weight, ...choice }, i) => compile(choice, [...path, 'random', i]));
      return new RandomResponse(
        choices,
        rule.random.map(({ weight }) => weight),
        this.random,
      );
    }
    const response = compile(rule.respond ?? {}, [...path, 'respond']);
    let responder = this.oneResponses.get(response);
    if (responder === undefined) this.oneResponses.set(response, (responder = new OneResponse(response)));
    return responder;
  }

  private checkStateChange(response: Response, path: ValuePath): void {
    for (const problem of stateChangeProblems(response, path)) this.problems.add(problem);
  }

  /** A key form (stateKey, perKey) compiled, or null after recording the problem. */
  private compileKeyAt(form: string, path: ValuePath): CompiledKey | null {
    try {
      return compileKey(form);
    } catch (error) {
      this.problems.caught(path, error);
      return null;
    }
  }
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
