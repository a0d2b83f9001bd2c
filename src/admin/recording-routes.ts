/**
 * Record mode's admin routes: GET /admin/recording (status), GET /admin/recording/scenario
 * (the YAML as it would be written now), POST /admin/recording/snapshot (write it to --out),
 * DELETE /admin/recording (forget what was recorded). 404 when the mock is not recording.
 */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/recording.js';

const NOT_RECORDING = {
  status: 404,
  body: { error: 'not found', message: 'the mock is not recording; start it with "entitlement-mock record --upstream URL ..."' },
} as const;

export function recordingRoutes(router: Router, { recording }: AdminContext): void {
  route(router, api.getRecording, () => (recording ? { status: 200, body: recording.status() } : NOT_RECORDING));

  route(router, api.getRecordingScenario, () => (recording ? { status: 200, body: recording.text() } : NOT_RECORDING));

  route(router, api.snapshotRecording, async () => {
    if (!recording) return NOT_RECORDING;
    try {
      return { status: 200, body: await recording.snapshot() };
    } catch (error) {
      return { status: 500, body: { error: 'write failed', message: `cannot write ${recording.status().out}: ${(error as Error).message}` } };
    }
  });

  route(router, api.clearRecording, () => {
    if (!recording) return NOT_RECORDING;
    recording.clear();
    return { status: 200, body: recording.status() };
  });
}
