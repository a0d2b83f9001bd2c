/**
 * The layers of docs/architecture.md hold in the code: every relative import in src/ points to a
 * folder in the same row of the layer table or a row above it, save the one meeting point the page
 * names (server/ mounts the admin app). The table is read from the page, so the page and this test
 * cannot drift apart.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');

/** The rows of the layer table, lowest first: each a list of folders (or files) below src/. */
function layerRows(): string[][] {
  const page = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const table = page.split('## The layers')[1]!.split('\n## ')[0]!;
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => [...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/\/$/, '')));
}

function rowOf(rows: string[][], path: string): number {
  let best = -1;
  let longest = -1;
  rows.forEach((row, index) =>
    row.forEach((place) => {
      if ((path === place || path.startsWith(`${place}/`)) && place.length > longest) {
        best = index;
        longest = place.length;
      }
    }),
  );
  return best;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('the layer table names a row for every file in src/', () => {
  const rows = layerRows();
  assert.ok(rows.length >= 10, `expected the layer table, got ${JSON.stringify(rows)}`);
  const homeless = sourceFiles(src)
    .map((file) => relative(src, file))
    .filter((file) => rowOf(rows, file) < 0 && file !== 'version.ts');
  assert.equal(homeless, []);
});

test('no import in src/ points to a lower layer', () => {
  const rows = layerRows();
  const upward: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = relative(src, file);
    const fromRow = rowOf(rows, from);
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = relative(src, resolve(dirname(file), match[1]!)).replace(/\.js$/, '.ts');
      const toRow = rowOf(rows, target);
      const meetingPoint = from.startsWith('server/') && target.startsWith('admin/');
      if (toRow > fromRow && !meetingPoint) upward.push(`${from} -> ${target}`);
    }
  }
  assert.equal(upward, []);
});

test.run();
