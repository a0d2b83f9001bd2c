/**
 * Warnings about per-key state that is valid but cannot do what it says: a `match: {state}`
 * on a state no rule sets, or on the state of a key the rule's own match leaves out (a request
 * without the key has no state); setState on such a rule; stateKey/stateTtl that no rule uses;
 * perKey on a rule with nothing to count.
 */
import type { Matcher, Response, Rule, Scenario } from './format.js';
import type { PositionedError } from './loaded.js';
import type { SourcePositions, ValuePath } from './positions.js';
import { compileMatcher } from '../runtime/matchers.js';
import { templateVariableNames } from '../runtime/templates.js';

export function stateWarnings(definition: Scenario, positions: SourcePositions): PositionedError[] {
  const warnings: PositionedError[] = [];
  const rules = definition.rules ?? [];
  const setStates = new Set<string>();
  for (const response of [definition.defaults, ...rules.flatMap((rule) => responsesAt(rule, []).map((at) => at.response))]) {
    if (response?.setState !== undefined) setStates.add(response.setState);
  }
  const keyForm = definition.stateKey ?? 'customerCookie';
  const keyFields = keyForm.includes('{{') ? templateVariableNames(keyForm) : [keyForm];

  let usesState = false;
  rules.forEach((rule, index) => {
    const path: ValuePath = ['rules', index];
    const missingField = keyFields.find((field) => requiresAbsent(rule.match?.[field as keyof NonNullable<Rule['match']>]));
    const matcher = rule.match?.state;
    if (matcher !== undefined) {
      usesState = true;
      const statePath = [...path, 'match', 'state'];
      if (missingField !== undefined && !safeTest(matcher, undefined)) {
        warnings.push(
          positions.error(
            statePath,
            `never matches: this rule only takes requests without ${missingField}, which have no state key (stateKey ${keyForm}) and so no state`,
          ),
        );
      } else {
        warnings.push(...unknownStates(matcher, statePath, setStates, positions));
      }
    }
    for (const { response, path: at } of responsesAt(rule, path)) {
      const change = response.setState !== undefined ? 'setState' : response.clearState === true ? 'clearState' : null;
      if (change === null) continue;
      usesState = true;
      if (missingField !== undefined) {
        warnings.push(
          positions.error(
            [...at, change],
            `no effect: this rule only takes requests without ${missingField}, which have no state key (stateKey ${keyForm})`,
          ),
        );
      }
    }
    if (rule.perKey !== undefined && rule.sequence === undefined && rule.times === undefined) {
      warnings.push(
        positions.error([...path, 'perKey'], 'no effect: perKey counts sequence steps and times:, and this rule has neither', { key: true }),
      );
    }
  });
  usesState ||= definition.defaults?.setState !== undefined || definition.defaults?.clearState === true;
  if (!usesState) {
    for (const key of ['stateKey', 'stateTtl'] as const) {
      if (definition[key] !== undefined) {
        warnings.push(positions.error([key], `no effect: no rule matches on state: or sets one with setState:`, { key: true }));
      }
    }
  }
  return warnings;
}

/** A rule's responses (respond, sequence steps, random choices) with their paths. */
function responsesAt(rule: Rule, path: ValuePath): { response: Response; path: ValuePath }[] {
  return [
    ...(rule.respond ? [{ response: rule.respond, path: [...path, 'respond'] }] : []),
    ...(rule.sequence ?? []).map((response, i) => ({ response, path: [...path, 'sequence', i] })),
    ...(rule.random ?? []).map((response, i) => ({ response, path: [...path, 'random', i] })),
  ];
}

/** A state matcher's values that no rule sets, each positioned. */
function unknownStates(matcher: Matcher, path: ValuePath, setStates: ReadonlySet<string>, positions: SourcePositions): PositionedError[] {
  const known = setStates.size === 0 ? 'no rule sets a state' : `states set: ${[...setStates].map((s) => JSON.stringify(s)).join(', ')}`;
  if (Array.isArray(matcher)) return matcher.flatMap((item, i) => unknownStates(item, [...path, i], setStates, positions));
  if (typeof matcher === 'object' && matcher !== null && 'not' in matcher) return [];
  // Present values are strings a rule set: the matcher can match if it accepts one of them.
  if (typeof matcher === 'object' && matcher !== null && 'exists' in matcher && !matcher.exists) return [];
  if (typeof matcher === 'object' && matcher !== null && 'equals' in matcher && matcher.equals === null) return [];
  if ([...setStates].some((state) => safeTest(matcher, state))) return [];
  const at = typeof matcher === 'object' && matcher !== null ? [...path, Object.keys(matcher)[0]!] : path;
  return [positions.error(at, `never matches: no rule sets this state (${known})`)];
}

/** Whether a match value requires the field to be absent: `{exists: false}` or `{equals: null}`. */
function requiresAbsent(matcher: Matcher | undefined): boolean {
  return typeof matcher === 'object' && matcher !== null && !Array.isArray(matcher) && (('exists' in matcher && !matcher.exists) || ('equals' in matcher && matcher.equals === null));
}

/** A matcher's verdict on a value; false for a matcher that does not compile (reported elsewhere). */
function safeTest(matcher: Matcher, value: unknown): boolean {
  try {
    return compileMatcher(matcher).test(value);
  } catch {
    return false;
  }
}
