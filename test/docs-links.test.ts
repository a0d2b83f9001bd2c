/**
 * The documentation is self-contained: every relative link in README.md and docs/*.md
 * leads to a file of the repository (and to a heading, for a #fragment), the README
 * stays a front door, and nothing sends a reader to a document they cannot open.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { brokenLinks, describeBrokenLinks, headingFragments, relativeLinks } from './helpers/markdown-links.js';

const ROOT = join(import.meta.dirname, '..');
const README_LIMIT_BYTES = 15_000;
/**
 * The product specification the mock was first built from is not in the repository; a reader
 * cannot open it, so no file may send them to "the SPEC" (this file, which has to name it, is the
 * one exception).
 */
const OUTSIDE_DOCUMENT_WORD = /\bSPEC\b/;
/** Folders that are not the repository's own text: dependencies, build output, generated certificates. */
const NOT_OURS = new Set(['node_modules', 'dist', '.git', 'certs', 'tmp']);

function documentationFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

function repositoryTextFiles(folder = ROOT): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (NOT_OURS.has(entry.name)) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...repositoryTextFiles(path));
    else if (/\.(md|ts|mjs|js|json|ya?ml|sh)$|^Dockerfile$|^run$/.test(entry.name) && entry.name !== 'package-lock.json') files.push(path);
  }
  return files;
}

test('every relative link in README.md and docs/*.md leads to an existing file and heading', () => {
  const files = documentationFiles();
  assert.ok(files.length >= 7, `expected README.md and the docs pages, got ${files.join(', ')}`);
  const broken = brokenLinks(ROOT, files);
  assert.is(broken.length, 0, `broken links:\n${describeBrokenLinks(broken)}`);
});

test('the README links to every page in docs/', () => {
  const readmeTargets = new Set(relativeLinks(readFileSync(join(ROOT, 'README.md'), 'utf8')).map(({ target }) => target.split('#')[0]));
  const missing = documentationFiles().filter((file) => file !== 'README.md' && !readmeTargets.has(file));
  assert.equal(missing, [], `README.md does not link to ${missing.join(', ')}`);
});

test(`README.md stays a front door: under ${README_LIMIT_BYTES} bytes, the two commands first`, () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const bytes = Buffer.byteLength(readme);
  assert.ok(bytes < README_LIMIT_BYTES, `README.md is ${bytes} bytes; move reference material into docs/`);
  const firstLines = readme.split('\n').slice(0, 5).join('\n');
  assert.match(firstLines, 'npm ci && npm start');
  assert.match(firstLines, 'npm test');
});

test('every .md file named in the repository is in it, and nothing points to the SPEC', () => {
  const files = repositoryTextFiles().filter((path) => !path.endsWith('docs-links.test.ts'));
  const ours = new Set(files.filter((path) => path.endsWith('.md')).map((path) => basename(path)));
  const mentions = files.flatMap((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .flatMap((line, index) => {
        const elsewhere = [...line.matchAll(/\b[\w.-]+\.md\b/g)].map(([name]) => name).filter((name) => !ours.has(name));
        return elsewhere.length || OUTSIDE_DOCUMENT_WORD.test(line) ? [`${relative(ROOT, path)}:${index + 1}: ${line.trim()}`] : [];
      }),
  );
  assert.equal(mentions, [], `mentions of documents not in the repository:\n${mentions.join('\n')}`);
});

// The checker itself, on a folder made for the purpose: it must be able to fail.
test('the link checker reports a missing file, a missing heading and ignores code and external links', () => {
  const folder = mkdtempSync(join(tmpdir(), 'em-links-'));
  try {
    mkdirSync(join(folder, 'docs'));
    writeFileSync(join(folder, 'docs', 'page.md'), '# A page\n\n## The `request` probe: how?\n\n## Twice\n\n## Twice\n');
    writeFileSync(
      join(folder, 'README.md'),
      [
        '[ok](docs/page.md) [ok](docs/page.md#the-request-probe-how) [ok](docs/page.md#twice-1) [ok](#top)',
        '[missing file](docs/nope.md) [missing heading](docs/page.md#nowhere) [external](https://example.com/x.md)',
        '`[in code](docs/gone.md)`',
        '```',
        '[in a fence](docs/gone.md)',
        '```',
        '# Top',
      ].join('\n'),
    );
    const broken = brokenLinks(folder, ['README.md', 'docs/page.md']);
    assert.equal(
      broken.map(({ line, target }) => `${line} ${target}`),
      ['2 docs/nope.md', '2 docs/page.md#nowhere'],
    );
    assert.equal([...headingFragments(readFileSync(join(folder, 'docs', 'page.md'), 'utf8'))], ['a-page', 'the-request-probe-how', 'twice', 'twice-1']);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test.run();
