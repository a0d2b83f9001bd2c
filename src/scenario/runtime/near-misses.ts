/**
 * The near misses of an unmatched request: the NEAR_MISS_COUNT closest rules (fewest
 * failed keys, ties by rule order; a used-up rule fails the key `times`), each explained
 * by the rule itself.
 */
import type { RequestFacts } from './engine.js';
import type { NearMiss } from './outcome.js';
import type { CompiledRule } from './rule.js';

/** How many near misses an unmatched request reports. */
export const NEAR_MISS_COUNT = 3;

/** `countOf`: each rule's count when it is kept elsewhere (shared state); by default the rule's own. */
export function nearMisses(rules: readonly CompiledRule[], facts: RequestFacts, countOf?: (rule: CompiledRule) => number): NearMiss[] {
  // Fewest failed keys first, ties by rule order; the scan stops once nothing can get closer.
  const closest: { rule: CompiledRule; failures: number }[] = [];
  for (const rule of rules) {
    const limit = closest.length < NEAR_MISS_COUNT ? Infinity : closest[NEAR_MISS_COUNT - 1]!.failures - 1;
    if (limit < 1) break;
    const failures = rule.failures(facts, limit, countOf?.(rule));
    if (failures > limit || failures === 0) continue;
    let at = closest.length;
    while (at > 0 && closest[at - 1]!.failures > failures) at--;
    closest.splice(at, 0, { rule, failures });
    if (closest.length > NEAR_MISS_COUNT) closest.pop();
  }
  return closest.map(({ rule }) => ({ rule: rule.name, failed: rule.explainMiss(facts, countOf?.(rule)) }));
}
