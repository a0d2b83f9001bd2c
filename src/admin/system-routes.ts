/** GET /health, POST /admin/reset, GET /admin/tls-failures, GET /metrics. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';

export function systemRoutes(router: Router, context: AdminContext): void {
  router.get('/health', (ctx) => {
    ctx.body = {
      status: 'ok',
      scenario: context.scenarios.activeName(),
      uptimeSeconds: Math.round((performance.now() - context.startedAt) / 10) / 100,
    };
  });
  router.post('/admin/reset', async (ctx) => {
    context.waits.endAll('reset');
    context.journal.clear();
    context.sessions.clear();
    context.seenMessageIds.clear();
    context.tlsFailures.clear();
    await context.scenarios.reload();
    const { active, errors } = context.scenarios.list();
    ctx.body = { reset: true, active, errors };
  });
  router.get('/admin/tls-failures', (ctx) => {
    ctx.body = context.tlsFailures.toJSON();
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = context.metrics.contentType;
    ctx.body = await context.metrics.render();
  });
}
