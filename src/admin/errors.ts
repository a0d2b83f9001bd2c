import type Koa from 'koa';
import { isSourcesUnavailable } from '../federation/federation.js';

/** Every admin error is JSON: `{error, message, ...details}`. */
export function badRequest(ctx: Koa.Context, message: string, details: Record<string, unknown> = {}): void {
  ctx.status = 400;
  ctx.body = { error: 'bad request', message, ...details };
}

/** The 503 of a question some journal source (a worker, a peer) did not answer; any other error is rethrown. */
export function sourcesUnavailable(error: unknown) {
  if (!isSourcesUnavailable(error)) throw error;
  return {
    status: 503,
    body: { error: 'service unavailable', message: `${error.message}; ask with partial=true for what the others hold`, missing: [...error.missing] },
  } as const;
}
