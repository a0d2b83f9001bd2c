/** GET /admin/report: the report card on the license server under test, from the journal since the last reset. */
import type Router from '@koa/router';
import { buildReport } from '../report/build.js';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/report.js';

export function reportRoutes(router: Router, { journal, tlsFailures }: AdminContext): void {
  route(router, api.report, () => ({
    status: 200,
    body: buildReport({ entries: journal.entries(), dropped: journal.dropped, refusedHandshakes: tlsFailures.countsByReason() }),
  }));
}
