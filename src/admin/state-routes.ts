/** GET /admin/state, DELETE /admin/state: the per-key states of the active scenario and of each session. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/state.js';

export function stateRoutes(router: Router, { scenarios, sessions }: AdminContext): void {
  route(router, api.getState, () => ({ status: 200, body: { scenario: scenarios.stateListing(), sessions: sessions.stateListings() } }));
  route(router, api.clearState, () => ({ status: 200, body: { cleared: scenarios.clearState() + sessions.clearStates() } }));
}
