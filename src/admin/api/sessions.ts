/** Definitions of POST/GET /admin/sessions, GET/DELETE /admin/sessions/{id}. */
import { Type } from '@sinclair/typebox';
import { SESSION_ID_PATTERN, SessionDefinition, SessionSummary } from '../../session/format.js';
import { PositionedError } from '../../scenario/format/loaded.js';
import { defineRoute, documentBody, errorAnswer, jsonAnswer, ErrorAnswer, storeUnavailableAnswer } from './define.js';
import { InvalidDocumentAnswer } from './scenarios.js';

const SessionId = Type.String({ pattern: SESSION_ID_PATTERN, description: 'A session id' });

export const createSession = defineRoute({
  method: 'POST',
  path: '/admin/sessions',
  operationId: 'createSession',
  summary: "Create a session: requests matching its key are answered by its rules first, then by the active scenario's",
  description:
    'The body is a session document, YAML or JSON: `{id?, key: {contentID|customerCookie|clientCN: value or glob}, ttl?, description?, defaults?, stateKey?, stateTtl?, rules?}`; rules as in a scenario.',
  body: documentBody(SessionDefinition, 'SessionDocument', 'a session document, as YAML or JSON'),
  answers: {
    503: storeUnavailableAnswer,
    201: jsonAnswer(
      Type.Composite([SessionSummary, Type.Object({ warnings: Type.Array(PositionedError, { description: 'Lint warnings, positioned' }) })], {
        additionalProperties: false,
      }),
      'Created',
    ),
    400: jsonAnswer(InvalidDocumentAnswer, 'The body is missing, or the session is invalid (`errors` says where)'),
    409: jsonAnswer(
      Type.Composite([ErrorAnswer, Type.Object({ sessions: Type.Array(Type.String(), { description: 'The new session and the one it collides with' }) })]),
      'Its key overlaps a live session\'s key, its id is taken, or there are too many sessions',
    ),
  },
});

export const listSessions = defineRoute({
  method: 'GET',
  path: '/admin/sessions',
  operationId: 'listSessions',
  summary: 'The live sessions, oldest first',
  answers: { 200: jsonAnswer(Type.Object({ sessions: Type.Array(SessionSummary) }, { additionalProperties: false }), 'The sessions') },
});

export const getSession = defineRoute({
  method: 'GET',
  path: '/admin/sessions/{id}',
  operationId: 'getSession',
  summary: 'One live session',
  params: Type.Object({ id: SessionId }),
  answers: { 200: jsonAnswer(SessionSummary, 'The session'), 404: errorAnswer('No live session has that id (it may have expired or been removed)') },
});

export const deleteSession = defineRoute({
  method: 'DELETE',
  path: '/admin/sessions/{id}',
  operationId: 'deleteSession',
  summary: 'Remove a session with its counters and state (its journal entries stay); its waits end with reason session-ended',
  params: Type.Object({ id: SessionId }),
  answers: {
    503: storeUnavailableAnswer,
    200: jsonAnswer(Type.Object({ removed: Type.String() }, { additionalProperties: false }), 'Removed'),
    404: errorAnswer('No live session has that id'),
  },
});
