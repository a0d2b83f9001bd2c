/** GET /admin/scenarios, PUT /admin/scenarios/active, POST /admin/scenarios, DELETE /admin/scenarios/{name}. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/scenarios.js';

export function scenarioRoutes(router: Router, { scenarios }: AdminContext): void {
  route(router, api.listScenarios, () => ({ status: 200, body: scenarios.list() }));

  route(router, api.activateScenario, ({ body: { name } }) => {
    const outcome = scenarios.setActive(name);
    if (!outcome.ok) return { status: 404, body: { error: 'not found', message: `no scenario named "${name}"`, known: outcome.known } };
    return { status: 200, body: { active: name } };
  });

  route(router, api.uploadScenario, ({ query, body }) => {
    const outcome = scenarios.post(body, { activate: query.activate ?? true });
    if (!outcome.ok) return { status: 400, body: { error: 'bad request', message: 'invalid scenario', errors: outcome.errors } };
    return { status: 201, body: { name: outcome.name, replaced: outcome.replaced, active: scenarios.activeName() } };
  });

  route(router, api.deleteScenario, ({ params: { name } }) => {
    const outcome = scenarios.remove(name);
    if (!outcome.ok)
      return { status: 404, body: { error: 'not found', message: `no posted scenario named "${name}" (file scenarios cannot be deleted)` } };
    return { status: 200, body: { removed: name, active: outcome.active, fellBackTo: outcome.fellBackTo } };
  });
}
