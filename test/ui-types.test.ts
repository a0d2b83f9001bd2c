/** ui/api-types.d.ts: the dashboard's types, generated from the TypeBox definitions (scripts/ui-types.ts). */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { renderUiTypes, typesFromSchemas, UI_TYPES_FILE } from '../scripts/ui-types.js';
import { tempDir } from './helpers/temp.js';

const run = promisify(execFile);
const TSC = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

test('ui/api-types.d.ts is what the definitions produce now (npm run schema)', () => {
  assert.fixture(readFileSync(UI_TYPES_FILE, 'utf8'), renderUiTypes());
});

test('each schema keyword the definitions use becomes its TypeScript type', () => {
  const Part = Type.Object({ key: Type.String() }, { $id: 'Part', description: 'A part */ with a comment end' });
  const Root = Type.Object(
    {
      text: Type.String({ description: 'Some text' }),
      count: Type.Integer(),
      ratio: Type.Number(),
      flag: Type.Boolean(),
      kind: Type.Union([Type.Literal('a'), Type.Literal(2)]),
      maybe: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      anything: Type.Unknown(),
      list: Type.Array(Type.Union([Type.String(), Type.Number()])),
      byName: Type.Record(Type.String(), Type.Integer()),
      part: Part,
      'odd-name': Type.Boolean(),
      both: Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]),
    },
    { additionalProperties: false },
  );
  const text = typesFromSchemas([['Root', Root]]);
  assert.fixture(
    text,
    [
      '/** A part *\\/ with a comment end */',
      'export interface Part {',
      '  key: string;',
      '}',
      '',
      'export interface Root {',
      '  /** Some text */',
      '  text: string;',
      '  count: number;',
      '  ratio: number;',
      '  flag: boolean;',
      '  kind: "a" | 2;',
      '  maybe?: string | null;',
      '  anything: unknown;',
      '  list: (string | number)[];',
      '  byName: Record<string, number>;',
      '  part: Part;',
      '  "odd-name": boolean;',
      '  both: {',
      '    a: string;',
      '  } & {',
      '    b: string;',
      '  };',
      '}',
      '',
    ].join('\n'),
  );
});

test('a shape with an $id goes by it, as in the OpenAPI document: named otherwise, it is an error', () => {
  const Counts = Type.Object({ total: Type.Integer() }, { $id: 'RunCounts' });
  assert.throws(() => typesFromSchemas([['Counts', Counts]]), /Counts has the \$id RunCounts: name it so/);
  const text = typesFromSchemas([['Run', Type.Object({ counts: Counts })], ['RunCounts', Counts]]);
  assert.equal(text.match(/^export \w+ \w+/gm), ['export interface Run', 'export interface RunCounts']);
  assert.match(text, /counts: RunCounts;/);
});

test('a keyword the generator does not know is an error, not a silently loose type', () => {
  assert.throws(() => typesFromSchemas([['Odd', Type.Object({ when: Type.Date() })]]), /no TypeScript for the keyword|unknown type/);
  assert.throws(() => typesFromSchemas([['Ref', Type.Object({ next: Type.Ref('Elsewhere') })]]), /keyword "\$ref"/);
});

test("the dashboard's type-check reads the generated types: a field a JournalEntry lacks is an error there", async () => {
  // A module beside ui/'s, checked with ui/tsconfig.json's settings (strict, checkJs).
  const dir = tempDir('ui-types');
  const uiTypes = UI_TYPES_FILE.replace(/\.d\.ts$/, '.js');
  writeFileSync(
    join(dir, 'probe.js'),
    [
      '// @ts-check',
      `/** @typedef {import(${JSON.stringify(uiTypes)}).JournalEntry} JournalEntry */`,
      '/** @param {JournalEntry} entry */',
      'export const good = (entry) => (entry.rawBody ?? "").length + (entry.nearMisses?.[0]?.failed.length ?? 0);',
      '/** @param {JournalEntry} entry */',
      'export const bad = (entry) => entry.notAField;',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: fileURLToPath(new URL('../ui/tsconfig.json', import.meta.url)), include: ['probe.js'] }),
  );
  const outcome = await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false']).then(
    () => ({ failed: false, output: '' }),
    (error: { stdout: string }) => ({ failed: true, output: error.stdout }),
  );
  assert.ok(outcome.failed, 'the probe with a wrong field type-checked');
  const errors = outcome.output.split('\n').filter((line) => line.includes('error TS'));
  assert.is(errors.length, 1, outcome.output);
  assert.match(errors[0] as string, /probe\.js\(6,.*notAField/);
});

test.run();
