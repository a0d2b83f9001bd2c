/** Definition of GET /admin/report. */
import { Type } from '@sinclair/typebox';
import { SESSION_ID_PATTERN } from '../../session/format.js';
import { Report } from '../../report/types.js';
import { defineRoute, errorAnswer, jsonAnswer } from './define.js';
import { partialQuery, sourcesUnavailableAnswer } from './federated.js';

export const report = defineRoute({
  method: 'GET',
  path: '/admin/report',
  operationId: 'report',
  summary: 'The report card on the license server under test, from the journal since the last reset (or one session, or since a point)',
  query: Type.Object(
    {
      session: Type.Optional(Type.String({ pattern: SESSION_ID_PATTERN, description: "Only this session's requests (a report per test)" })),
      since: Type.Optional(
        Type.String({
          minLength: 1,
          description: 'Only the requests after this journal entry id, or from this ISO 8601 time on (e.g. 2026-01-31T12:00:00Z)',
        }),
      ),
      accept: Type.Optional(
        Type.String({
          description: 'Finding ids the team accepts, comma-separated (e.g. content-type-wrong,version-as-string): shown as accepted, never a reason to fail',
        }),
      ),
      ...partialQuery,
    },
    { additionalProperties: false },
  ),
  answers: {
    200: jsonAnswer(Report, 'The findings (most severe first, accepted ones last) and the traffic profile'),
    400: errorAnswer('A query parameter is wrong: `since` neither an entry id nor a time, an unknown finding id in `accept`, …'),
    503: sourcesUnavailableAnswer,
  },
});
