/** GET /admin/scenarios, PUT /admin/scenarios/active, POST /admin/scenarios, DELETE /admin/scenarios/{name}. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/scenarios.js';
import { announced } from './shared-store.js';

export function scenarioRoutes(router: Router, { scenarios, shared }: AdminContext): void {
  route(router, api.listScenarios, () => ({ status: 200, body: scenarios.list() }));

  route(router, api.activateScenario, async ({ body: { name } }) => {
    const outcome = scenarios.setActive(name);
    if (!outcome.ok) return { status: 404, body: { error: 'not found', message: `no scenario named "${name}"`, known: outcome.known } };
    return (await announced(shared, { kind: 'switch', active: name })) ?? { status: 200, body: { active: name } };
  });

  route(router, api.uploadScenario, async ({ query, body }) => {
    const activate = query.activate ?? true;
    const outcome = scenarios.post(body, { activate });
    if (!outcome.ok) return { status: 400, body: { error: 'bad request', message: 'invalid scenario', errors: outcome.errors } };
    const active = scenarios.activeName();
    return (
      (await announced(shared, { kind: 'post', name: outcome.name, text: body, activate, active })) ?? {
        status: 201,
        body: { name: outcome.name, replaced: outcome.replaced, active },
      }
    );
  });

  route(router, api.deleteScenario, async ({ params: { name } }) => {
    const outcome = scenarios.remove(name);
    if (!outcome.ok)
      return { status: 404, body: { error: 'not found', message: `no posted scenario named "${name}" (file scenarios cannot be deleted)` } };
    return (
      (await announced(shared, { kind: 'remove', name, active: outcome.active, fellBack: outcome.fellBackTo !== null })) ?? {
        status: 200,
        body: { removed: name, active: outcome.active, fellBackTo: outcome.fellBackTo },
      }
    );
  });
}
