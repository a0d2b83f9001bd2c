/** POST /admin/sessions, GET /admin/sessions, GET /admin/sessions/{id}, DELETE /admin/sessions/{id}. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/sessions.js';
import { announced } from './shared-store.js';

export function sessionRoutes(router: Router, { sessions, shared }: AdminContext): void {
  route(router, api.createSession, async ({ body }) => {
    const outcome = sessions.create(body);
    switch (outcome.kind) {
      case 'invalid':
        return { status: 400, body: { error: 'bad request', message: 'invalid session', errors: outcome.errors } };
      case 'conflict':
        return { status: 409, body: { error: 'conflict', message: outcome.message, sessions: outcome.sessions } };
      case 'created': {
        const { id, createdAt, expiresAt } = outcome.session;
        const change = { kind: 'session-created', id, text: body, createdAt: Date.parse(createdAt), expiresAt: expiresAt === null ? null : Date.parse(expiresAt) } as const;
        return (await announced(shared, change)) ?? { status: 201, body: { ...outcome.session, warnings: outcome.warnings } };
      }
    }
  });

  route(router, api.listSessions, () => ({ status: 200, body: { sessions: sessions.list() } }));

  route(router, api.getSession, ({ params: { id } }) => {
    const session = sessions.get(id);
    return session === null ? notFound(id) : { status: 200, body: session };
  });

  route(router, api.deleteSession, async ({ params: { id } }) => {
    if (!sessions.delete(id)) return notFound(id);
    return (await announced(shared, { kind: 'session-deleted', id })) ?? { status: 200, body: { removed: id } };
  });
}

const notFound = (id: string) =>
  ({ status: 404, body: { error: 'not found', message: `no session "${id}" (it may have expired or been removed)` } }) as const;
