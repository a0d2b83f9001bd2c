/** The conformance run routes: start, list, report (JSON and JUnit XML), post an outcome, end. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/conformance.js';

export function conformanceRoutes(router: Router, { conformance }: AdminContext): void {
  route(router, api.startConformanceRun, ({ body }) => {
    const outcome = conformance.start(body);
    switch (outcome.kind) {
      case 'invalid':
        return { status: 400, body: { error: 'bad request', message: outcome.message, field: outcome.field, in: 'body' as const, ...(outcome.errors ? { errors: outcome.errors } : {}) } };
      case 'conflict':
        return { status: 409, body: { error: 'conflict', message: outcome.message } };
      case 'started':
        return { status: 201, body: { ...outcome.run, warnings: outcome.warnings } };
    }
  });

  route(router, api.listConformanceRuns, () => ({ status: 200, body: { runs: conformance.list() } }));

  route(router, api.getConformanceRun, ({ params: { id } }) => {
    const report = conformance.report(id);
    return report === null ? notFound(id) : { status: 200, body: report };
  });

  route(router, api.getConformanceRunJunit, async ({ params: { id } }) => {
    const report = conformance.report(id);
    if (report === null) return notFound(id);
    // The XML builder loads with the first JUnit report asked for, not with the admin API.
    const { runReportAsJunit } = await import('../conformance/junit.js');
    return { status: 200, body: runReportAsJunit(report) };
  });

  route(router, api.postConformanceOutcome, async ({ params, body }) => {
    const result = await conformance.recordOutcome(params.id, params.case, body);
    switch (result.kind) {
      case 'no-run':
        return notFound(params.id);
      case 'no-case':
        return { status: 404, body: { error: 'not found', message: `run ${params.id} has no case "${params.case}"`, known: result.known } };
      case 'recorded':
        return { status: 200, body: result.report };
    }
  });

  route(router, api.deleteConformanceRun, ({ params: { id } }) => (conformance.delete(id) ? { status: 200, body: { removed: id } } : notFound(id)));
}

const notFound = (id: string) =>
  ({ status: 404, body: { error: 'not found', message: `no conformance run "${id}" (it may have ended, expired or been reset)` } }) as const;
