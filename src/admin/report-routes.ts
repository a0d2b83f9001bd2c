/** GET /admin/report: the report card on the license server under test, from the journal since the last reset. */
import type Router from '@koa/router';
import { buildReport } from '../report/build.js';
import type { AdminContext } from './context.js';

export function reportRoutes(router: Router, { journal, tlsFailures }: AdminContext): void {
  router.get('/admin/report', (ctx) => {
    ctx.body = buildReport({ entries: journal.entries(), dropped: journal.dropped, refusedHandshakes: tlsFailures.countsByReason() });
  });
}
