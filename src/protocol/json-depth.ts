/**
 * How deeply a parsed JSON value nests, counted without recursion. A request
 * nested deeper than MAX_REQUEST_NESTING is kept only as text: JSON.parse copes
 * with 30,000 levels, but JSON.stringify (the journal, the logs) overflows the
 * stack at a few thousand.
 */

/** No Entitlement Request needs more than 2 levels; 64 leaves room for anything a client might wrap it in. */
export const MAX_REQUEST_NESTING = 64;

/** True when `root` has objects or arrays nested more than `limit` levels deep (the root is level 1). */
export function nestsDeeperThan(root: unknown, limit: number): boolean {
  if (typeof root !== 'object' || root === null) return false;
  const stack: { value: object; depth: number }[] = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: object; depth: number };
    if (depth > limit) return true;
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push({ value: item, depth: depth + 1 });
    }
  }
  return false;
}
