/**
 * ui/api-types.d.ts: the dashboard's types for what the admin API answers, generated from the
 * same TypeBox definitions that type the routes, the client and the OpenAPI document. The
 * dashboard is plain JavaScript checked by `tsc -p ui/tsconfig.json` (JSDoc), which reads them as
 *   @typedef {import('./api-types.js').JournalEntry} JournalEntry
 *
 * Written by `npm run schema` (scripts/gen-schema.ts) with the schema/ files; a test fails when it
 * is stale.
 *
 * TypeBox schemas are JSON Schema, so this is a walk over the few keywords the definitions use
 * (object, array, anyOf, allOf, const, the scalar types, patternProperties for records, and no
 * type at all for unknown); any other keyword throws rather than typing a field wrongly. The
 * libraries that do this (openapi-typescript, @sinclair/typebox-codegen) drive TypeScript's
 * compiler API, which TypeScript 7, the project's compiler, no longer has.
 */
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { ConnectionTls, JournalEntry, ListenerName } from '../src/journal/entry.js';
import { JournaledResponse } from '../src/respond/journaled-response.js';
import { StateTransition } from '../src/scenario/runtime/outcome.js';
import { FaultReaction, Report, TrafficProfile } from '../src/report/types.js';
import { ScenarioListing } from '../src/scenario/registry/listing.js';
import { TlsFailureListing } from '../src/journal/tls-failures.js';
import { RunReport, RunSummary } from '../src/conformance/types.js';
import { LiveEvent } from '../src/admin/live-events.js';

export const UI_TYPES_FILE = fileURLToPath(new URL('../ui/api-types.d.ts', import.meta.url));

/**
 * The answers the dashboard reads, by the names it uses. Parts with an `$id` (NearMiss, Finding, …)
 * get a name of their own; so do the parts named here (ListenerName, TrafficProfile, …).
 */
const UI_TYPE_ROOTS: readonly (readonly [string, TSchema])[] = [
  ['JournalEntry', JournalEntry],
  ['ListenerName', ListenerName],
  ['ConnectionTls', ConnectionTls],
  ['StateTransition', StateTransition],
  ['JournaledResponse', JournaledResponse],
  ['ScenarioListing', ScenarioListing],
  ['Report', Report],
  ['TrafficProfile', TrafficProfile],
  ['FaultReaction', FaultReaction],
  ['TlsFailureListing', TlsFailureListing],
  ['ConformanceRunSummary', RunSummary],
  ['ConformanceRunReport', RunReport],
  ['LiveEvent', LiveEvent],
];

type Schema = Record<string, unknown>;

/** Keywords that only describe or constrain values, not their TypeScript type. */
const NOT_TYPING = new Set([
  '$id', 'title', 'description', 'markdownDescription', 'errorMessage', 'examples', 'default', 'additionalProperties', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'format', 'minItems', 'maxItems', 'uniqueItems', 'propertyNames', 'multipleOf',
]);
/** Keywords this generator turns into types. */
const TYPING = new Set(['type', 'properties', 'required', 'items', 'anyOf', 'allOf', 'const', 'patternProperties']);

const SCALARS: Record<string, string> = { string: 'string', integer: 'number', number: 'number', boolean: 'boolean', null: 'null' };

/**
 * TypeScript declarations for `roots` (name, schema), as the body of a .d.ts module: one
 * `export interface` (objects) or `export type` per named schema, sorted by name, with the
 * descriptions as JSDoc. A nested schema is named when it is one of the roots or has an `$id`.
 */
