import type Koa from 'koa';

/** Every admin error is JSON: `{error, message, ...details}`. */
export function badRequest(ctx: Koa.Context, message: string, details: Record<string, unknown> = {}): void {
  ctx.status = 400;
  ctx.body = { error: 'bad request', message, ...details };
}
