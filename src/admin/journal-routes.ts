/** GET /admin/requests, GET /admin/requests/count (both can wait for entries), DELETE /admin/requests. */
import type Koa from 'koa';
import type Router from '@koa/router';
import type { Static } from '@sinclair/typebox';
import { MAX_WAIT_MS, type WaitOutcome } from '../journal/waits.js';
import { parseDelay } from '../scenario/runtime/delay.js';
import type { AdminContext } from './context.js';
import type { JournalFilter } from '../journal/journal.js';
import { route } from './api/register.js';
import { sourcesUnavailable } from './errors.js';
import * as api from './api/journal.js';

export function journalRoutes(router: Router, { federation, waits }: AdminContext): void {
  /** The `waited` part of an answer when the query asked to wait (none when the client went away meanwhile). */
  const waitIfAsked = async (ctx: Koa.Context, query: ParsedQuery): Promise<{ waited?: WaitOutcome }> => {
    if (query.wait === null) return {};
    const gone = new AbortController();
    const onClose = () => gone.abort();
    ctx.res.once('close', onClose);
    const waited = await waits.wait({ filter: query.filter, ...query.wait, signal: gone.signal, partial: query.partial });
    ctx.res.off('close', onClose);
    if (waited === null) return {};
    // The server is closing: do not leave this connection open for a next request.
    if (waited.reason === 'shutdown') ctx.set('Connection', 'close');
    return { waited };
  };

  route(router, api.listRequests, async ({ query }, ctx) => {
    const parsed = parseJournalQuery(query);
    if (typeof parsed === 'string') return { status: 400, body: { error: 'bad request', message: parsed } };
    try {
      const waited = await waitIfAsked(ctx, parsed);
      const { missing, ...answer } = await federation.query(parsed.filter, parsed.partial);
      return { status: 200, body: { ...answer, ...waited, ...(missing.length > 0 ? { missing } : {}) } };
    } catch (error) {
      return sourcesUnavailable(error);
    }
  });
  route(router, api.countRequests, async ({ query }, ctx) => {
    const parsed = parseJournalQuery(query);
    if (typeof parsed === 'string') return { status: 400, body: { error: 'bad request', message: parsed } };
    try {
      const waited = await waitIfAsked(ctx, parsed);
      const { count, missing } = await federation.count(parsed.filter, parsed.partial);
      return { status: 200, body: { count, ...waited, ...(missing.length > 0 ? { missing } : {}) } };
    } catch (error) {
      return sourcesUnavailable(error);
    }
  });
  route(router, api.clearRequests, async () => {
    try {
      await federation.clear();
      return { status: 200, body: { cleared: true } };
    } catch (error) {
      return sourcesUnavailable(error);
    }
  });
}

interface ParsedQuery {
  filter: JournalFilter;
  /** Answer from the journal sources that answer (the others listed as missing). */
  partial: boolean;
  /** Set when the query has `wait`: answer once `count` entries match, or after `timeoutMs`. */
  wait: { timeoutMs: number; count: number } | null;
}

/** The filter and the wait from a checked query, or the words for what is wrong with the wait. */
function parseJournalQuery({ wait, count, partial = false, ...filter }: Static<typeof api.JournalQuery>): ParsedQuery | string {
  if (wait === undefined)
    return count === undefined ? { filter, partial, wait: null } : 'query parameter "count" needs wait: count is how many matching entries to wait for';
  const timeoutMs = parseWait(wait);
  if (timeoutMs === null)
    return `query parameter "wait" must be a duration such as 500ms, 2s or 1500 (milliseconds), at most ${MAX_WAIT_MS / 1000}s; got "${wait}"`;
  return { filter, partial, wait: { timeoutMs, count: count ?? 1 } };
}

/** `wait=` as milliseconds: "500ms", "2s", "1.5s" or "1500" (ms), at most MAX_WAIT_MS; null when it is none of those. */
function parseWait(text: string): number | null {
  try {
    const delay = parseDelay(text);
    return delay.kind === 'fixed' && delay.ms <= MAX_WAIT_MS ? delay.ms : null;
  } catch {
    return null;
  }
}
