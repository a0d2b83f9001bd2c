/** POST /admin/sessions, GET /admin/sessions, GET /admin/sessions/:id, DELETE /admin/sessions/:id. */
import type Koa from 'koa';
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { badRequest } from './errors.js';

export function sessionRoutes(router: Router, { sessions }: AdminContext): void {
  router.post('/admin/sessions', (ctx) => {
    const text = ctx.request.rawBody;
    if (typeof text !== 'string' || text.trim() === '')
      return badRequest(ctx, 'body must be a session as YAML (application/yaml) or JSON (application/json): {key: {contentID: "abc-*"}, rules: [...]}');
    const outcome = sessions.create(text);
    switch (outcome.kind) {
      case 'invalid':
        return badRequest(ctx, 'invalid session', { errors: outcome.errors });
      case 'conflict':
        ctx.status = 409;
        ctx.body = { error: 'conflict', message: outcome.message, sessions: outcome.sessions };
        return;
      case 'created':
        ctx.status = 201;
        ctx.body = { ...outcome.session, warnings: outcome.warnings };
    }
  });

  router.get('/admin/sessions', (ctx) => {
    ctx.body = { sessions: sessions.list() };
  });

  router.get('/admin/sessions/:id', (ctx) => {
    const session = sessions.get(ctx.params.id as string);
    if (session === null) return notFound(ctx, ctx.params.id as string);
    ctx.body = session;
  });

  router.delete('/admin/sessions/:id', (ctx) => {
    const id = ctx.params.id as string;
    if (!sessions.delete(id)) return notFound(ctx, id);
    ctx.body = { removed: id };
  });
}

function notFound(ctx: Koa.Context, id: string): void {
  ctx.status = 404;
  ctx.body = { error: 'not found', message: `no session "${id}" (it may have expired or been removed)` };
}
