/**
 * Relative links in markdown files, and which of them lead nowhere: a file that does not
 * exist, or a #fragment that names no heading of the markdown file it points into.
 * Headings become fragments the way GitHub makes them (lowercase, punctuation dropped,
 * spaces to hyphens, "-1", "-2"… for repeats). Links inside code are not links.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

export interface BrokenLink {
  /** The markdown file holding the link, relative to the root. */
  file: string;
  line: number;
  target: string;
  why: string;
}

const FENCE = /^\s*(```|~~~)/;
const INLINE_LINK = /!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/;
const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** The lines of a markdown text outside fenced code blocks, with inline code blanked out. */
function proseLines(text: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let inFence = false;
  text.split('\n').forEach((raw, index) => {
    if (FENCE.test(raw)) {
      inFence = !inFence;
      return;
    }
    if (!inFence) lines.push({ line: index + 1, text: raw.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length)) });
  });
  return lines;
}

/** GitHub's fragment for a heading's text. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every fragment a markdown text's headings provide. */
export function headingFragments(text: string): Set<string> {
  const seen = new Map<string, number>();
  const fragments = new Set<string>();
  let inFence = false;
  for (const line of text.split('\n')) {
    if (FENCE.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = headingSlug(heading[1]!);
    const repeats = seen.get(slug) ?? 0;
    seen.set(slug, repeats + 1);
    fragments.add(repeats === 0 ? slug : `${slug}-${repeats}`);
  }
  return fragments;
}

/** The relative link targets of a markdown text, with their line numbers. */
export function relativeLinks(text: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  for (const { line, text: prose } of proseLines(text)) {
    for (const match of prose.matchAll(INLINE_LINK)) links.push({ line, target: match[1]! });
    const definition = REFERENCE_DEFINITION.exec(prose);
    if (definition) links.push({ line, target: definition[1]! });
  }
  return links.filter(({ target }) => !EXTERNAL.test(target));
}

/** The links in `files` (paths relative to `root`) that lead nowhere. */
export function brokenLinks(root: string, files: readonly string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  for (const file of files) {
    const path = resolve(root, file);
    for (const { line, target } of relativeLinks(readFileSync(path, 'utf8'))) {
      const [pathPart = '', fragment] = target.split('#', 2) as [string, string | undefined];
      const targetPath = pathPart === '' ? path : resolve(dirname(path), decodeURIComponent(pathPart));
      const report = (why: string) => broken.push({ file, line, target, why });
      if (!existsSync(targetPath)) {
        report(`${relative(root, targetPath)} does not exist`);
        continue;
      }
      if (fragment === undefined || fragment === '') continue;
      if (statSync(targetPath).isDirectory() || !targetPath.endsWith('.md')) {
        report(`#${fragment} points into ${relative(root, targetPath)}, which is not a markdown file`);
        continue;
      }
      if (!headingFragments(readFileSync(targetPath, 'utf8')).has(decodeURIComponent(fragment).toLowerCase()))
        report(`${relative(root, targetPath) || file} has no heading for #${fragment}`);
    }
  }
  return broken;
}

/** "file:line: target: why", one per line, for an assertion message. */
export function describeBrokenLinks(broken: readonly BrokenLink[]): string {
  return broken.map(({ file, line, target, why }) => `${file}:${line}: ${target}: ${why}`).join('\n');
}
