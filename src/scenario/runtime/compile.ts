/**
 * A validated scenario compiled once into a fast runtime (CompiledScenario): matchers,
 * templates, delays and response shapes are all prepared at load; per request only the
 * answer itself is built.
 *
 * Decisions (documented in docs/scenarios.md):
 * - Rules are tried in order; the first that matches and is not used up answers. A rule's
 *   name is its `name:` or `rule-<1-based index>`.
 * - One counter per rule counts the requests it answered. `times: N` skips the rule once
 *   it answered N; a `sequence:` answers step `count` (the last step repeats, or with
 *   `loop: true` it restarts). Every matching request takes a step, faults included.
 * - `defaults:` is merged under every response of the rules (`respond:`, each sequence
 *   step, each random choice): a key the response does not set comes from defaults;
 *   `extra` and `headers` are merged entry by entry (the response's entries win). The
 *   `invalid:` and `unmatched:` responses are merged over their own built-in defaults
 *   instead, not over `defaults:` (a `defaults: {isAllowed: true}` must not allow
 *   broken requests).
 * - Response keys: messageID `echo` (default) / `mismatch` (a fresh GUID that is not the
 *   request's) / any other value sent as written; version `echo` (default) or as written;
 *   isAllowed as written (default true); epTokenURL a template, default the FairPlay shape
 *   with a fresh token, or `""` when isAllowed is the boolean false and no epTokenURL is
 *   set (a default one counts as set); error and errorText only when set (a string
 *   errorText is a template); `extra` fields are added after these (and win); `omit`
 *   removes fields last. Default status 200. The Content-Type default is the responder's
 *   (application/json for JSON, text/plain for a raw `body`); `headers` override it.
 * - Invalid requests (`answerInvalid`): built-in HTTP 400, isAllowed false, error 400,
 *   errorText = every problem joined with "; ", epTokenURL "", messageID echoed when the
 *   raw request had a string messageID (else left out: there is nothing to echo), version
 *   echoed when the raw request had a positive whole number (or such a numeric string),
 *   else 1. Templates see whatever fields the raw request had.
 * - Unmatched requests: built-in HTTP 404, isAllowed false, error 404, errorText
 *   `no rule of scenario "<name>" matched contentID "<id>"`, epTokenURL "", plus near misses:
 *   the three closest rules (fewest failed keys, ties by rule order; a used-up rule fails
 *   the key `times`).
 * - Speed: rules whose contentID matcher is exact (a string, number, `equals`, or a list of
 *   those) are indexed by contentID; rules whose contentID matcher fixes its first character
 *   (a glob or `^`-anchored regex with a literal start, or a list of those) are indexed by
 *   that character. A request walks, in rule order, the rules indexed under its contentID
 *   and under its first character merged with the rules that could match any contentID, so
 *   its cost is the number of those before the one that answers, whatever the number of
 *   indexed rules. Identical responses (after merging defaults) share one compiled builder.
 */
import { randomUUID } from 'node:crypto';
import type { EntitlementRequest } from '../../protocol/types.js';
import type {
  CompiledScenario,
  Decision,
  InvalidRequestFacts,
  NearMiss,
  RandomSource,
  RequestFacts,
  ResponsePlan,
  StateListing,
  StateListingEntry,
} from './engine.js';
import { MATCH_KEYS, type MatchKey, type Matcher, type Response, type Rule } from '../format/format.js';
import type { LoadedScenario } from '../format/loaded.js';
import { compileMatcher, exactStrings, missReason, type CompiledMatcher } from './matchers.js';
import { parseDelay, pickDelayMs } from './delay.js';
import { compileTemplate } from './templates.js';
import { compileKey, type CompiledKey } from './state/key.js';
import { MAX_STATE_KEYS, StateStore } from './state/store.js';
import { KeyedCounts } from './state/counts.js';
import { parseTtl } from './state/ttl.js';

/** The epTokenURL of an allowing response that sets none: the shape ExpressPlay returns for FairPlay. */
export const DEFAULT_EP_TOKEN_URL = 'https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken={{token}}';

