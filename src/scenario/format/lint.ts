/**
 * Warnings about a scenario that is valid but probably not what its author
 * meant: rules that can never answer, patterns that can never match, response
 * keys that will be ignored. Cheap static checks over the definition; each is
 * positioned at the place to fix.
 */
import { RESPONSE_FIELDS, type Match, type MatchKey, type Matcher, type Response } from './format.js';
import type { PositionedError } from './loaded.js';
import type { SourcePositions, ValuePath } from './positions.js';
import type { CheckableParts, RulePart } from './checkable-parts.js';
import { regexMinLength } from '../runtime/matchers.js';
import { stateWarnings } from './state-lint.js';

/** customerCookie is at most this long in a valid request (docs/protocol.md). */
export const CUSTOMER_COOKIE_MAX = 32;

export interface LintOptions {
  /** A scenario's rules answer alone (no rules: everything is unmatched); a session's come before the active scenario's. */
  rulesAnswerAlone: boolean;
}

/** Warnings about every part of the definition that fits the format (other parts have errors instead). */
export function lintScenario(parts: CheckableParts, positions: SourcePositions, options: LintOptions): PositionedError[] {
  const warnings: PositionedError[] = [];
  const rules = parts.rules();
  if (options.rulesAnswerAlone) warnings.push(...noRules(parts, positions));
  warnings.push(...unreachableRules(parts, rules, positions));
  for (const rule of rules) {
    for (const { key, matcher, path, negated } of parts.matchers(rule)) {
      if (!negated) warnings.push(...matcherWarnings(key, matcher, path, positions));
    }
  }
  const defaults = parts.fields?.defaults;
  for (const part of parts.responses()) {
    if (!parts.fitsResponse(part)) continue;
    // invalid: and unmatched: are not merged over defaults: (runtime/responses.ts), rule responses are.
    const mergedOver = part.path[0] === 'rules' && parts.fits('Response', defaults) ? defaults : undefined;
    warnings.push(...responseWarnings(part.response, part.path, mergedOver, positions));
  }
  // The state lint reasons across rules: only when every part fits.
  const whole = parts.whole();
  if (whole) warnings.push(...stateWarnings(whole, positions));
  return warnings;
}

/** No rules and no unmatched: answer chosen: every request gets the built-in 404. */
function noRules(parts: CheckableParts, positions: SourcePositions): PositionedError[] {
  const fields = parts.fields;
  if (!fields || fields.unmatched !== undefined) return [];
  const rules = fields.rules;
  if (rules !== undefined && !(Array.isArray(rules) && rules.length === 0)) return [];
  const where = rules === undefined ? [] : ['rules'];
  return [
    positions.error(
      where,
      'no rules: every request gets the unmatched: answer (HTTP 404, isAllowed false); add rules, or set unmatched: if that is the point',
      { key: true },
    ),
  ];
}

/** Request fields that every valid request has, and what they hold. */
const ALWAYS_PRESENT: ReadonlySet<MatchKey> = new Set(['contentID', 'messageID', 'version', 'clientAuthorized']);
const STRING_FIELDS: ReadonlySet<MatchKey> = new Set(['contentID', 'messageID', 'customerCookie', 'clientCN', 'clientFingerprint']);

/**
 * A rule after one that answers every request for good (no match, or only
 * matchers every valid request passes, and no `times:`) can never answer;
 * so can a rule with exactly the match of an earlier unlimited rule. A rule
 * whose match: or times: does not fit the format is neither.
 */
