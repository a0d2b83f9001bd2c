/** GET /admin/state, DELETE /admin/state: the per-key states of the active scenario (and, once they exist, of each session). */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';

export function stateRoutes(router: Router, { scenarios }: AdminContext): void {
  router.get('/admin/state', (ctx) => {
    // `sessions` (session id -> the same listing) is filled in when sessions own rule sets.
    ctx.body = { scenario: scenarios.stateListing(), sessions: {} };
  });
  router.delete('/admin/state', (ctx) => {
    ctx.body = { cleared: scenarios.clearState() };
  });
}
