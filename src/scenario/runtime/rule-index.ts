/**
 * The contentID index: which rules a request needs to try, in rule order.
 *
 * Rules whose contentID matcher is exact (a string, number, `equals`, or a list of those)
 * are indexed by contentID; rules whose contentID matcher fixes its first character (a
 * glob or `^`-anchored regex with a literal start, or a list of those) are indexed by that
 * character. A request walks, in rule order, the rules indexed under its contentID and
 * under its first character merged with the rules that could match any contentID, so its
 * cost is the number of those before the one that answers, whatever the number of indexed
 * rules.
 */
import type { Matcher } from '../format/format.js';
import type { RequestFacts } from './engine.js';
import { exactStrings } from './matchers.js';
import type { CompiledRule, Condition, RuleDecision } from './rule.js';

const NO_RULES: readonly CompiledRule[] = Object.freeze([]);

export class RuleIndex {
  private readonly byContentID = new Map<string, CompiledRule[]>();
  /** The rules the contentID index cannot hold, by the first character their contentID must start with. */
  private readonly byFirstCharacter = new Map<string, CompiledRule[]>();
  /** The rules that could match any contentID. */
  private readonly unindexed: CompiledRule[] = [];

  /**
   * @param rules every rule, in rule order
   * @param contentIDMatchers each rule's `match.contentID` as written (undefined without one)
   */
  constructor(
    private readonly rules: readonly CompiledRule[],
    contentIDMatchers: readonly (Matcher | undefined)[],
  ) {
    rules.forEach((rule, index) => {
      const matcher = contentIDMatchers[index];
      const values = matcher === undefined ? null : exactStrings(matcher);
      if (values !== null) {
        for (const value of new Set(values)) addTo(this.byContentID, value, rule);
        return;
      }
      const firsts = matcher === undefined ? null : firstCharacters(matcher);
      if (firsts === null) this.unindexed.push(rule);
      else for (const first of firsts) addTo(this.byFirstCharacter, first, rule);
    });
  }

  /** The decision of the first rule that answers the request, or null. */
  firstAnswer(facts: RequestFacts): RuleDecision | null {
    return this.walk(facts, tryRule);
  }

  /**
   * Visit the rules a request needs to try, in rule order, each with the conditions the index
   * has not settled, until a visit returns something other than null; that, or null.
   */
  walk<T>(facts: RequestFacts, visit: (rule: CompiledRule, facts: RequestFacts, conditions: readonly Condition[]) => T | null): T | null {
    const contentID = facts.request.contentID;
    if (typeof contentID !== 'string') return this.walkAll(facts, visit);
    // Merge, in rule order, the rules indexed under this contentID, the pattern rules for
    // its first character, and the rules that could match any contentID.
    const indexed = this.byContentID.get(contentID) ?? NO_RULES;
    const patterns = (contentID.length > 0 && this.byFirstCharacter.get(contentID[0]!)) || NO_RULES;
    const unindexed = this.unindexed;
    let i = 0;
    let p = 0;
    let u = 0;
    for (;;) {
      const fromIndex = i < indexed.length ? indexed[i]! : null;
      const pattern = p < patterns.length ? patterns[p]! : null;
      const general = u < unindexed.length ? unindexed[u]! : null;
      let found: T | null;
      if (fromIndex !== null && (pattern === null || fromIndex.index < pattern.index) && (general === null || fromIndex.index < general.index)) {
        i++;
        found = visit(fromIndex, facts, fromIndex.conditionsBesideContentID);
      } else if (pattern !== null && (general === null || pattern.index < general.index)) {
        p++;
        found = visit(pattern, facts, pattern.conditions);
      } else if (general !== null) {
        u++;
        found = visit(general, facts, general.conditions);
      } else {
        return null;
      }
      if (found !== null) return found;
    }
  }

  /** Not a valid request after all (no string contentID): no index, every rule in order. */
  private walkAll<T>(facts: RequestFacts, visit: (rule: CompiledRule, facts: RequestFacts, conditions: readonly Condition[]) => T | null): T | null {
    for (const rule of this.rules) {
      const found = visit(rule, facts, rule.conditions);
      if (found !== null) return found;
    }
    return null;
  }
}

const tryRule = (rule: CompiledRule, facts: RequestFacts, conditions: readonly Condition[]): RuleDecision | null => rule.try(facts, conditions);

function addTo(map: Map<string, CompiledRule[]>, key: string, rule: CompiledRule): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [rule]);
  else list.push(rule);
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
