/**
 * Limits on the shape of a parsed request body, checked without recursion. A
 * body past them is not an Entitlement Request: it is answered 400 and
 * journaled as text (rawBody), never as a parsed value, because
 * - JSON.parse copes with 30,000 levels of nesting, but JSON.stringify (the
 *   journal, the logs) overflows the stack at a few thousand;
 * - a parsed value can take 16 times the memory of its text (64 KiB of `[0],`
 *   is 16,000 arrays, about 1 MiB), and the journal keeps thousands of entries.
 */

/** No Entitlement Request needs more than 2 levels; 64 leaves room for anything a client might wrap it in. */
export const MAX_REQUEST_NESTING = 64;
/** An Entitlement Request has 5 fields; 1,000 values leave room for any number of extras a client might add. */
export const MAX_REQUEST_VALUES = 1000;

/** What is wrong with the shape of a parsed body, or null when it is within the limits. */
export function jsonShapeProblem(root: unknown): string | null {
  if (typeof root !== 'object' || root === null) return null;
  let values = 1;
  const stack: { value: object; depth: number }[] = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: object; depth: number };
    if (depth > MAX_REQUEST_NESTING) return `body is JSON nested deeper than ${MAX_REQUEST_NESTING} levels`;
    for (const key in value) {
      if (++values > MAX_REQUEST_VALUES) return `body is JSON with more than ${MAX_REQUEST_VALUES} values`;
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push({ value: item, depth: depth + 1 });
    }
  }
  return null;
}