function unreachableRules(parts: CheckableParts, rules: readonly RulePart[], positions: SourcePositions): PositionedError[] {
  const warnings: PositionedError[] = [];
  let catchAll: number | null = null;
  const seenMatches = new Map<string, number>();
  const nameOf = new Map(rules.map((part) => [part.index, part.rule.name]));
  const label = (at: number) => {
    const name = nameOf.get(at);
    const { line } = positions.of(['rules', at]);
    return `rules[${at}]${typeof name === 'string' ? ` ("${name}")` : ''} at line ${line}`;
  };
  for (const { rule, index, path } of rules) {
    if (catchAll !== null) {
      warnings.push(
        positions.error(path, `unreachable: ${label(catchAll)} matches every request and has no times: limit, so this rule never answers`),
      );
      continue;
    }
    const match = rule.match ?? {};
    if (!parts.fits('Match', match)) continue;
    const key = canonical(match);
    const twin = seenMatches.get(key);
    if (twin !== undefined) {
      warnings.push(positions.error(path, `unreachable: ${label(twin)} has the same match and no times: limit, so this rule never answers`));
    }
    if (rule.times !== undefined) continue;
    if (matchesEverything(match)) catchAll = index;
    else if (twin === undefined) seenMatches.set(key, index);
  }
  return warnings;
}

function matchesEverything(match: Match): boolean {
  return (Object.entries(match) as [MatchKey, Matcher | undefined][]).every(
    ([key, matcher]) => matcher === undefined || alwaysMatches(key, matcher),
  );
}

/** Conservative: true only when every valid request surely passes. */
function alwaysMatches(key: MatchKey, matcher: Matcher): boolean {
  if (Array.isArray(matcher)) {
    if (matcher.some((item) => alwaysMatches(key, item))) return true;
    return key === 'clientAuthorized' && matcher.includes(true) && matcher.includes(false);
  }
  if (typeof matcher === 'string') return STRING_FIELDS.has(key) && ALWAYS_PRESENT.has(key) && /^\*+$/.test(matcher);
  if (typeof matcher !== 'object' || matcher === null) return false;
  if ('glob' in matcher) return STRING_FIELDS.has(key) && ALWAYS_PRESENT.has(key) && /^\*+$/.test(matcher.glob);
  if ('exists' in matcher) return matcher.exists && ALWAYS_PRESENT.has(key);
  if ('not' in matcher) {
    const inner = matcher.not;
    return typeof inner === 'object' && inner !== null && !Array.isArray(inner) && 'exists' in inner && !inner.exists && ALWAYS_PRESENT.has(key);
  }
  return false;
}

/** JSON with sorted keys, so `{a, b}` and `{b, a}` compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Matchers that can never match a valid request: a customerCookie over 32 characters, a value of the wrong kind. */
function matcherWarnings(key: MatchKey, matcher: Matcher, path: ValuePath, positions: SourcePositions): PositionedError[] {
  if (Array.isArray(matcher)) return matcher.flatMap((item, index) => matcherWarnings(key, item, [...path, index], positions));
  if (typeof matcher === 'object' && matcher !== null) {
    if ('equals' in matcher) return literalWarnings(key, matcher.equals, false, [...path, 'equals'], positions);
    if ('glob' in matcher) return literalWarnings(key, matcher.glob, true, [...path, 'glob'], positions);
    if ('regex' in matcher) return regexWarnings(key, matcher.regex, [...path, 'regex'], positions);
    return []; // not: whatever its inner matcher cannot match, the not matches
  }
  return literalWarnings(key, matcher, typeof matcher === 'string' && /[*?]/.test(matcher), path, positions);
}

function regexWarnings(key: MatchKey, source: string, path: ValuePath, positions: SourcePositions): PositionedError[] {
  if (key !== 'customerCookie') return [];
  const shortest = regexMinLength(source);
  if (shortest === null || shortest <= CUSTOMER_COOKIE_MAX) return [];
  return [
    positions.error(
      path,
      `never matches: a customerCookie is at most ${CUSTOMER_COOKIE_MAX} characters and this regex needs at least ${shortest}` +
        ' (a longer cookie is a protocol violation: such requests get the invalid: response)',
    ),
  ];
}