/** How many near misses an unmatched request reports. */
export const NEAR_MISS_COUNT = 3;

export type ValuePath = (string | number)[];

/** Everything in a scenario that could not be compiled, each with its path in the definition. */
export class ScenarioCompileError extends Error {
  readonly problems: readonly { path: ValuePath; message: string }[];
  /** The first problem's path (for callers that position one error). */
  readonly path: ValuePath;
  constructor(scenario: string, problems: { path: ValuePath; message: string }[]) {
    super(`scenario "${scenario}": ${problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join('; ')}`);
    this.name = 'ScenarioCompileError';
    this.problems = problems;
    this.path = problems[0]?.path ?? [];
  }
}

export function compileScenario(loaded: LoadedScenario, random: RandomSource): CompiledScenario {
  return new ScenarioCompiler(loaded, random).compile();
}

// ---------------------------------------------------------------------------

/** Builds the answer for one request; `problems` only for invalid requests. */
type PlanBuilder = (facts: RequestFacts, problems: readonly string[]) => ResponsePlan;

/** What a rule's response does to the request's state after answering. */
type StateChange = { kind: 'set'; state: string } | { kind: 'clear' };

/** A rule's response (respond, a sequence step, a random choice): the answer and its state change. */
interface RuleResponse {
  readonly build: PlanBuilder;
  readonly change: StateChange | null;
}

/** What a rule answers to one request. */
interface RuleAnswer {
  plan: ResponsePlan;
  step: number | null;
  change: StateChange | null;
}

/** A decision, with the state change of the rule that answered (the stateful path applies it; stateless scenarios ignore it). */
type RuleDecision = Decision & { readonly change?: StateChange | null };

/** The per-key state of a scenario that uses state: whose state, and where it is kept. */
interface ScenarioState {
  readonly key: CompiledKey;
  readonly store: StateStore;
}

interface Condition {
  readonly key: MatchKey;
  readonly matcher: CompiledMatcher;
  readonly read: (facts: RequestFacts) => unknown;
}

interface CompiledRule {
  readonly index: number;
  readonly name: string;
  readonly conditions: readonly Condition[];
  /** The conditions other than contentID: enough when the rule was found by its indexed contentID. */
  readonly conditionsBesideContentID: readonly Condition[];
  /** Infinity without `times:`. */
  readonly times: number;
  /** With `perKey:`, the key and its counts; null when the rule counts all requests together. */
  readonly perKey: { readonly key: CompiledKey; readonly counts: KeyedCounts } | null;
  /** The rule matches on state or one of its responses sets or clears it. */
  readonly usesState: boolean;
  /** The plan, the sequence step and the state change for the request that is the rule's `count`-th answer (from 0). */
  readonly respond: (facts: RequestFacts, count: number) => RuleAnswer;
}

