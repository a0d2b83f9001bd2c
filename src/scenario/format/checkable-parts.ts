/**
 * The parts of a scenario definition that can be checked on their own, for a
 * definition that as a whole may not fit the format: the semantic checks
 * (parse.ts) and the lint (lint.ts) walk these, so a type error in one place
 * hides no other problem. Each part is checked against its own schema from
 * format.ts (compiled on first use) before anything reads it; when the whole
 * definition fits, those checks are skipped.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Delay, MATCH_KEYS, Match, Matcher, Response, WeightedResponse, type MatchKey, type Scenario } from './format.js';
import type { ValuePath } from './positions.js';

export type Fields = Record<string, unknown>;

/** A rule that is at least a mapping; its fields may or may not fit. */
export interface RulePart {
  readonly index: number;
  readonly path: ValuePath;
  readonly rule: Fields;
}

/** A response (defaults:, invalid:, unmatched:, a rule's respond:, a sequence step, a random choice) that is at least a mapping. */
export interface ResponsePart {
  readonly path: ValuePath;
  readonly response: Fields;
  /** A random: choice, which carries `weight:` besides the response fields. */
  readonly weighted: boolean;
}

/** A matcher that fits the format, under its match key (a list item or a not's inner matcher when the whole does not fit). */
export interface MatcherPart {
  readonly key: MatchKey;
  readonly path: ValuePath;
  readonly matcher: Matcher;
  /** Inside a not: (of a matcher that does not fit as a whole): what it cannot match, the not matches. */
  readonly negated: boolean;
}

const SCHEMAS = { Delay, Match, Matcher, Response, WeightedResponse } as const;
type SchemaName = keyof typeof SCHEMAS;
const checkers = new Map<SchemaName, TypeCheck<TSchema>>();

export class CheckableParts {
  /**
   * @param definition the parsed document
   * @param fitsFormat whether it passed the format's schema as a whole (then every part fits)
   */
  constructor(
    readonly definition: unknown,
    private readonly fitsFormat: boolean,
  ) {}

  /** Whether a value fits one of the format's schemas. */
  fits<Name extends SchemaName>(name: Name, value: unknown): value is Static<(typeof SCHEMAS)[Name]> {
    if (this.fitsFormat) return true;
    let checker = checkers.get(name);
    if (!checker) {
      checker = TypeCompiler.Compile(SCHEMAS[name] as TSchema);
      checkers.set(name, checker);
    }
    return checker.Check(value);
  }

  /** The whole definition, when it fits the format. */
  whole(): Scenario | null {
    return this.fitsFormat ? (this.definition as Scenario) : null;
  }

  /** The top-level mapping, or null when the document is not one. */
  get fields(): Fields | null {
    return asFields(this.definition);
  }

  /** The rules that are mappings, with their index; [] when rules: is absent or not a list. */
  rules(): RulePart[] {
    const rules = this.fields?.rules;
    if (!Array.isArray(rules)) return [];
    const parts: RulePart[] = [];
    rules.forEach((rule, index) => {
      const fields = asFields(rule);
      if (fields) parts.push({ index, path: ['rules', index], rule: fields });
    });
    return parts;
  }

  /** Every response that is a mapping: defaults:, invalid:, unmatched:, then each rule's in rule order. */
  responses(): ResponsePart[] {
    const parts: ResponsePart[] = [];
    const add = (value: unknown, path: ValuePath, weighted = false) => {
      const response = asFields(value);
      if (response) parts.push({ path, response, weighted });
    };
    for (const key of ['defaults', 'invalid', 'unmatched'] as const) add(this.fields?.[key], [key]);
    for (const { rule, path } of this.rules()) {
      add(rule.respond, [...path, 'respond']);
      if (Array.isArray(rule.sequence)) rule.sequence.forEach((step, i) => add(step, [...path, 'sequence', i]));
      if (Array.isArray(rule.random)) rule.random.forEach((choice, i) => add(choice, [...path, 'random', i], true));
    }
    return parts;
  }

  /** A response that fits the format as a whole (a random: choice against the weighted form). */
  fitsResponse(part: ResponsePart): part is ResponsePart & { response: Response } {
    return part.weighted ? this.fits('WeightedResponse', part.response) : this.fits('Response', part.response);
  }

  /**
   * The matchers of a rule's match: that fit the format; of a matcher that does
   * not, the list items and the not: inside that do.
   */
  matchers(rule: RulePart): MatcherPart[] {
    const match = asFields(rule.rule.match);
    if (!match) return [];
    const parts: MatcherPart[] = [];
    const collect = (key: MatchKey, value: unknown, path: ValuePath, negated: boolean) => {
      if (this.fits('Matcher', value)) {
        parts.push({ key, path, matcher: value, negated });
      } else if (Array.isArray(value)) {
        value.forEach((item, i) => collect(key, item, [...path, i], negated));
      } else {
        const fields = asFields(value);
        if (fields && Object.keys(fields).length === 1 && 'not' in fields) collect(key, fields.not, [...path, 'not'], true);
      }
    };
    for (const key of Object.keys(match)) {
      if (isMatchKey(key) && match[key] !== undefined) collect(key, match[key], [...rule.path, 'match', key], false);
    }
    return parts;
  }
}

const MATCH_KEY_SET: ReadonlySet<string> = new Set(MATCH_KEYS);
const isMatchKey = (key: string): key is MatchKey => MATCH_KEY_SET.has(key);

export function asFields(value: unknown): Fields | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : null;
}
