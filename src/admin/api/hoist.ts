/** Shared by the OpenAPI document and the scenario JSON Schema: named TypeBox schemas become references. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * Moves every schema that carries an `$id` into `definitions` (once) and points each use, and
 * TypeBox's `$ref: "<id>"` (Type.Recursive's `This`), at `<refPrefix><id>`. Takes a JSON copy
 * of TypeBox schemas (a JSON round trip drops TypeBox's symbol keys).
 */
export function hoistIdentified(node: Json, definitions: JsonObject, refPrefix: string): Json {
  if (Array.isArray(node)) return node.map((item) => hoistIdentified(item, definitions, refPrefix));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string' && !node.$ref.startsWith('#')) return { ...node, $ref: `${refPrefix}${node.$ref}` };
  if (typeof node.$id === 'string') {
    const id = node.$id;
    if (!(id in definitions)) {
      definitions[id] = {}; // reserve first: the schema may refer to itself
      const { $id: _id, ...rest } = node;
      definitions[id] = hoistIdentified(rest, definitions, refPrefix);
    }
    return { $ref: `${refPrefix}${id}` };
  }
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) copy[key] = hoistIdentified(value, definitions, refPrefix);
  return copy;
}

/** Definitions sorted by name, for a stable file. */
export const sortedByName = (definitions: JsonObject): JsonObject =>
  Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => (a < b ? -1 : 1)));

/** JSON Schema keywords whose value is a map of names to schemas: their keys are names, never keywords. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

/** A copy of a JSON schema without the given keywords (property names that happen to be spelled the same stay). */
export function withoutKeywords(node: Json, keywords: readonly string[]): Json {
  if (Array.isArray(node)) return node.map((item) => withoutKeywords(item, keywords));
  if (node === null || typeof node !== 'object') return node;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (keywords.includes(key)) continue;
    copy[key] =
      SCHEMA_MAPS.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, withoutKeywords(schema, keywords)]))
        : withoutKeywords(value, keywords);
  }
  return copy;
}
