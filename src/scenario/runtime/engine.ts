/**
 * The seam between the scenario engine (which decides) and the server/responder
 * (which delivers). Nothing here knows about Koa or sockets.
 */
import type { ClientIdentity, EntitlementRequest } from '../../protocol/types.js';
/** The responder's input (respond/ defines it): what a Decision carries. */
import type { ResponsePlan } from '../../respond/plan.js';

/** What matchers and templates see of a valid request. */
export interface RequestFacts {
  request: EntitlementRequest;
  client: ClientIdentity;
  /** The state of the request's state key, in scenarios that use state; absent when it has none. */
  state?: string;
}

export type { NearMiss, StateTransition } from './outcome.js';
import type { NearMiss, StateTransition } from './outcome.js';

/** What the engine sees of a request the protocol forbids (it never reaches the rules). */
export interface InvalidRequestFacts {
  /** Parsed JSON if it parsed (may be any JSON value), else null. */
  request: unknown;
  /** Every problem, in words, e.g. `messageID: required field missing`. */
  problems: string[];
  client: ClientIdentity;
}

export interface Decision {
  scenario: string;
  /** The rule that answered, or null for unmatched/invalid. */
  rule: string | null;
  /** Sequence index (from 0) when the rule has a sequence, else null. */
  step: number | null;
  /** Present when no rule matched: the closest rules and which keys failed. */
  nearMisses?: NearMiss[];
  plan: ResponsePlan;
  /** In a scenario that uses state: the request's key and its state before and after; else null (or absent). */
  state?: StateTransition | null;
  /** Things the journal should warn about (e.g. a setState ignored for a request without a key). */
  warnings?: string[];
  /** Why the answer is not the rules' (the shared state did not answer): the journal's problems. */
  problems?: string[];
}

export type { StateListing, StateListingEntry } from './state/listing.js';
import type { StateListing } from './state/listing.js';

/** Sizes of the bounded per-key structures (for /metrics). */
export interface KeyStats {
  stateKeys: number;
  stateKeysForgotten: number;
  /** One per perKey rule. */
  perKeyRules: { rule: string; keys: number; forgotten: number }[];
}

/** A scenario compiled once per load: matchers, templates, indexes and counters ready. */
export interface CompiledScenario {
  readonly name: string;
  /** Source file, or `(posted)` for a scenario sent to POST /admin/scenarios. */
  readonly file: string;
  readonly description: string;
  readonly ruleNames: readonly string[];
  /** Decide the answer to a valid request; advances times/sequence counters of the rule that matched. */
  answer(facts: RequestFacts): Decision;
  /** answer() when a rule matches; null (and nothing counted or built) when none does: a session's rules before the scenario's. */
  answerIfMatched(facts: RequestFacts): Decision | null;
  /**
   * answer(), and what the request path calls: with shared state (compiled with a SharedScope)
   * a promise when the request needs a shared count or state, else the decision itself.
   */
  decide(facts: RequestFacts): Decision | Promise<Decision>;
  /** answerIfMatched(), the same way. */
  decideIfMatched(facts: RequestFacts): Decision | null | Promise<Decision | null>;
  /** Decide the answer to a request the protocol forbids (the scenario's `invalid:` response). */
  answerInvalid(facts: InvalidRequestFacts): Decision;
  /** Reset every times/sequence counter (per-key ones included) and forget every state. */
  resetCounters(): void;
  /** The per-key states (GET /admin/state). */
  stateListing(): StateListing;
  /** Forget every state (DELETE /admin/state); returns how many keys held one. */
  clearState(): number;
  keyStats(): KeyStats;
}

/** Random source for `random:` choices and uniform delays; seeded by --seed. Returns [0, 1). */
export type RandomSource = () => number;
