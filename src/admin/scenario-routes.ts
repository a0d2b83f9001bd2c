/** GET /admin/scenarios, PUT /admin/scenarios/active, POST /admin/scenarios, DELETE /admin/scenarios/:name. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { badRequest } from './errors.js';

export function scenarioRoutes(router: Router, { scenarios }: AdminContext): void {
  router.get('/admin/scenarios', (ctx) => {
    ctx.body = scenarios.list();
  });

  router.put('/admin/scenarios/active', (ctx) => {
    const name = (ctx.request.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name === '') return badRequest(ctx, 'body must be JSON {"name": "<scenario>"}');
    const outcome = scenarios.setActive(name);
    if (!outcome.ok) {
      ctx.status = 404;
      ctx.body = { error: 'not found', message: `no scenario named "${name}"`, known: outcome.known };
      return;
    }
    ctx.body = { active: name };
  });

  router.post('/admin/scenarios', (ctx) => {
    const activateParam = ctx.query.activate;
    if (activateParam !== undefined && activateParam !== 'true' && activateParam !== 'false')
      return badRequest(ctx, `activate must be true or false, got "${String(activateParam)}"`);
    const text = ctx.request.rawBody;
    if (typeof text !== 'string' || text.trim() === '')
      return badRequest(ctx, 'body must be a scenario as YAML (application/yaml) or JSON (application/json)');
    const outcome = scenarios.post(text, { activate: activateParam !== 'false' });
    if (!outcome.ok) return badRequest(ctx, 'invalid scenario', { errors: outcome.errors });
    ctx.status = 201;
    ctx.body = { name: outcome.name, replaced: outcome.replaced, active: scenarios.activeName() };
  });

  router.delete('/admin/scenarios/:name', (ctx) => {
    const name = ctx.params.name as string;
    if (!scenarios.remove(name)) {
      ctx.status = 404;
      ctx.body = { error: 'not found', message: `no posted scenario named "${name}" (file scenarios cannot be deleted)` };
      return;
    }
    ctx.body = { removed: name, active: scenarios.activeName() };
  });
}