export function typesFromSchemas(roots: readonly (readonly [string, TSchema])[]): string {
  // A schema with an `$id` goes by it (as in the OpenAPI document); the others by the name given here.
  const nameOf = new Map<object, string>();
  for (const [name, schema] of roots) {
    if (typeof schema.$id === 'string' && schema.$id !== name) throw new Error(`ui types: ${name} has the $id ${schema.$id}: name it so`);
    nameOf.set(schema, name);
  }
  const declarations = new Map<string, string>();
  const queue: [string, Schema][] = roots.map(([name, schema]) => [name, schema as Schema]);

  /** The name a nested schema goes by (queued for a declaration when new), or null to write it inline. */
  const referenceTo = (schema: Schema): string | null => {
    const name = typeof schema.$id === 'string' ? schema.$id : (nameOf.get(schema) ?? null);
    if (name !== null && !declarations.has(name) && !queue.some(([queued]) => queued === name)) queue.push([name, schema]);
    return name;
  };

  const typeOf = (schema: Schema, indent: string): string => referenceTo(schema) ?? inlineType(schema, indent);

  const inlineType = (schema: Schema, indent: string): string => {
    for (const key of Object.keys(schema))
      if (!NOT_TYPING.has(key) && !TYPING.has(key)) throw new Error(`ui types: no TypeScript for the keyword ${JSON.stringify(key)} in ${JSON.stringify(schema).slice(0, 200)}`);
    if ('const' in schema) return JSON.stringify(schema.const);
    if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map((member) => grouped(typeOf(member, indent))).join(' | ');
    if (Array.isArray(schema.allOf)) return (schema.allOf as Schema[]).map((member) => grouped(typeOf(member, indent))).join(' & ');
    const type = schema.type;
    if (type === undefined) return 'unknown';
    if (typeof type !== 'string') throw new Error(`ui types: a list of types is not supported: ${JSON.stringify(type)}`);
    const scalar = SCALARS[type];
    if (scalar !== undefined) return scalar;
    if (type === 'array') return `${grouped(typeOf(schema.items as Schema, indent))}[]`;
    if (type !== 'object') throw new Error(`ui types: unknown type ${JSON.stringify(type)}`);
    if (schema.patternProperties !== undefined) {
      const values = Object.values(schema.patternProperties as Record<string, Schema>);
      if (values.length !== 1 || schema.properties !== undefined) throw new Error('ui types: a record has one value schema and no properties');
      return `Record<string, ${typeOf(values[0] as Schema, indent)}>`;
    }
    return objectType(schema, indent);
  };

  const objectType = (schema: Schema, indent: string): string => {
    const properties = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
    if (properties.length === 0) return 'Record<string, never>';
    const required = new Set((schema.required ?? []) as string[]);
    const inner = `${indent}  `;
    const lines = properties.map(([key, property]) => {
      const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
      // A named type's description is on its declaration.
      const reference = referenceTo(property);
      const doc = reference === null ? jsDoc(property.description, inner) : '';
      return `${doc}${inner}${name}${required.has(key) ? '' : '?'}: ${reference ?? inlineType(property, inner)};\n`;
    });
    return `{\n${lines.join('')}${indent}}`;
  };

  while (queue.length > 0) {
    const [name, schema] = queue.shift() as [string, Schema];
    if (declarations.has(name)) continue;
    const body = inlineType(schema, '');
    const isInterface = schema.type === 'object' && schema.patternProperties === undefined && body.startsWith('{');
    declarations.set(name, `${jsDoc(schema.description, '')}${isInterface ? `export interface ${name} ${body}` : `export type ${name} = ${body};`}\n`);
  }
  return [...declarations.keys()]
    .sort()
    .map((name) => declarations.get(name))
    .join('\n');
}

/** A union or intersection inside an array, union or intersection needs parentheses. */
function grouped(type: string): string {
  let depth = 0;
  let quoted = false;
  for (let index = 0; index < type.length; index++) {
    const char = type[index];
    if (quoted) {
      if (char === '\\') index++;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === '{' || char === '<' || char === '(' || char === '[') depth++;
    else if (char === '}' || char === '>' || char === ')' || char === ']') depth--;
    else if (depth === 0 && (char === '|' || char === '&')) return `(${type})`;
  }
  return type;
}

function jsDoc(description: unknown, indent: string): string {
  if (typeof description !== 'string' || description === '') return '';
  return `${indent}/** ${description.replaceAll('*/', '*\\/')} */\n`;
}

export function renderUiTypes(): string {
  return [
    '// Generated by scripts/ui-types.ts from the TypeBox definitions (npm run schema): do not edit.',
    '// What the admin API answers, as the dashboard (ui/*.js, JSDoc) reads it.',
    '',
    typesFromSchemas(UI_TYPE_ROOTS),
  ].join('\n');
}
