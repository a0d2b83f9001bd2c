/**
 * Record mode's admin routes: GET /admin/recording (status), GET /admin/recording/scenario
 * (the YAML as it would be written now), POST /admin/recording/snapshot (write it to --out),
 * DELETE /admin/recording (forget what was recorded). 404 when the mock is not recording.
 */
import type Koa from 'koa';
import type Router from '@koa/router';
import type { AdminContext } from './context.js';

export function recordingRoutes(router: Router, { recording }: AdminContext): void {
  const notRecording = (ctx: Koa.Context) => {
    ctx.status = 404;
    ctx.body = { error: 'not found', message: 'the mock is not recording; start it with "entitlement-mock record --upstream URL ..."' };
  };

  router.get('/admin/recording', (ctx) => {
    if (!recording) return notRecording(ctx);
    ctx.body = recording.status();
  });

  router.get('/admin/recording/scenario', (ctx) => {
    if (!recording) return notRecording(ctx);
    ctx.type = 'application/yaml';
    ctx.body = recording.text();
  });

  router.post('/admin/recording/snapshot', async (ctx) => {
    if (!recording) return notRecording(ctx);
    try {
      ctx.body = await recording.snapshot();
    } catch (error) {
      ctx.status = 500;
      ctx.body = { error: 'write failed', message: `cannot write ${recording.status().out}: ${(error as Error).message}` };
    }
  });

  router.delete('/admin/recording', (ctx) => {
    if (!recording) return notRecording(ctx);
    recording.clear();
    ctx.body = recording.status();
  });
}
