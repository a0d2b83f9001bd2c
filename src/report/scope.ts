/**
 * What GET /admin/report covers and accepts, from its query: one session's requests, those
 * after an entry id or from a time on (a report per test), and the finding ids a team accepted.
 */
import type { JournalEntry } from '../journal/entry.js';
import { FINDING_IDS, type FindingId } from './types.js';

/** `since`: an entry id (entries after it) or an ISO 8601 time (entries that arrived then or later). */
export type Since = { kind: 'entry'; id: number } | { kind: 'time'; at: number };

export function parseSince(text: string): Since | null {
  if (/^\d{1,15}$/.test(text)) return { kind: 'entry', id: Number(text) };
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? null : { kind: 'time', at };
}

export function inScope(entry: JournalEntry, session: string | null, since: Since | null): boolean {
  if (session !== null && entry.session !== session) return false;
  if (since?.kind === 'entry' && entry.id <= since.id) return false;
  if (since?.kind === 'time' && Date.parse(entry.time) < since.at) return false;
  return true;
}

const KNOWN = new Set<string>(FINDING_IDS);

/** Finding ids from `a,b,c` (or several lists), each checked: an unknown id is most likely a typo that would accept nothing. */
export function parseAccepted(lists: readonly string[]): { ok: true; ids: FindingId[] } | { ok: false; unknown: string } {
  const ids: FindingId[] = [];
  for (const id of lists.flatMap((list) => list.split(',')).map((item) => item.trim()).filter((item) => item !== '')) {
    if (!KNOWN.has(id)) return { ok: false, unknown: id };
    ids.push(id as FindingId);
  }
  return { ok: true, ids };
}

export const unknownFindingMessage = (id: string) =>
  `unknown finding id "${id}"; finding ids are slugs such as content-type-wrong, duplicate-message-id (all of them in docs/report.md)`;
