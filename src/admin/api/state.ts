/** Definitions of GET /admin/state and DELETE /admin/state. */
import { Type } from '@sinclair/typebox';
import { StateListing } from '../../scenario/runtime/state/listing.js';
import { defineRoute, jsonAnswer, storeUnavailableAnswer } from './define.js';

export const getState = defineRoute({
  method: 'GET',
  path: '/admin/state',
  operationId: 'getState',
  summary: 'The per-key states (match: {state}, setState) of the active scenario and of each session',
  answers: {
    503: storeUnavailableAnswer,
    200: jsonAnswer(
      Type.Object(
        {
          scenario: Type.Composite([Type.Object({ name: Type.String({ description: 'The active scenario' }) }), StateListing], {
            additionalProperties: false,
          }),
          sessions: Type.Record(Type.String(), StateListing, { description: "Each session's states, by session id" }),
        },
        { additionalProperties: false },
      ),
      'The states',
    ),
  },
});

export const clearState = defineRoute({
  method: 'DELETE',
  path: '/admin/state',
  operationId: 'clearState',
  summary: 'Forget the states of the active scenario and of every session (counters stay)',
  answers: {
    503: storeUnavailableAnswer,
    200: jsonAnswer(
      Type.Object({ cleared: Type.Integer({ minimum: 0, description: 'How many keys held a state' }) }, { additionalProperties: false }),
      'Forgotten',
    ),
  },
});
