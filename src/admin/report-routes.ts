/** GET /admin/report: the report card on the license server under test, from the journal since the last reset. */
import type Router from '@koa/router';
import { buildReport } from '../report/build.js';
import { parseAccepted, parseSince, unknownFindingMessage } from '../report/scope.js';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import { sourcesUnavailable } from './errors.js';
import * as api from './api/report.js';

export function reportRoutes(router: Router, { federation }: AdminContext): void {
  route(router, api.report, async ({ query }) => {
    const accepted = parseAccepted(query.accept === undefined ? [] : [query.accept]);
    if (!accepted.ok) return badQuery('accept', unknownFindingMessage(accepted.unknown));
    const since = query.since === undefined ? null : parseSince(query.since);
    if (query.since !== undefined && since === null)
      return badQuery('since', `query parameter "since" must be a journal entry id or an ISO 8601 time, got "${query.since}"`);
    const session = query.session ?? null;
    let input;
    try {
      input = await federation.report({ session, since }, query.partial ?? false);
    } catch (error) {
      return sourcesUnavailable(error);
    }
    const report = buildReport({
      entries: input.entries,
      dropped: input.dropped,
      refusedHandshakes: input.wrongRefusals,
      troubleCertificatesRefused: input.troubleCertificatesRefused,
      scope: { session, since: query.since ?? null },
      accept: accepted.ids,
    });
    return { status: 200, body: input.missing.length > 0 ? { ...report, missing: input.missing } : report };
  });
}

const badQuery = (field: string, message: string) => ({ status: 400, body: { error: 'bad request', message, field, in: 'query' as const } }) as const;