/** How each match key is read from a request. Null identity fields count as absent. */
const READERS: Record<MatchKey, (facts: RequestFacts) => unknown> = {
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

const OMITTED = Symbol('omitted');
const CLEAR_STATE: StateChange = Object.freeze({ kind: 'clear' });
const NO_CONDITIONS: readonly Condition[] = Object.freeze([]);
const NO_RULES: readonly CompiledRule[] = Object.freeze([]);
type FieldValue = (facts: RequestFacts, problems: readonly string[]) => unknown;

class ScenarioCompiler {
  private readonly problems: { path: ValuePath; message: string }[] = [];
  private readonly seenProblems = new Set<string>();
  private readonly builders = new Map<string, RuleResponse>();
  /** `respond:` rules with the same response share one responder. */
  private readonly singleResponders = new Map<RuleResponse, CompiledRule['respond']>();
  private readonly defaultTokenURL = compileTemplate(DEFAULT_EP_TOKEN_URL, { percentEncode: true });

  constructor(
    private readonly loaded: LoadedScenario,
    private readonly random: RandomSource,
  ) {}

  compile(): CompiledScenario {
    const loaded = this.loaded;
    const definition = loaded.definition;
    const name = loaded.name;
    // Problems in defaults are reported once, under defaults, before the rules that inherit them.
    if (definition.defaults) {
      this.compileResponse(definition.defaults, ['defaults'], {});
      this.stateChangeOf(definition.defaults, ['defaults']);
    }
    const rules = (definition.rules ?? []).map((rule, index) => this.compileRule(rule, index));
    for (const key of ['invalid', 'unmatched'] as const) {
      for (const field of ['setState', 'clearState'] as const) {
        if (definition[key]?.[field] !== undefined) {
          this.problem([key, field], new Error(`${field} applies to the rules' responses (and defaults:), not to ${key}:`));
        }
      }
    }
    const stateKey = this.compileKeyAt(definition.stateKey ?? 'customerCookie', ['stateKey']);
    let stateTtlMs: number | null = null;
    if (definition.stateTtl !== undefined) {
      try {
        stateTtlMs = parseTtl(definition.stateTtl);
      } catch (error) {
        this.problem(['stateTtl'], error);
      }
    }
    // Scenarios that use no state get no store, and their requests do no state work at all.
    const scenarioState: ScenarioState | null =
      stateKey !== null && rules.some((rule) => rule.usesState) ? { key: stateKey, store: new StateStore(stateTtlMs) } : null;

    const unmatchedBuilder = this.compileResponse(definition.unmatched ?? {}, ['unmatched'], {
      builtIn: { status: 404, isAllowed: false, error: 404 },
      errorText: (facts) => `no rule of scenario ${JSON.stringify(name)} matched contentID ${quote(facts.request.contentID)}`,
    });
    const invalidBuilder = this.compileResponse(definition.invalid ?? {}, ['invalid'], {
      builtIn: { status: 400, isAllowed: false, error: 400 },
      errorText: (_facts, problems) => (problems.length > 0 ? problems.join('; ') : 'invalid Entitlement Request'),
    });
    if (this.problems.length > 0) throw new ScenarioCompileError(name, this.problems);

    // The contentID index; the rules it cannot hold by the first character their contentID
    // must start with (a glob's or ^-anchored regex's literal start); and the rest. All in rule order.
    const byContentID = new Map<string, CompiledRule[]>();
    const byFirstCharacter = new Map<string, CompiledRule[]>();
    const unindexed: CompiledRule[] = [];
    (definition.rules ?? []).forEach((rule, index) => {
      const compiled = rules[index]!;
      const contentIDMatcher = rule.match?.contentID;
      const values = contentIDMatcher === undefined ? null : exactStrings(contentIDMatcher);
      if (values === null) {
        const firsts = contentIDMatcher === undefined ? null : firstCharacters(contentIDMatcher);
        if (firsts === null) unindexed.push(compiled);
        for (const first of firsts ?? []) {
          const list = byFirstCharacter.get(first);
          if (list === undefined) byFirstCharacter.set(first, [compiled]);
          else list.push(compiled);
        }
        return;
      }
      for (const value of new Set(values)) {
        const list = byContentID.get(value);
        if (list === undefined) byContentID.set(value, [compiled]);
        else list.push(compiled);
      }
    });

    const counts = new Float64Array(rules.length);
    const ruleNames = Object.freeze(rules.map((rule) => rule.name));

    const perKeyRules = rules.filter((rule) => rule.perKey !== null);

    const tryRule = (rule: CompiledRule, conditions: readonly Condition[], facts: RequestFacts): RuleDecision | null => {
      const perKey = rule.perKey;
      let count: number;
      if (perKey === null) {
        count = counts[rule.index]!;
        if (count >= rule.times) return null;
        for (const condition of conditions) if (!condition.matcher.test(condition.read(facts))) return null;
        counts[rule.index] = count + 1;
      } else {
        for (const condition of conditions) if (!condition.matcher.test(condition.read(facts))) return null;
        const key = perKey.key.of(facts);
        count = perKey.counts.get(key);
        if (count >= rule.times) return null;
        perKey.counts.set(key, count + 1);
      }
      const { plan, step, change } = rule.respond(facts, count);
      return { scenario: name, rule: rule.name, step, plan, change };
    };

    /** How many times a rule answered (for this request's key when it counts per key). */
    const countFor = (rule: CompiledRule, facts: RequestFacts): number =>
      rule.perKey === null ? counts[rule.index]! : rule.perKey.counts.get(rule.perKey.key.of(facts));

    const nearMisses = (facts: RequestFacts): NearMiss[] => {
      // Fewest failed keys first, ties by rule order; the scan stops once nothing can get closer.
      const closest: { rule: CompiledRule; failures: number }[] = [];
      for (const rule of rules) {
        const limit = closest.length < NEAR_MISS_COUNT ? Infinity : closest[NEAR_MISS_COUNT - 1]!.failures - 1;
        if (limit < 1) break;
        let failures = countFor(rule, facts) >= rule.times ? 1 : 0;
        for (const condition of rule.conditions) {
          if (failures > limit) break;
          if (!condition.matcher.test(condition.read(facts))) failures++;
        }
        if (failures > limit || failures === 0) continue;
        let at = closest.length;
        while (at > 0 && closest[at - 1]!.failures > failures) at--;
        closest.splice(at, 0, { rule, failures });
        if (closest.length > NEAR_MISS_COUNT) closest.pop();
      }
      return closest.map(({ rule }) => {
        const failed: NearMiss['failed'] = [];
        const count = countFor(rule, facts);
        if (count >= rule.times) {
          const whose = rule.perKey === null ? '' : ` for this ${rule.perKey.key.form}`;
          failed.push({ key: 'times', reason: `already answered ${count}${whose} of times: ${rule.times}` });
        }
        for (const { key, matcher, read } of rule.conditions) {
          const value = read(facts);
          if (!matcher.test(value)) failed.push({ key, reason: missReason(matcher, value) });
        }
        return { rule: rule.name, failed };
      });
    };

    return {
      name,
      file: loaded.file,
      description: definition.description ?? '',
      ruleNames,

      answer(facts: RequestFacts): Decision {
        return scenarioState === null ? (decide(facts) ?? unmatched(facts)) : decideWithState(scenarioState, facts, unmatched)!;
      },

      answerIfMatched(facts: RequestFacts): Decision | null {
        return scenarioState === null ? decide(facts) : decideWithState(scenarioState, facts, null);
      },

      answerInvalid(facts: InvalidRequestFacts): Decision {
        const raw = facts.request;
        const request = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as EntitlementRequest;
        return {
          scenario: name,
          rule: null,
          step: null,
          plan: invalidBuilder({ request, client: facts.client }, facts.problems),
          state: null,
        };
      },

      resetCounters(): void {
        counts.fill(0);
        for (const rule of perKeyRules) rule.perKey!.counts.reset();
        scenarioState?.store.clear();
      },

      stateListing(): StateListing {
        // fromEntries defines each key as its own property, "__proto__" included.
        const keys: Record<string, StateListingEntry> = Object.fromEntries(
          [...(scenarioState?.store.entries() ?? [])].map(([key, record]) => [
            key,
            {
              state: record.state,
              setAt: new Date(record.setAt).toISOString(),
              expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
            },
          ]),
        );
        return {
          stateKey: scenarioState?.key.form ?? null,
          stateTtlMs: scenarioState?.store.ttlMs ?? null,
          capacity: scenarioState?.store.capacity ?? MAX_STATE_KEYS,
          forgotten: scenarioState?.store.forgotten ?? 0,
          keys,
        };
      },

      clearState(): number {
        return scenarioState?.store.clear() ?? 0;
      },

      keyStats() {
        return {
          stateKeys: scenarioState?.store.size ?? 0,
          stateKeysForgotten: scenarioState?.store.forgotten ?? 0,
          perKeyRules: perKeyRules.map((rule) => ({ rule: rule.name, keys: rule.perKey!.counts.size, forgotten: rule.perKey!.counts.forgotten })),
        };
      },
    };

    /**
     * A stateful request: the rules see the state of its key; the rule that answers may set or
     * clear it. A request without a key sees no state, and a state change for it is ignored
     * (with a journal warning): requests without a key never share a state.
     */
    function decideWithState(
      { key: stateKey, store }: ScenarioState,
      facts: RequestFacts,
      orElse: ((facts: RequestFacts) => RuleDecision) | null,
    ): Decision | null {
      const key = stateKey.of(facts);
      const before = key === null ? null : store.get(key);
      const seen: RequestFacts = before === null ? facts : { request: facts.request, client: facts.client, state: before };
      const decision = decide(seen) ?? orElse?.(seen) ?? null;
      if (decision === null) return null;
      const change = decision.change ?? null;
      if (key === null) {
        if (change !== null) {
          const missing = stateKey.fields.filter((field) => (field === 'clientCN' ? facts.client.cn === null : facts.request[field] === undefined));
          decision.warnings = [
            `${change.kind === 'set' ? `setState: ${change.state}` : 'clearState'} of rule "${decision.rule}" ignored: the request has no ${missing.join(', ')} (stateKey ${stateKey.form})`,
          ];
        }
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

    /** The decision of the first rule that matches, or null. */
    function decide(facts: RequestFacts): RuleDecision | null {
      const contentID = facts.request.contentID;
      if (typeof contentID !== 'string') {
        // Not a valid request after all: no index, every rule in order.
        for (const rule of rules) {
          const decision = tryRule(rule, rule.conditions, facts);
          if (decision) return decision;
        }
      } else {
        // Merge, in rule order, the rules indexed under this contentID, the pattern rules for
        // its first character, and the rules that could match any contentID.
        const indexed = byContentID.get(contentID) ?? NO_RULES;
        const patterns = (contentID.length > 0 && byFirstCharacter.get(contentID[0]!)) || NO_RULES;
        let i = 0;
        let p = 0;
        let u = 0;
        for (;;) {
          const fromIndex = i < indexed.length ? indexed[i]! : null;
          const pattern = p < patterns.length ? patterns[p]! : null;
          const general = u < unindexed.length ? unindexed[u]! : null;
          let decision: Decision | null;
          if (fromIndex !== null && (pattern === null || fromIndex.index < pattern.index) && (general === null || fromIndex.index < general.index)) {
            i++;
            decision = tryRule(fromIndex, fromIndex.conditionsBesideContentID, facts);
          } else if (pattern !== null && (general === null || pattern.index < general.index)) {
            p++;
            decision = tryRule(pattern, pattern.conditions, facts);
          } else if (general !== null) {
            u++;
            decision = tryRule(general, general.conditions, facts);
          } else {
            break;
          }
          if (decision) return decision;
        }
      }
      return null;
    }

    function unmatched(facts: RequestFacts): RuleDecision {
      return { scenario: name, rule: null, step: null, nearMisses: nearMisses(facts), plan: unmatchedBuilder(facts, []), state: null };
    }
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
        this.problem([...path, 'match', key, ...errorPath(error)], error);
      }
    }
    const defaults = this.loaded.definition.defaults;
    const ways = [rule.respond, rule.sequence, rule.random].filter((way) => way !== undefined).length;
    if (ways !== 1) this.problem(path, new Error('a rule needs exactly one of respond, sequence or random'));

    let respond: CompiledRule['respond'];
    if (rule.sequence) {
      const steps = rule.sequence.map((step, i) => this.compileRuleResponse(step, defaults, [...path, 'sequence', i]));
      const last = steps.length - 1;
      const loop = rule.loop === true;
      respond = (facts, count) => {
        const step = loop ? count % steps.length : Math.min(count, last);
        const response = steps[step]!;
        return { plan: response.build(facts, []), step, change: response.change };
      };
    } else if (rule.random) {
      const choices = rule.random.map(({ weight: _weight, ...choice }, i) =>
        this.compileRuleResponse(choice, defaults, [...path, 'random', i]),
      );
      const cumulative: number[] = [];
      let total = 0;
      for (const { weight } of rule.random) cumulative.push((total += weight));
      const random = this.random;
      respond = (facts) => {
        const target = random() * total;
        let choice = 0;
        while (choice < cumulative.length - 1 && cumulative[choice]! <= target) choice++;
        const response = choices[choice]!;
        return { plan: response.build(facts, []), step: null, change: response.change };
      };
    } else {
      const response = this.compileRuleResponse(rule.respond ?? {}, defaults, [...path, 'respond']);
      const { build, change } = response;
      respond = this.singleResponders.get(response) ?? ((facts) => ({ plan: build(facts, []), step: null, change }));
      this.singleResponders.set(response, respond);
    }
    const responses = [rule.respond, ...(rule.sequence ?? []), ...(rule.random ?? [])];
    const usesState =
      rule.match?.state !== undefined ||
      [...responses, defaults].some((response) => response?.setState !== undefined || response?.clearState === true);
    const perKeyForm = rule.perKey === undefined ? null : this.compileKeyAt(rule.perKey, [...path, 'perKey']);

    return {
      index,
      name,
      conditions,
      conditionsBesideContentID:
        conditions.length === 1 && conditions[0]!.key === 'contentID' ? NO_CONDITIONS : conditions.filter((c) => c.key !== 'contentID'),
      times: rule.times ?? Infinity,
      perKey: perKeyForm === null ? null : { key: perKeyForm, counts: new KeyedCounts() },
      usesState,
      respond,
    };
  }

  /** A key form (stateKey, perKey) compiled, or null after recording the problem. */
  private compileKeyAt(form: string, path: ValuePath): CompiledKey | null {
    try {
      return compileKey(form);
    } catch (error) {
      this.problem(path, error);
      return null;
    }
  }

  /** A response's state change; setState with clearState is a problem. */
  private stateChangeOf(response: Response, path: ValuePath, pathOf: (key: string) => ValuePath = () => path): StateChange | null {
    const { setState, clearState } = response;
    if (setState !== undefined && clearState === true) {
      this.problem([...pathOf('clearState'), 'clearState'], new Error('setState and clearState cannot be combined: a response sets a state or clears it'));
      return null;
    }
    if (setState !== undefined) return { kind: 'set', state: setState };
    return clearState === true ? CLEAR_STATE : null;
  }

  /** A rule's response with `defaults:` merged under it; identical results share one builder. */
  private compileRuleResponse(response: Response, defaults: Response | undefined, path: ValuePath): RuleResponse {
    const merged = defaults === undefined ? response : mergeResponses(defaults, response);
    const pathOf = (key: string): ValuePath => (key in response || defaults === undefined ? path : ['defaults']);
    let cacheKey: string | null = null;
    try {
      cacheKey = JSON.stringify(merged);
    } catch {
      // Not JSON-shaped (cannot come from YAML or JSON): compile it on its own.
    }
    const cached = cacheKey === null ? undefined : this.builders.get(cacheKey);
    if (cached) return cached;
    const compiled: RuleResponse = { build: this.compileResponse(merged, path, {}, pathOf), change: this.stateChangeOf(merged, path, pathOf) };
    if (cacheKey !== null) this.builders.set(cacheKey, compiled);
    return compiled;
  }

  private compileResponse(
    written: Response,
    path: ValuePath,
    special: {
      builtIn?: Response;
      errorText?: (facts: RequestFacts, problems: readonly string[]) => string;
    },
    pathOf: (key: string) => ValuePath = () => path,
  ): PlanBuilder {
    const response: Response = special.builtIn ? { ...special.builtIn, ...written } : written;

    let delay: () => number = () => 0;
    if (response.delay !== undefined) {
      try {
        const spec = parseDelay(response.delay);
        const random = this.random;
        delay = spec.kind === 'fixed' ? () => spec.ms : () => pickDelayMs(spec, random);
      } catch (error) {
        this.problem([...pathOf('delay'), 'delay'], error);
      }
    }

    const fault = response.fault;
    if (fault === 'hang' || fault === 'reset' || fault === 'close') {
      return () => ({ kind: 'fault', fault, delayMs: delay() });
    }
    const delivery = fault === 'slow' || fault === 'partial' ? fault : 'whole';
    const status = response.status ?? 200;
    const headers: Record<string, string> = {};
    for (const [header, value] of Object.entries(response.headers ?? {})) headers[header] = String(value);
    const hasHeaders = Object.keys(headers).length > 0;

    if (response.body !== undefined) {
      const body = response.body;
      return () => ({
        kind: 'raw',
        status,
        headers: hasHeaders ? { ...headers } : {},
        body,
        delayMs: delay(),
        delivery,
      });
    }

    const fields = this.compileFields(response, pathOf, special.errorText);
    return (facts, problems) => {
      const body: Record<string, unknown> = {};
      for (const [field, value] of fields) {
        const v = value(facts, problems);
        if (v === OMITTED) continue;
        if (field === '__proto__') Object.defineProperty(body, field, { value: v, enumerable: true, writable: true, configurable: true });
        else body[field] = v;
      }
      return {
        kind: 'json',
        status,
        headers: hasHeaders ? { ...headers } : {},
        body,
        delayMs: delay(),
        delivery,
      };
    };
  }

  /** The JSON body's fields in the protocol's order, then `extra`, minus `omit`. */
  private compileFields(
    response: Response,
    pathOf: (key: string) => ValuePath,
    builtInErrorText: ((facts: RequestFacts, problems: readonly string[]) => string) | undefined,
  ): [string, FieldValue][] {
    const fields: [string, FieldValue][] = [];
    const constant = (value: unknown): FieldValue => {
      // Shared by every answer, so frozen; cloned first to leave the loaded definition alone.
      const frozen = typeof value === 'object' && value !== null ? deepFreeze(structuredClone(value)) : value;
      return () => frozen;
    };
    const template = (key: 'epTokenURL' | 'errorText', text: string, percentEncode: boolean): FieldValue => {
      try {
        return compileTemplate(text, { percentEncode });
      } catch (error) {
        this.problem([...pathOf(key), key], error);
        return () => '';
      }
    };

    const messageID = response.messageID;
    if (messageID === undefined || messageID === 'echo') fields.push(['messageID', echoMessageID]);
    else if (messageID === 'mismatch') fields.push(['messageID', mismatchedMessageID]);
    else fields.push(['messageID', constant(messageID)]);

    const version = response.version;
    fields.push(['version', version === undefined || version === 'echo' ? echoVersion : constant(version)]);

    const isAllowed = 'isAllowed' in response ? response.isAllowed : true;
    fields.push(['isAllowed', constant(isAllowed)]);

    if (response.epTokenURL !== undefined) fields.push(['epTokenURL', template('epTokenURL', response.epTokenURL, true)]);
    else if (isAllowed === false) fields.push(['epTokenURL', constant('')]);
    else fields.push(['epTokenURL', this.defaultTokenURL]);

    if ('error' in response) fields.push(['error', constant(response.error)]);

    const errorText = response.errorText;
    if (typeof errorText === 'string') fields.push(['errorText', template('errorText', errorText, false)]);
    else if ('errorText' in response) fields.push(['errorText', constant(errorText)]);
    else if (builtInErrorText) fields.push(['errorText', builtInErrorText]);

    for (const [field, value] of Object.entries(response.extra ?? {})) {
      const at = fields.findIndex(([existing]) => existing === field);
      if (at >= 0) fields[at] = [field, constant(value)];
      else fields.push([field, constant(value)]);
    }

    const omit = new Set<string>(response.omit ?? []);
    return fields.filter(([field]) => !omit.has(field));
  }

  private problem(path: ValuePath, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const key = `${formatPath(path)}\u0000${message}`;
    if (this.seenProblems.has(key)) return;
    this.seenProblems.add(key);
    this.problems.push({ path, message });
  }
}

// --- response values -------------------------------------------------------

function echoMessageID(facts: RequestFacts): unknown {
  const messageID = facts.request.messageID;
  return typeof messageID === 'string' ? messageID : OMITTED;
}

/** A fresh GUID that is not the request's. */
function mismatchedMessageID(facts: RequestFacts): string {
  let guid = randomUUID();
  while (guid === facts.request.messageID) guid = randomUUID();
  return guid;
}

/** The request's version when it is a positive whole number (or such a numeric string, as invalid requests may carry), else 1. */
function echoVersion(facts: RequestFacts): number {
  const version: unknown = facts.request.version;
  if (typeof version === 'number') return Number.isSafeInteger(version) && version > 0 ? version : 1;
  if (typeof version === 'string' && /^\s*\d{1,15}\s*$/.test(version)) {
    const number = Number(version);
    return number > 0 ? number : 1;
  }
  return 1;
}

/** `defaults` under `response`: the response's keys win; `extra` and `headers` merge entry by entry. */
function mergeResponses(defaults: Response, response: Response): Response {
  const merged: Response = { ...defaults, ...response };
  // setState and clearState are one choice: a response that makes it overrides defaults' either way.
  if (response.setState !== undefined || response.clearState !== undefined) {
    if (response.setState === undefined) delete merged.setState;
    if (response.clearState === undefined) delete merged.clearState;
  }
  if (defaults.extra && response.extra) merged.extra = { ...defaults.extra, ...response.extra };
  if (defaults.headers && response.headers) {
    const overridden = new Set(Object.keys(response.headers).map((h) => h.toLowerCase()));
    const kept = Object.entries(defaults.headers).filter(([h]) => !overridden.has(h.toLowerCase()));
    merged.headers = { ...Object.fromEntries(kept), ...response.headers };
  }
  return merged;
}

/**
 * The characters a contentID matching `m` can start with, when `m` fixes them (a glob or an
 * exact value with a literal first character, a regex starting `^` and a literal character,
 * or a list of those); null when any contentID might match. A string is tested against
 * a glob or regex as it is, so its first UTF-16 unit must be the pattern's.
 */
function firstCharacters(m: Matcher): string[] | null {
  const literal = (text: string): string[] | null => (text.length > 0 && text[0] !== '*' && text[0] !== '?' ? [text[0]!] : null);
  if (typeof m === 'string') return literal(m);
  if (typeof m === 'number' || typeof m === 'boolean') return [String(m)[0]!];
  if (Array.isArray(m)) {
    const all = new Set<string>();
    for (const item of m) {
      const firsts = firstCharacters(item);
      if (firsts === null) return null;
      for (const first of firsts) all.add(first);
    }
    return [...all];
  }
  if ('equals' in m) {
    // Never a glob: the value's string form is the whole contentID.
    const text = m.equals === null ? '' : String(m.equals);
    return text.length > 0 ? [text[0]!] : null;
  }
  if ('glob' in m && typeof m.glob === 'string') return literal(m.glob);
  if ('regex' in m && typeof m.regex === 'string') {
    // `^x…` where x is an ordinary character that no quantifier makes optional, and no `|` anywhere.
    const source = m.regex;
    const ordinary = (c: string | undefined) => c !== undefined && !'\\.[]()*+?{}|^$'.includes(c);
    if (source[0] === '^' && ordinary(source[1]) && (source.length < 3 || !'?*{'.includes(source[2]!)) && !source.includes('|')) return [source[1]!];
    return null;
  }
  return null;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function errorPath(error: unknown): ValuePath {
  const path = (error as { path?: unknown } | null)?.path;
  return Array.isArray(path) ? (path as ValuePath) : [];
}

function formatPath(path: ValuePath): string {
  return path.map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : i === 0 ? segment : `.${segment}`)).join('') || '(scenario)';
}
