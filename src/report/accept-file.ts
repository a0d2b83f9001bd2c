/**
 * The accept file of `entitlement-mock report --accept-file FILE`: the findings a team has
 * decided to live with, kept in its repository beside the CI job.
 *
 *   accept:
 *     - content-type-wrong   # our gateway sends text/json; ticket 123
 *     - version-as-string
 *
 * Problems are named with file:line:column.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { parseAccepted, unknownFindingMessage } from './scope.js';
import type { FindingId } from './types.js';

export type AcceptFile = { ok: true; ids: FindingId[] } | { ok: false; message: string };

export async function readAcceptFile(path: string): Promise<AcceptFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, message: `${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  return parseAcceptFile(text, path);
}

export function parseAcceptFile(text: string, file: string): AcceptFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (node: Node | null | undefined, message: string): AcceptFile => {
    const { line, col } = lineCounter.linePos(node?.range?.[0] ?? 0);
    return { ok: false, message: `${file}:${line}:${col}: ${message}` };
  };
  const syntax = document.errors[0];
  if (syntax !== undefined) {
    const { line, col } = lineCounter.linePos(syntax.pos[0]);
    return { ok: false, message: `${file}:${line}:${col}: not valid YAML: ${syntax.message.split('\n')[0]}` };
  }
  const root = document.contents;
  if (!isMap(root)) return at(root, 'expected a mapping with an accept: list, e.g. "accept: [content-type-wrong]"');
  const ids: FindingId[] = [];
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'accept') return at(pair.key as Node, `unknown key "${key}"; the file has one key, accept (a list of finding ids)`);
    const list = pair.value;
    if (list === null || (isScalar(list) && list.value === null)) continue;
    if (!isSeq(list)) return at(list as Node, 'accept: expected a list of finding ids');
    for (const item of list.items) {
      if (!isScalar(item) || typeof item.value !== 'string') return at(item as Node, 'accept: expected a finding id (a string such as content-type-wrong)');
      const parsed = parseAccepted([item.value]);
      if (!parsed.ok) return at(item, `accept: ${unknownFindingMessage(parsed.unknown)}`);
      ids.push(...parsed.ids);
    }
  }
  return { ok: true, ids };
}
