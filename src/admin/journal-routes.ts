/** GET /admin/requests, GET /admin/requests/count (both can wait for entries), DELETE /admin/requests. */
import type Koa from 'koa';
import type Router from '@koa/router';
import type { JournalFilter } from '../journal/journal.js';
import { MAX_WAIT_MS, type WaitOutcome } from '../journal/waits.js';
import { parseDelay } from '../scenario/delay.js';
import type { AdminContext } from './context.js';
import { badRequest } from './errors.js';

export function journalRoutes(router: Router, { journal, waits }: AdminContext): void {
  /** The `waited` part of an answer when the query asked to wait; undefined when the client went away. */
  const waitIfAsked = async (ctx: Koa.Context, query: JournalQuery): Promise<{ waited?: WaitOutcome } | undefined> => {
    if (query.wait === null) return {};
    const gone = new AbortController();
    const onClose = () => gone.abort();
    ctx.res.once('close', onClose);
    const waited = await waits.wait({ filter: query.filter, ...query.wait, signal: gone.signal });
    ctx.res.off('close', onClose);
    if (waited === null) return undefined;
    // The server is closing: do not leave this connection open for a next request.
    if (waited.reason === 'shutdown') ctx.set('Connection', 'close');
    return { waited };
  };

  router.get('/admin/requests', async (ctx) => {
    const query = parseJournalQuery(ctx.query);
    if (typeof query === 'string') return badRequest(ctx, query);
    const waited = await waitIfAsked(ctx, query);
    if (waited === undefined) return;
    ctx.body = { total: journal.total, dropped: journal.dropped, requests: journal.query(query.filter), ...waited };
  });
  router.get('/admin/requests/count', async (ctx) => {
    const query = parseJournalQuery(ctx.query);
    if (typeof query === 'string') return badRequest(ctx, query);
    const waited = await waitIfAsked(ctx, query);
    if (waited === undefined) return;
    ctx.body = { count: journal.count(query.filter), ...waited };
  });
  router.delete('/admin/requests', (ctx) => {
    journal.clear();
    ctx.body = { cleared: true };
  });
}

type Query = Record<string, string | string[] | undefined>;

export interface JournalQuery {
  filter: JournalFilter;
  /** Set when the query has `wait`: answer once `count` entries match, or after `timeoutMs`. */
  wait: { timeoutMs: number; count: number } | null;
}

const STRING_FILTERS = ['rule', 'contentID', 'clientCN', 'customerCookie', 'messageID', 'requestType', 'scenario', 'session', 'listener'] as const;
const FILTER_KEYS = new Set<string>([...STRING_FILTERS, 'valid', 'unmatched', 'since', 'limit']);
const QUERY_KEYS = [...FILTER_KEYS, 'wait', 'count'];

/** The filter and the wait from a query string, or the words for what is wrong with it. */
export function parseJournalQuery(query: Query): JournalQuery | string {
  const { wait: waitText, count: countText, ...rest } = query;
  const filter = parseFilter(rest);
  if (typeof filter === 'string') return filter;
  if (Array.isArray(waitText)) return 'wait given more than once';
  if (Array.isArray(countText)) return 'count given more than once';
  if (waitText === undefined) return countText === undefined ? { filter, wait: null } : 'count needs wait: count is how many matching entries to wait for';
  const timeoutMs = parseWait(waitText);
  if (typeof timeoutMs === 'string') return timeoutMs;
  let count = 1;
  if (countText !== undefined) {
    count = Number(countText);
    if (!/^\d+$/.test(countText) || !Number.isSafeInteger(count) || count < 1)
      return `count must be a whole number of at least 1, got "${countText}"`;
  }
  return { filter, wait: { timeoutMs, count } };
}

/** `wait=` as milliseconds: "500ms", "2s", "1.5s" or "1500" (ms), at most MAX_WAIT_MS. */
function parseWait(text: string): number | string {
  const expected = `wait must be a duration such as 500ms, 2s or 1500 (milliseconds), at most ${MAX_WAIT_MS / 1000}s; got "${text}"`;
  try {
    const delay = parseDelay(text);
    return delay.kind === 'fixed' && delay.ms <= MAX_WAIT_MS ? delay.ms : expected;
  } catch {
    return expected;
  }
}

/** The journal filter from a query string, or the words for what is wrong with it. */
export function parseFilter(query: Query): JournalFilter | string {
  const filter: JournalFilter = {};
  for (const [key, raw] of Object.entries(query)) {
    if (!FILTER_KEYS.has(key)) return `unknown filter "${key}"; known: ${QUERY_KEYS.join(', ')}`;
    if (Array.isArray(raw)) return `filter "${key}" given more than once`;
    if (raw === undefined) continue;
    switch (key) {
      case 'valid':
      case 'unmatched':
        if (raw !== 'true' && raw !== 'false') return `filter "${key}" must be true or false, got "${raw}"`;
        filter[key] = raw === 'true';
        break;
      case 'since':
      case 'limit': {
        const value = Number(raw);
        if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value))
          return `filter "${key}" must be a non-negative integer, got "${raw}"`;
        filter[key] = value;
        break;
      }
      default:
        filter[key as (typeof STRING_FILTERS)[number]] = raw;
    }
  }
  return filter;
}
