/** GET /admin/events: the live feed as server-sent events (see live-events.ts). */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { badRequest } from './errors.js';

export function eventRoutes(router: Router, { liveEvents, scenarios }: AdminContext): void {
  router.get('/admin/events', (ctx) => {
    // A reconnecting EventSource sends Last-Event-ID with its original URL: the header is the newer news.
    const lastEventId = ctx.get('Last-Event-ID');
    const since = parseCount(lastEventId !== '' ? lastEventId : ctx.query.since);
    const limit = parseCount(ctx.query.limit);
    if (since === undefined) return badRequest(ctx, 'Last-Event-ID and since must be a non-negative integer (an entry id)');
    if (limit === undefined) return badRequest(ctx, 'limit must be a non-negative integer');
    ctx.respond = false;
    liveEvents.open(ctx.res, { since, limit }, scenarios.activeName());
  });
}

/** null when absent, undefined when malformed. */
function parseCount(raw: string | string[] | undefined): number | null | undefined {
  if (raw === undefined) return null;
  // Ids with workers or peers are large (time-ordered): any safe integer.
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) return undefined;
  return Number(raw);
}
