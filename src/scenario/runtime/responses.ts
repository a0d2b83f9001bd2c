/**
 * Response building: a scenario's responses (`respond:`, sequence steps, random choices,
 * `defaults:`, `invalid:`, `unmatched:`) compiled once into plan builders, which per
 * request only fill in the echoes and templates. Each response key is read here
 * (compileFields for the JSON body's fields, compileResponse for status, headers, body,
 * delay and fault); a new response key is added to format.ts and here.
 *
 * Decisions (documented in docs/scenarios.md):
 * - `defaults:` is merged under every response of the rules (mergeResponses); `invalid:`
 *   and `unmatched:` are merged over their own built-in defaults instead (a `defaults:
 *   {isAllowed: true}` must not allow broken requests).
 * - messageID `echo` (default) / `mismatch` (a fresh GUID that is not the request's) / any
 *   other value sent as written; version `echo` (default) or as written; isAllowed as
 *   written (default true); epTokenURL a template, default the FairPlay shape with a fresh
 *   token, or `""` when isAllowed is the boolean false and no epTokenURL is set (a default
 *   one counts as set); error and errorText only when set (a string errorText is a
 *   template); `extra` fields are added after these (and win); `omit` removes fields last.
 *   Default status 200. The Content-Type default is the responder's (application/json for
 *   JSON, text/plain for a raw `body`); `headers` override it.
 * - Identical responses (after merging defaults) share one compiled builder.
 */
import { randomUUID } from 'node:crypto';
import type { Response } from '../format/format.js';
import { TEMPLATE_FIELDS } from '../format/checks.js';
import type { RandomSource, RequestFacts } from './engine.js';
import type { Delivery, ResponsePlan, SilentFault } from '../../respond/plan.js';
import { parseDelay, pickDelayMs } from './delay.js';
import { compileTemplate } from './templates.js';
import type { CompileProblems, ValuePath } from './compile-problems.js';

/** The epTokenURL of an allowing response that sets none: the shape ExpressPlay returns for FairPlay. */
export const DEFAULT_EP_TOKEN_URL = 'https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken={{token}}';

/** Builds the answer for one request; `problems` only for invalid requests (the built-in errorText lists them). */
export interface PlanBuilder {
  build(facts: RequestFacts, problems: readonly string[]): ResponsePlan;
}

/** What a rule's response does to the request's state after answering. */
export type StateChange = { readonly kind: 'set'; readonly state: string } | { readonly kind: 'clear' };

/** A rule's response (respond, a sequence step, a random choice): the answer and its state change. */
export interface RuleResponse {
  readonly plan: PlanBuilder;
  readonly change: StateChange | null;
}

/** The value of one JSON body field for one request; OMITTED leaves the field out. */
type FieldValue = (facts: RequestFacts, problems: readonly string[]) => unknown;

/** The built-in parts of `invalid:` and `unmatched:` under what the scenario writes. */
export interface BuiltInResponse {
  readonly builtIn: Response;
  readonly errorText: (facts: RequestFacts, problems: readonly string[]) => string;
}

const OMITTED = Symbol('omitted');
const CLEAR_STATE: StateChange = Object.freeze({ kind: 'clear' });

export class ResponseCompiler {
  private readonly compiled = new Map<string, RuleResponse>();
  private readonly defaultTokenURL = compileTemplate(DEFAULT_EP_TOKEN_URL, { percentEncode: true });

  constructor(
    private readonly random: RandomSource,
    private readonly problems: CompileProblems,
  ) {}

  /** A rule's response with `defaults:` merged under it; identical results share one builder. */
  ruleResponse(response: Response, defaults: Response | undefined, path: ValuePath): RuleResponse {
    const merged = defaults === undefined ? response : mergeResponses(defaults, response);
    // A problem in a key the response takes from defaults: is reported once, under defaults.
    const pathOf = (key: string): ValuePath => (key in response || defaults === undefined ? path : ['defaults']);
    let cacheKey: string | null = null;
    try {
      cacheKey = JSON.stringify(merged);
    } catch {
      // Not JSON-shaped (cannot come from YAML or JSON): compile it on its own.
    }
    const cached = cacheKey === null ? undefined : this.compiled.get(cacheKey);
    if (cached) return cached;
    const compiled: RuleResponse = { plan: this.compileResponse(merged, path, null, pathOf), change: stateChangeOf(merged) };
    if (cacheKey !== null) this.compiled.set(cacheKey, compiled);
    return compiled;
  }

  /** `invalid:` or `unmatched:`: what the scenario writes over the built-in answer. */
  builtInResponse(written: Response, path: ValuePath, builtIn: BuiltInResponse): PlanBuilder {
    return this.compileResponse({ ...builtIn.builtIn, ...written }, path, builtIn.errorText);
  }

  /** Compiles `response` only to report its problems (defaults:, before the rules that inherit it). */
  check(response: Response, path: ValuePath): void {
    this.compileResponse(response, path, null);
  }

