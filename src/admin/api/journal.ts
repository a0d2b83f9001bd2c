/** Definitions of GET /admin/requests, GET /admin/requests/count, DELETE /admin/requests. */
import { Type } from '@sinclair/typebox';
import { JournalEntry } from '../../journal/entry.js';
import { JournalFilter } from '../../journal/journal.js';
import { MAX_WAIT_MS, WaitOutcome } from '../../journal/waits.js';
import { defineRoute, errorAnswer, jsonAnswer } from './define.js';
import { missingField, partialQuery, sourcesUnavailableAnswer } from './federated.js';

/** The filters, and optionally a wait for `count` matching entries. */
export const JournalQuery = Type.Object(
  {
    ...JournalFilter.properties,
    wait: Type.Optional(
      Type.String({
        description: `Wait until \`count\` entries match (or this long at most): a duration such as 500ms, 2s or 1500 (milliseconds), at most ${MAX_WAIT_MS / 1000}s`,
      }),
    ),
    count: Type.Optional(Type.Integer({ minimum: 1, description: 'With wait: how many matching entries to wait for (default 1)' })),
    ...partialQuery,
  },
  { additionalProperties: false },
);

/** How the wait ended; present only when the query had `wait`. */
const waited = Type.Optional(WaitOutcome);

export const listRequests = defineRoute({
  method: 'GET',
  path: '/admin/requests',
  operationId: 'listRequests',
  summary: 'The journal: requests received, oldest first, that match every filter given; with wait, once count of them are there',
  query: JournalQuery,
  answers: {
    200: jsonAnswer(
      Type.Object(
        {
          total: Type.Integer({ minimum: 0, description: 'Requests recorded since the last clear, kept or dropped' }),
          dropped: Type.Integer({ minimum: 0, description: 'Entries dropped to keep the journal within its size' }),
          requests: Type.Array(JournalEntry),
          waited,
          ...missingField,
        },
        { additionalProperties: false },
      ),
      'The matching entries',
    ),
    400: errorAnswer('A filter, wait or count is malformed: the message names it'),
    503: sourcesUnavailableAnswer,
  },
});

export const countRequests = defineRoute({
  method: 'GET',
  path: '/admin/requests/count',
  operationId: 'countRequests',
  summary: 'How many journal entries match every filter given; with wait, once count of them are there',
  query: JournalQuery,
  answers: {
    200: jsonAnswer(Type.Object({ count: Type.Integer({ minimum: 0 }), waited, ...missingField }, { additionalProperties: false }), 'The count'),
    400: errorAnswer('A filter, wait or count is malformed: the message names it'),
    503: sourcesUnavailableAnswer,
  },
});

export const clearRequests = defineRoute({
  method: 'DELETE',
  path: '/admin/requests',
  operationId: 'clearRequests',
  summary: 'Clear the journal only (counters, TLS failures and scenarios stay); pending waits end with reason cleared',
  answers: { 200: jsonAnswer(Type.Object({ cleared: Type.Literal(true) }, { additionalProperties: false }), 'Cleared'), 503: sourcesUnavailableAnswer },
});