function literalWarnings(
  key: MatchKey,
  value: string | number | boolean | null,
  glob: boolean,
  path: ValuePath,
  positions: SourcePositions,
): PositionedError[] {
  if (key === 'customerCookie' && typeof value === 'string') {
    const shortest = glob ? value.replace(/\*/g, '').length : value.length;
    if (shortest > CUSTOMER_COOKIE_MAX) {
      return [
        positions.error(
          path,
          `never matches: a customerCookie is at most ${CUSTOMER_COOKIE_MAX} characters and this ${glob ? 'glob needs at least' : 'value has'} ${shortest}` +
            ' (a longer cookie is a protocol violation: such requests get the invalid: response)',
        ),
      ];
    }
  }
  // Matchers compare string forms, so "2" is 2: judge numbers by their numeric value.
  const number = typeof value === 'number' ? value : typeof value === 'string' && !glob && value.trim() !== '' ? Number(value) : NaN;
  if (key === 'requestType' && !glob && value !== null && ![1, 2, 3].includes(number)) {
    return [positions.error(path, `never matches: requestType is 1, 2 or 3 in a valid request (others get the invalid: response)`)];
  }
  if (key === 'version' && !glob && value !== null && !(Number.isInteger(number) && number > 0)) {
    return [positions.error(path, `never matches: version is a positive whole number in a valid request`)];
  }
  if (key === 'clientFingerprint' && typeof value === 'string' && !glob && /[A-F:]/.test(value)) {
    return [positions.error(path, 'never matches: clientFingerprint is lowercase hex without colons (as shown in the journal)')];
  }
  return [];
}

/** The response keys that make the JSON body. */
const JSON_KEYS = [...RESPONSE_FIELDS, 'extra', 'omit'] as const;
const SILENT_FAULTS: ReadonlySet<string> = new Set(['hang', 'reset', 'close']);
/** Headers the HTTP layer computes; setting them by hand breaks the framing. */
const FRAMING_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection']);

function responseWarnings(
  response: Response,
  path: ValuePath,
  defaults: Response | undefined,
  positions: SourcePositions,
): PositionedError[] {
  const warnings: PositionedError[] = [];
  const fault = response.fault;
  if (fault !== undefined && SILENT_FAULTS.has(fault)) {
    const ignored = [...JSON_KEYS, 'status', 'headers', 'body'].filter((key) => (response as Record<string, unknown>)[key] !== undefined);
    if (ignored.length > 0) {
      warnings.push(
        positions.error([...path, ignored[0] as string], `ignored: fault: ${fault} sends no response, so ${ignored.join(', ')} ${ignored.length === 1 ? 'has' : 'have'} no effect`, {
          key: true,
        }),
      );
    }
  } else if (response.body !== undefined) {
    const ignored = JSON_KEYS.filter((key) => response[key] !== undefined);
    if (ignored.length > 0) {
      warnings.push(
        positions.error([...path, ignored[0] as string], `ignored: body: replaces the JSON, so ${ignored.join(', ')} ${ignored.length === 1 ? 'has' : 'have'} no effect`, {
          key: true,
        }),
      );
    }
  }
  if (fault === 'slow' && response.delay === undefined && defaults?.delay === undefined) {
    warnings.push(positions.error([...path, 'fault'], 'fault: slow spreads the response over delay:, and there is none, so it is sent at once'));
  }
  for (const header of Object.keys(response.headers ?? {})) {
    if (FRAMING_HEADERS.has(header.toLowerCase())) {
      warnings.push(
        positions.error([...path, 'headers', header], `${header} is set by the HTTP layer; overriding it can break the response framing`, { key: true }),
      );
    }
  }
  const status = response.status;
  if (status !== undefined && (status === 204 || status === 304 || status < 200) && fault === undefined) {
    warnings.push(positions.error([...path, 'status'], `HTTP ${status} cannot carry a body, so the JSON (or body:) is not sent`));
  }
  return warnings;
}
