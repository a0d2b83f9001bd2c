/** GET /admin/state, DELETE /admin/state: the per-key states of the active scenario and of each session. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';

export function stateRoutes(router: Router, { scenarios, sessions }: AdminContext): void {
  router.get('/admin/state', (ctx) => {
    ctx.body = { scenario: scenarios.stateListing(), sessions: sessions.stateListings() };
  });
  router.delete('/admin/state', (ctx) => {
    ctx.body = { cleared: scenarios.clearState() + sessions.clearStates() };
  });
}
