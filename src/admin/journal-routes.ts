/** GET /admin/requests, GET /admin/requests/count, DELETE /admin/requests. */
import type Router from '@koa/router';
import type { JournalFilter } from '../journal/journal.js';
import type { AdminContext } from './context.js';
import { badRequest } from './errors.js';

export function journalRoutes(router: Router, { journal }: AdminContext): void {
  router.get('/admin/requests', (ctx) => {
    const filter = parseFilter(ctx.query);
    if (typeof filter === 'string') return badRequest(ctx, filter);
    ctx.body = { total: journal.total, dropped: journal.dropped, requests: journal.query(filter) };
  });
  router.get('/admin/requests/count', (ctx) => {
    const filter = parseFilter(ctx.query);
    if (typeof filter === 'string') return badRequest(ctx, filter);
    ctx.body = { count: journal.count(filter) };
  });
  router.delete('/admin/requests', (ctx) => {
    journal.clear();
    ctx.body = { cleared: true };
  });
}

type Query = Record<string, string | string[] | undefined>;
const FILTER_KEYS = new Set(['rule', 'contentID', 'clientCN', 'listener', 'valid', 'unmatched', 'since', 'limit']);

/** The journal filter from a query string, or the words for what is wrong with it. */
export function parseFilter(query: Query): JournalFilter | string {
  const filter: JournalFilter = {};
  for (const [key, raw] of Object.entries(query)) {
    if (!FILTER_KEYS.has(key)) return `unknown filter "${key}"; known: ${[...FILTER_KEYS].join(', ')}`;
    if (Array.isArray(raw)) return `filter "${key}" given more than once`;
    if (raw === undefined) continue;
    switch (key) {
      case 'rule':
      case 'contentID':
      case 'clientCN':
      case 'listener':
        filter[key] = raw;
        break;
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
    }
  }
  return filter;
}