  private compileResponse(
    response: Response,
    path: ValuePath,
    builtInErrorText: BuiltInResponse['errorText'] | null,
    pathOf: (key: string) => ValuePath = () => path,
  ): PlanBuilder {
    const delay = this.delayOf(response, pathOf);
    const fault = response.fault;
    if (fault === 'hang' || fault === 'reset' || fault === 'close') return new FaultPlanBuilder(fault, delay);
    const delivery: Delivery = fault === 'slow' || fault === 'partial' ? fault : 'whole';
    const status = response.status ?? 200;
    const headers: Record<string, string> = {};
    for (const [header, value] of Object.entries(response.headers ?? {})) headers[header] = String(value);
    if (response.body !== undefined) return new RawPlanBuilder(status, headers, response.body, delay, delivery);
    return new JsonPlanBuilder(status, headers, this.compileFields(response, pathOf, builtInErrorText), delay, delivery);
  }

  private delayOf(response: Response, pathOf: (key: string) => ValuePath): () => number {
    if (response.delay === undefined) return noDelay;
    try {
      const spec = parseDelay(response.delay);
      if (spec.kind === 'fixed') {
        const ms = spec.ms;
        return function fixedDelay() {
          return ms;
        };
      }
      const random = this.random;
      return function uniformDelay() {
        return pickDelayMs(spec, random);
      };
    } catch (error) {
      this.problems.caught([...pathOf('delay'), 'delay'], error);
      return noDelay;
    }
  }

  /** The JSON body's fields in the protocol's order, then `extra`, minus `omit`. */
  private compileFields(
    response: Response,
    pathOf: (key: string) => ValuePath,
    builtInErrorText: BuiltInResponse['errorText'] | null,
  ): [string, FieldValue][] {
    const fields: [string, FieldValue][] = [];
    const template = (key: (typeof TEMPLATE_FIELDS)[number]['key'], text: string): FieldValue => {
      try {
        return compileTemplate(text, { percentEncode: TEMPLATE_FIELDS.find((field) => field.key === key)!.percentEncode });
      } catch (error) {
        this.problems.caught([...pathOf(key), key], error);
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

    if (response.epTokenURL !== undefined) fields.push(['epTokenURL', template('epTokenURL', response.epTokenURL)]);
    else if (isAllowed === false) fields.push(['epTokenURL', constant('')]);
    else fields.push(['epTokenURL', this.defaultTokenURL]);

    if ('error' in response) fields.push(['error', constant(response.error)]);

    const errorText = response.errorText;
    if (typeof errorText === 'string') fields.push(['errorText', template('errorText', errorText)]);
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
}

// --- plan builders: what runs per request ------------------------------------

class FaultPlanBuilder implements PlanBuilder {
  constructor(
    private readonly fault: SilentFault,
    private readonly delay: () => number,
  ) {}

  build(): ResponsePlan {
    return { kind: 'fault', fault: this.fault, delayMs: this.delay() };
  }
}

class RawPlanBuilder implements PlanBuilder {
  private readonly hasHeaders: boolean;

  constructor(
    private readonly status: number,
    private readonly headers: Record<string, string>,
    private readonly body: string,
    private readonly delay: () => number,
    private readonly delivery: Delivery,
  ) {
    this.hasHeaders = Object.keys(headers).length > 0;
  }

  build(): ResponsePlan {
    return {
      kind: 'raw',
      status: this.status,
      headers: this.hasHeaders ? { ...this.headers } : {},
      body: this.body,
      delayMs: this.delay(),
      delivery: this.delivery,
    };
  }
}

class JsonPlanBuilder implements PlanBuilder {
  private readonly hasHeaders: boolean;

  constructor(
    private readonly status: number,
    private readonly headers: Record<string, string>,
    private readonly fields: readonly [string, FieldValue][],
    private readonly delay: () => number,
    private readonly delivery: Delivery,
  ) {
    this.hasHeaders = Object.keys(headers).length > 0;
  }

  build(facts: RequestFacts, problems: readonly string[]): ResponsePlan {
    const body: Record<string, unknown> = {};
    for (const [field, value] of this.fields) {
      const v = value(facts, problems);
      if (v === OMITTED) continue;
      if (field === '__proto__') Object.defineProperty(body, field, { value: v, enumerable: true, writable: true, configurable: true });
      else body[field] = v;
    }
    return {
      kind: 'json',
      status: this.status,
      headers: this.hasHeaders ? { ...this.headers } : {},
      body,
      delayMs: this.delay(),
      delivery: this.delivery,
    };
  }
}

// --- field values ------------------------------------------------------------

function noDelay(): number {
  return 0;
}

/** A field that is the same in every answer: shared by every answer, so frozen; cloned first to leave the loaded definition alone. */
function constant(value: unknown): FieldValue {
  const frozen = typeof value === 'object' && value !== null ? deepFreeze(structuredClone(value)) : value;
  return function constantField() {
    return frozen;
  };
}

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

// --- merging -----------------------------------------------------------------

/** `defaults` under `response`: the response's keys win; `extra` and `headers` merge entry by entry. */
export function mergeResponses(defaults: Response, response: Response): Response {
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

/** A response's state change (checks.ts refuses setState with clearState). */
export function stateChangeOf(response: Response): StateChange | null {
  if (response.setState !== undefined) return { kind: 'set', state: response.setState };
  return response.clearState === true ? CLEAR_STATE : null;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
