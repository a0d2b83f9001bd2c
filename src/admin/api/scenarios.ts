/** Definitions of GET/POST /admin/scenarios, PUT /admin/scenarios/active, DELETE /admin/scenarios/{name}. */
import { Type } from '@sinclair/typebox';
import { Scenario } from '../../scenario/format/format.js';
import { PositionedError } from '../../scenario/format/loaded.js';
import { ScenarioListing } from '../../scenario/registry/listing.js';
import { defineRoute, documentBody, errorAnswer, jsonAnswer, jsonBody, ErrorAnswer, storeUnavailableAnswer } from './define.js';

/** A 400 for a posted document (scenario, session): with `errors` when it was read but is invalid. */
export const InvalidDocumentAnswer = Type.Composite([
  ErrorAnswer,
  Type.Object({ errors: Type.Optional(Type.Array(PositionedError, { description: 'Every problem, with its position' })) }),
]);

const ScenarioName = Type.String({ minLength: 1, description: 'A scenario name' });

export const listScenarios = defineRoute({
  method: 'GET',
  path: '/admin/scenarios',
  operationId: 'listScenarios',
  summary: 'The scenarios served, the active one, and the files that failed to load',
  answers: {
    200: jsonAnswer(ScenarioListing, 'The scenarios'),
  },
});

export const activateScenario = defineRoute({
  method: 'PUT',
  path: '/admin/scenarios/active',
  operationId: 'activateScenario',
  summary: 'Switch the active scenario (its counters start again)',
  body: jsonBody(Type.Object({ name: ScenarioName }, { additionalProperties: false }), '{"name": "<scenario>"}, the scenario to activate'),
  answers: {
    503: storeUnavailableAnswer,
    200: jsonAnswer(Type.Object({ active: Type.String() }, { additionalProperties: false }), 'Switched'),
    404: jsonAnswer(
      Type.Composite([ErrorAnswer, Type.Object({ known: Type.Array(Type.String(), { description: 'The scenario names there are' }) })]),
      'No scenario has that name',
    ),
  },
});

export const uploadScenario = defineRoute({
  method: 'POST',
  path: '/admin/scenarios',
  operationId: 'uploadScenario',
  summary: 'Add a scenario in memory (wins over a file scenario of the same name), activated unless activate=false',
  query: Type.Object(
    { activate: Type.Optional(Type.Boolean({ default: true, description: 'Make it the active scenario (default true)' })) },
    { additionalProperties: false },
  ),
  body: documentBody(Scenario, 'ScenarioDocument', 'a scenario document, as YAML or JSON'),
  answers: {
    503: storeUnavailableAnswer,
    201: jsonAnswer(
      Type.Object(
        {
          name: Type.String(),
          replaced: Type.Boolean({ description: 'A posted scenario of that name was replaced' }),
          active: Type.String({ description: 'The active scenario now' }),
        },
        { additionalProperties: false },
      ),
      'Added',
    ),
    400: jsonAnswer(InvalidDocumentAnswer, 'The body is missing, or the scenario is invalid (`errors` says where)'),
  },
});

export const deleteScenario = defineRoute({
  method: 'DELETE',
  path: '/admin/scenarios/{name}',
  operationId: 'deleteScenario',
  summary: 'Forget a posted scenario (a file scenario of that name comes back); if it was active, the one active before it is again',
  params: Type.Object({ name: ScenarioName }),
  answers: {
    503: storeUnavailableAnswer,
    200: jsonAnswer(
      Type.Object(
        {
          removed: Type.String(),
          active: Type.String({ description: 'The active scenario now' }),
          fellBackTo: Type.Union([Type.Literal('previous'), Type.Literal('start'), Type.Null()], {
            description:
              'When the removed scenario was the active one: `previous` — the scenario active before it was activated is active again ' +
              '(scenarios removed since are skipped); `start` — none of those is left, the start scenario is active. null when the removed scenario was not active (the active one stays).',
          }),
        },
        { additionalProperties: false },
      ),
      'Removed',
    ),
    404: errorAnswer('No posted scenario has that name (file scenarios cannot be deleted)'),
  },
});
