/** GET /health, POST /admin/reset, GET /admin/tls-failures, GET /metrics, GET /admin/openapi.json. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import { sourcesUnavailable } from './errors.js';
import * as api from './api/system.js';
import { announced } from './shared-store.js';

export function systemRoutes(router: Router, context: AdminContext): void {
  route(router, api.health, () => ({
    status: 200,
    body: {
      status: 'ok',
      scenario: context.scenarios.activeName(),
      uptimeSeconds: Math.round((performance.now() - context.startedAt) / 10) / 100,
    },
  }));
  route(router, api.reset, async () => {
    context.waits.endAll('reset');
    try {
      await Promise.all([context.federation.clear(), context.federation.clearTlsFailures()]);
    } catch (error) {
      return sourcesUnavailable(error);
    }
    context.sessions.clear();
    context.seenMessageIds.clear();
    await context.scenarios.reload();
    const { active, errors } = context.scenarios.list();
    return (await announced(context.shared, { kind: 'reset' })) ?? { status: 200, body: { reset: true, active, errors } };
  });
  route(router, api.tlsFailures, async ({ query }) => {
    try {
      const { missing, ...listing } = await context.federation.tlsFailures(query.partial ?? false);
      return { status: 200, body: missing.length > 0 ? { ...listing, missing } : listing };
    } catch (error) {
      return sourcesUnavailable(error);
    }
  });
  route(router, api.metrics, async () => ({ status: 200, body: await context.metrics.render(), contentType: context.metrics.contentType }));
  let openApiDocument: object | null = null;
  route(router, api.openapi, async () => {
    // Built on first use: nothing on the start-up path needs it.
    openApiDocument ??= (await import('./api/openapi.js')).buildOpenApiDocument();
    return { status: 200, body: openApiDocument as Record<string, unknown> };
  });
}
