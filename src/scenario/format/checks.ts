/**
 * The checks of the scenario format that JSON Schema cannot state, each written once:
 * parse.ts runs them (positioned) over every part that fits the format, and the compiler
 * (runtime/compile.ts) runs the ones it relies on over what it compiles, with the same
 * words. Checks that need a compiled piece (a matcher, a delay, a template, a key form, a
 * TTL) run the runtime's own compiler of that piece: its error is the message.
 */
import { Rule } from './format.js';
import type { CheckableParts, Fields, RulePart } from './checkable-parts.js';
import type { ValuePath } from './positions.js';
import { compileKey } from '../runtime/state/key.js';
import { parseTtl } from '../runtime/state/ttl.js';
import { compileMatcher } from '../runtime/matchers.js';
import { parseDelay } from '../runtime/delay.js';
import { compileTemplate } from '../runtime/templates.js';

/** One problem of a definition: where (a value path) and what, in words. */
export interface FormatProblem {
  readonly path: ValuePath;
  readonly message: string;
  /** Point at the key rather than at its value (an "X cannot be combined" on the second key). */
  readonly atKey?: boolean;
}

/** The problem a piece's compiler threw, at `path` plus the sub-path the thrower gave (a list item of a matcher, say). */
export function problemOf(path: ValuePath, error: unknown): FormatProblem {
  return { path: [...path, ...errorPath(error)], message: error instanceof Error ? error.message : String(error) };
}

const RULE_KEYS: ReadonlySet<string> = new Set(Object.keys(Rule.properties));
const ANSWER_WAYS = ['respond', 'sequence', 'random'] as const;

/** A rule answers in exactly one way: respond, sequence or random. */
export function answerWaysProblem(rule: Fields, rulePath: ValuePath): FormatProblem | null {
  const ways = ANSWER_WAYS.filter((way) => rule[way] !== undefined);
  if (ways.length > 1) {
    return { path: [...rulePath, ways[1]!], message: `${ways.join(' and ')} cannot be combined: a rule has exactly one of respond, sequence or random`, atKey: true };
  }
  // An unknown key (respnd:, a response field one level up) has its own error, with a suggestion.
  if (ways.length === 0 && !Object.keys(rule).some((key) => !RULE_KEYS.has(key))) {
    return { path: rulePath, message: 'a rule needs one of respond, sequence or random' };
  }
  return null;
}

/**
 * A response's setState/clearState: only the rules' responses (and defaults:) change the
 * state, and a response sets a state or clears it. `path` is the response's; its first
 * segment says where it is (invalid, unmatched, defaults, rules).
 */
export function stateChangeProblems(response: Fields, path: ValuePath): FormatProblem[] {
  const where = path[0];
  if (where === 'invalid' || where === 'unmatched') {
    return (['setState', 'clearState'] as const)
      .filter((field) => response[field] !== undefined)
      .map((field) => ({ path: [...path, field], message: `${field} applies to the rules' responses (and defaults:), not to ${where}:` }));
  }
  if (response.setState !== undefined && response.clearState === true) {
    return [{ path: [...path, 'clearState'], message: 'setState and clearState cannot be combined: a response sets a state or clears it' }];
  }
  return [];
}

/**
 * Every check beyond the schema, on every part of the definition that fits the format.
 * `lineOf` gives the line a path is written on (for "first used on line N").
 */
export function semanticProblems(parts: CheckableParts, lineOf: (path: ValuePath) => number): FormatProblem[] {
  const problems: FormatProblem[] = [];
  const rules = parts.rules();
  for (const part of rules) {
    const { rule, path: rulePath } = part;
    const ways = answerWaysProblem(rule, rulePath);
    if (ways) problems.push(ways);
    if (rule.loop !== undefined && rule.sequence === undefined) {
      problems.push({ path: [...rulePath, 'loop'], message: 'loop only applies to a sequence:', atKey: true });
    }
    for (const { matcher, path } of parts.matchers(part)) {
      try {
        compileMatcher(matcher);
      } catch (error) {
        problems.push(problemOf(path, error));
      }
    }
  }
  problems.push(...ruleNameProblems(rules, lineOf));
  for (const { response, path } of parts.responses()) {
    problems.push(...responseProblems(parts, response, path), ...stateChangeProblems(response, path));
  }
  problems.push(...keyAndTtlProblems(parts, rules));
  return problems;
}

