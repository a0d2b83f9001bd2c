/**
 * Keys written twice in one YAML mapping, found in one pass with a Set per
 * mapping. (The yaml package's own `uniqueKeys` check compares each key with
 * every earlier key of its mapping: a 1 MiB document of 100,000 keys took 80 s,
 * an 8 MiB one would take hours, all of it blocking the event loop.)
 */
import { isScalar, visit, type Document } from 'yaml';

export interface DuplicateKey {
  /** Where the repeated key is written. */
  offset: number;
  /** The key, quoted. */
  key: string;
}

/** At most `limit` repeated keys, in document order; `<<` merge keys may repeat. */
export function findDuplicateKeys(document: Document.Parsed, limit: number): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  visit(document, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key) || key.value === '<<') continue;
        if (!seen.has(key.value)) {
          seen.add(key.value);
          continue;
        }
        found.push({ offset: key.range?.[0] ?? 0, key: JSON.stringify(String(key.value)) });
        if (found.length >= limit) return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}
