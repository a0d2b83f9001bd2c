/** The admin API (plain HTTP, JSON): a Koa app of small handlers, behind an optional bearer token. */
import Koa from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { AdminContext } from '../admin/context.js';
import { requireBearerToken } from '../admin/auth.js';
import { systemRoutes } from '../admin/system-routes.js';
import { journalRoutes } from '../admin/journal-routes.js';
import { scenarioRoutes } from '../admin/scenario-routes.js';
import { stateRoutes } from '../admin/state-routes.js';
import { sessionRoutes } from '../admin/session-routes.js';
import { reportRoutes } from '../admin/report-routes.js';
import { eventRoutes } from '../admin/event-routes.js';
import { dashboardFiles } from '../admin/dashboard-files.js';
import { recordingRoutes } from '../admin/recording-routes.js';
import { conformanceRoutes } from '../admin/conformance-routes.js';
import { isUntypedBody, refuseMalformedJson } from '../admin/json-body.js';
import { peerRequests } from '../admin/peer-requests.js';

/**
 * Admin bodies are small JSON objects, or a scenario document (YAML or JSON). YAML
 * parses at 1-4 s per MiB, blocking every listener meanwhile: uploads stay at 1 MiB
 * (generated scenarios with many rules belong in files; see docs/limits.md).
 */
export const ADMIN_BODY_LIMIT = '1mb';

export function createAdminApp(context: AdminContext): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (error: unknown) => context.onInternalError(error));
  app.use(closeWhenBodyUnread);
  app.use(jsonErrors);
  app.use(dashboardFiles());
  app.use(peerRequests(context.replica, context.peers));
  if (context.adminToken !== null) app.use(requireBearerToken(context.adminToken, new Set(['/health'])));
  app.use(
    bodyParser({
      enableTypes: ['json', 'text'],
      extendTypes: { text: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'] },
      jsonLimit: ADMIN_BODY_LIMIT,
      textLimit: ADMIN_BODY_LIMIT,
      strict: true,
      detectJSON: isUntypedBody,
      onerror: refuseMalformedJson,
    }),
  );
  const settle = context.settle;
  if (settle !== null)
    app.use(async (_ctx, next) => {
      await next();
      await settle();
    });
  const router = new Router();
  systemRoutes(router, context);
  journalRoutes(router, context);
  scenarioRoutes(router, context);
  sessionRoutes(router, context);
  reportRoutes(router, context);
  eventRoutes(router, context);
  recordingRoutes(router, context);
  conformanceRoutes(router, context);
  stateRoutes(router, context);
  app.use(router.routes());
  app.use(noSuchRoute(router));
  return app;
}

/**
 * What no route answered: a known path asked with another method gets 405 with `Allow` (RFC 9110)
 * and the methods to use in words (OPTIONS: 204 with `Allow`); any other path a JSON 404.
 */
function noSuchRoute(router: Router): Koa.Middleware {
  return (ctx) => {
    const allowed = [...new Set(router.match(ctx.path, ctx.method).path.flatMap((layer) => layer.methods))];
    if (allowed.length === 0) {
      ctx.status = 404;
      ctx.body = { error: 'not found', message: `no admin route ${ctx.method} ${ctx.path}` };
      return;
    }
    ctx.set('Allow', allowed.join(', '));
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      return;
    }
    const named = allowed.filter((method) => method !== 'HEAD');
    const use = named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} or ${named.at(-1)}`;
    ctx.status = 405;
    ctx.body = { error: 'method not allowed', message: `method ${ctx.method} not allowed on ${ctx.path}; use ${use}` };
  };
}

/**
 * An answer given before the request body was read whole (a 413, an early error) is the
 * connection's last: the rest of the body is drained by the lingering close (server/linger.ts),
 * not read to its end nor taken for a next request.
 */
async function closeWhenBodyUnread(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  await next();
  if (!ctx.req.complete) ctx.set('Connection', 'close');
}

/** Any error becomes a JSON answer with its HTTP status; the process keeps serving. */
async function jsonErrors(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    const httpError = error as { status?: number; statusCode?: number; expose?: boolean; message?: string; headers?: Record<string, string> };
    const status = httpError.status ?? httpError.statusCode ?? 500;
    ctx.status = status;
    if (httpError.headers) ctx.set(httpError.headers);
    ctx.body = {
      error: status === 500 ? 'internal error' : status === 400 ? 'bad request' : (httpError.message ?? 'error').toLowerCase(),
      message: status === 500 ? 'the admin route failed; see the mock log' : (httpError.message ?? ''),
    };
    if (status === 500) ctx.app.emit('error', error, ctx);
  }
}
