/**
 * Writes schema/scenario.schema.json from the format definition (src/scenario/format.ts),
 * for editors (`# yaml-language-server: $schema=../schema/scenario.schema.json`).
 *
 *   npx tsx scripts/gen-schema.ts          write the file
 *   npx tsx scripts/gen-schema.ts --check  exit 1 if the file is out of date
 *
 * TypeBox schemas are JSON Schema already; this drops TypeBox's symbol keys, moves the
 * schemas that carry an `$id` (Matcher, Response) into `definitions` once, and points
 * every use (and the recursive `This` reference inside Matcher) at `#/definitions/<id>`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Scenario } from '../src/scenario/format.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/scenario.schema.json', import.meta.url));
export const SCHEMA_ID = 'urn:entitlement-mock:schema:scenario';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function buildJsonSchema(): Record<string, Json> {
  // A JSON round trip drops the symbol keys (Kind, Hint, Optional) and copies everything.
  const plain = JSON.parse(JSON.stringify(Scenario)) as Record<string, Json>;
  const definitions: Record<string, Json> = {};

  const hoist = (node: Json, atRoot: boolean): Json => {
    if (Array.isArray(node)) return node.map((item) => hoist(item, false));
    if (node === null || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string' && !node.$ref.startsWith('#')) {
      return { ...node, $ref: `#/definitions/${node.$ref}` };
    }
    if (!atRoot && typeof node.$id === 'string') {
      const id = node.$id;
      if (!(id in definitions)) {
        definitions[id] = {}; // reserve first: the schema may refer to itself
        const { $id: _id, ...rest } = node;
        definitions[id] = hoist(rest, false);
      }
      return { $ref: `#/definitions/${id}` };
    }
    const copy: Record<string, Json> = {};
    for (const [key, value] of Object.entries(node)) copy[key] = hoist(value, false);
    return copy;
  };

  const body = hoist(plain, true) as Record<string, Json>;
  const { title, description, ...rest } = body;
  const sortedDefinitions = Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: title ?? 'entitlement-mock scenario',
    ...(description !== undefined ? { description } : {}),
    ...rest,
    definitions: sortedDefinitions,
  };
}

export function renderJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}

function main(args: string[]): number {
  const text = renderJsonSchema();
  if (args.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current === text) return 0;
    process.stderr.write(`${SCHEMA_FILE} is out of date: run npx tsx scripts/gen-schema.ts\n`);
    return 1;
  }
  writeFileSync(SCHEMA_FILE, text);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
