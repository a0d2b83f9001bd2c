/** Bearer-token guard for the admin routes (not /health). Constant-time comparison of equal-length digests. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function requireBearerToken(token: string, openPaths: ReadonlySet<string>): Koa.Middleware {
  const expected = digest(`Bearer ${token}`);
  return async (ctx, next) => {
    if (openPaths.has(ctx.path)) return next();
    const presented = ctx.get('Authorization');
    if (presented && timingSafeEqual(digest(presented), expected)) return next();
    ctx.status = 401;
    ctx.set('WWW-Authenticate', 'Bearer realm="entitlement-mock admin"');
    ctx.body = { error: 'unauthorized', message: 'this admin route needs Authorization: Bearer <admin token>' };
  };
}
