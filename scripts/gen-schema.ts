/**
 * Writes schema/scenario.schema.json from the format definition (src/scenario/format/format.ts),
 * for editors (`# yaml-language-server: $schema=../schema/scenario.schema.json`),
 * schema/conformance-plan.schema.json from the plan format (src/conformance/format.ts),
 * schema/admin-api.openapi.json from the admin route definitions (src/admin/api/), and
 * ui/api-types.d.ts, the dashboard's types, from the definitions of what it reads (scripts/ui-types.ts).
 *
 *   npm run schema                          write the four files
 *   npx tsx scripts/gen-schema.ts --check   exit 1 if any is out of date
 *
 * TypeBox schemas are JSON Schema already; this drops TypeBox's symbol keys, moves the
 * schemas that carry an `$id` (Matcher, Response) into `definitions` once, and points
 * every use (and the recursive `This` reference inside Matcher) at `#/definitions/<id>`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { Scenario } from '../src/scenario/format/format.js';
import { ConformancePlan } from '../src/conformance/format.js';
import { hoistIdentified, sortedByName, type JsonObject } from '../src/admin/api/hoist.js';
import { renderOpenApiDocument } from '../src/admin/api/openapi.js';
import { renderUiTypes, UI_TYPES_FILE } from './ui-types.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/scenario.schema.json', import.meta.url));
export const OPENAPI_FILE = fileURLToPath(new URL('../schema/admin-api.openapi.json', import.meta.url));
export const PLAN_SCHEMA_FILE = fileURLToPath(new URL('../schema/conformance-plan.schema.json', import.meta.url));
export const SCHEMA_ID = 'urn:entitlement-mock:schema:scenario';
export const PLAN_SCHEMA_ID = 'urn:entitlement-mock:schema:conformance-plan';

export function buildJsonSchema(schema: TSchema = Scenario, id = SCHEMA_ID): JsonObject {
  // A JSON round trip drops the symbol keys (Kind, Hint, Optional) and copies everything.
  const plain = JSON.parse(JSON.stringify(schema)) as JsonObject;
  const definitions: JsonObject = {};
  const body: JsonObject = {};
  for (const [key, value] of Object.entries(plain)) body[key] = hoistIdentified(value, definitions, '#/definitions/');
  const { title, description, ...rest } = body;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: id,
    title: title ?? 'entitlement-mock scenario',
    ...(description !== undefined ? { description } : {}),
    ...rest,
    definitions: sortedByName(definitions),
  };
}

export function renderJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}

export function renderPlanJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(ConformancePlan, PLAN_SCHEMA_ID), null, 2)}\n`;
}

/** Every generated file and what it should hold now. */
const GENERATED: readonly { file: string; render: () => string }[] = [
  { file: SCHEMA_FILE, render: renderJsonSchema },
  { file: PLAN_SCHEMA_FILE, render: renderPlanJsonSchema },
  { file: OPENAPI_FILE, render: renderOpenApiDocument },
  { file: UI_TYPES_FILE, render: renderUiTypes },
];

function main(args: string[]): number {
  let exitCode = 0;
  for (const { file, render } of GENERATED) {
    const text = render();
    if (!args.includes('--check')) {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${file}\n`);
      continue;
    }
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current === text) continue;
    process.stderr.write(`${file} is out of date: run npm run schema\n`);
    exitCode = 1;
  }
  return exitCode;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