/** Rule names are unique, and no name is the automatic name (`rule-N`) of another, unnamed rule. */
function ruleNameProblems(rules: readonly RulePart[], lineOf: (path: ValuePath) => number): FormatProblem[] {
  const problems: FormatProblem[] = [];
  const namedAt = new Map<string, number>();
  const unnamed = new Set(rules.filter(({ rule }) => rule.name === undefined).map(({ index }) => index));
  for (const { rule, path: rulePath, index } of rules) {
    if (typeof rule.name !== 'string') continue;
    const first = namedAt.get(rule.name);
    if (first !== undefined) {
      const line = lineOf(['rules', first, 'name']);
      problems.push({ path: [...rulePath, 'name'], message: `duplicate rule name "${rule.name}" (first used by rules[${first}], line ${line})` });
    } else {
      namedAt.set(rule.name, index);
    }
    const automatic = /^rule-([1-9]\d*)$/.exec(rule.name);
    const namesakeIndex = automatic ? Number(automatic[1]) - 1 : -1;
    if (unnamed.has(namesakeIndex)) {
      problems.push({
        path: [...rulePath, 'name'],
        message: `"${rule.name}" is also the automatic name of the unnamed rules[${namesakeIndex}]; pick another name (or name that rule)`,
      });
    }
  }
  return problems;
}

/** A response's delay and templates, through the runtime's own parsers. */
function responseProblems(parts: CheckableParts, response: Fields, path: ValuePath): FormatProblem[] {
  const problems: FormatProblem[] = [];
  if (response.delay !== undefined && parts.fits('Delay', response.delay)) {
    try {
      parseDelay(response.delay);
    } catch (error) {
      problems.push(problemOf([...path, 'delay'], error));
    }
  }
  for (const { key, percentEncode } of TEMPLATE_FIELDS) {
    const text = response[key];
    if (typeof text !== 'string') continue;
    try {
      compileTemplate(text, { percentEncode });
    } catch (error) {
      problems.push(problemOf([...path, key], error));
    }
  }
  return problems;
}

/** The response fields that are templates, and whether their values are percent-encoded. */
export const TEMPLATE_FIELDS = [
  { key: 'epTokenURL', percentEncode: true },
  { key: 'errorText', percentEncode: false },
] as const;

/** stateKey: and each perKey: (state/key.ts), stateTtl: (state/ttl.ts). */
function keyAndTtlProblems(parts: CheckableParts, rules: readonly RulePart[]): FormatProblem[] {
  const problems: FormatProblem[] = [];
  const fields = parts.fields;
  const keyForms: { form: unknown; path: ValuePath }[] = [
    { form: fields?.stateKey, path: ['stateKey'] },
    ...rules.map(({ rule, path }) => ({ form: rule.perKey, path: [...path, 'perKey'] })),
  ];
  for (const { form, path } of keyForms) {
    if (typeof form !== 'string') continue;
    try {
      compileKey(form);
    } catch (error) {
      problems.push(problemOf(path, error));
    }
  }
  const ttl = fields?.stateTtl;
  if (typeof ttl === 'string' || (typeof ttl === 'number' && ttl > 0)) {
    try {
      parseTtl(ttl);
    } catch (error) {
      problems.push(problemOf(['stateTtl'], error));
    }
  }
  return problems;
}

/** A sub-path inside the value an error names (e.g. the list item of a matcher), if the thrower gave one. */
function errorPath(error: unknown): ValuePath {
  const path = (error as { path?: unknown } | null)?.path;
  return Array.isArray(path) && path.every((segment) => typeof segment === 'string' || typeof segment === 'number') ? path : [];
}
