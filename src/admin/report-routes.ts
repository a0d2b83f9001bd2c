/** GET /admin/report: the report card on the license server under test, from the journal since the last reset. */
import type Router from '@koa/router';
import { buildReport } from '../report/build.js';
import { inScope, parseAccepted, parseSince, unknownFindingMessage } from '../report/scope.js';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/report.js';

export function reportRoutes(router: Router, { journal, tlsFailures }: AdminContext): void {
  route(router, api.report, ({ query }) => {
    const accepted = parseAccepted(query.accept === undefined ? [] : [query.accept]);
    if (!accepted.ok) return badQuery('accept', unknownFindingMessage(accepted.unknown));
    const since = query.since === undefined ? null : parseSince(query.since);
    if (query.since !== undefined && since === null)
      return badQuery('since', `query parameter "since" must be a journal entry id or an ISO 8601 time, got "${query.since}"`);
    const session = query.session ?? null;
    const scoped = session !== null || since !== null;
    const entries = scoped ? [...journal.entries()].filter((entry) => inScope(entry, session, since)) : journal.entries();
    return {
      status: 200,
      body: buildReport({
        entries,
        dropped: journal.dropped,
        // Refused connections belong to no session and no entry: only a report on everything counts them.
        refusedHandshakes: scoped ? {} : tlsFailures.countsOfWrongRefusals(),
        troubleCertificatesRefused: scoped ? 0 : tlsFailures.troubleCertificatesRefused,
        scope: { session, since: query.since ?? null },
        accept: accepted.ids,
      }),
    };
  });
}

const badQuery = (field: string, message: string) => ({ status: 400, body: { error: 'bad request', message, field, in: 'query' as const } }) as const;
