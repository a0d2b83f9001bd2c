/**
 * The dashboard's static files (ui/ in the package: plain ES modules, no build step) at
 * `/` and `/ui/`. Served without the admin token: they hold no data, and the page
 * must load to ask for the token; every data route it calls stays guarded.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';

/** ui/ at the package root: this module sits two folders below it as source (src/admin/), compiled (dist/admin/) and bundled (dist/bundle/). */
export const UI_FOLDER = fileURLToPath(new URL('../../ui/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Scripts and styles from this origin only, no inline code, no other origins: a second line behind textContent-only rendering. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface UiFile {
  body: Buffer;
  type: string;
}

export function dashboardFiles(folder = UI_FOLDER): Koa.Middleware {
  // Read once, on the first request for a dashboard file; only names found then are ever served.
  let files: Promise<Map<string, UiFile>> | null = null;
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/ui') return ctx.redirect('/ui/');
    const name = ctx.path === '/' || ctx.path === '/ui/' ? 'index.html' : ctx.path.startsWith('/ui/') ? ctx.path.slice('/ui/'.length) : null;
    if (name === null) return next();
    const file = (await (files ??= readUiFolder(folder))).get(name);
    if (!file) return next();
    ctx.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    });
    ctx.type = file.type;
    ctx.body = file.body;
  };
}

async function readUiFolder(folder: string): Promise<Map<string, UiFile>> {
  const files = new Map<string, UiFile>();
  for (const name of await readdir(folder)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) files.set(name, { body: await readFile(join(folder, name)), type });
  }
  return files;
}
