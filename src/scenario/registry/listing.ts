/**
 * What the registry lists of the scenarios it serves (GET /admin/scenarios, the dashboard's scenario
 * panel): a TypeBox definition, so the admin API, the typed client, the OpenAPI document and the
 * dashboard's generated types share it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { PositionedError } from '../format/loaded.js';

export const ScenarioSummary = Type.Object(
  {
    name: Type.String(),
    file: Type.String({ description: 'The file it came from, or `(posted)`' }),
    description: Type.String(),
    rules: Type.Array(Type.String(), { description: 'Rule names in order' }),
  },
  { $id: 'ScenarioSummary', additionalProperties: false },
);
export type ScenarioSummary = Static<typeof ScenarioSummary>;

export const ScenarioListing = Type.Object(
  {
    active: Type.String({ description: 'The active scenario' }),
    scenarios: Type.Array(ScenarioSummary, { description: 'Every scenario served: those of files first, then posted ones' }),
    errors: Type.Array(PositionedError, { description: 'Problems of the scenario files that failed to load' }),
  },
  { $id: 'ScenarioListing', additionalProperties: false, description: 'The scenarios served, the active one, and the files that failed to load' },
);
export type ScenarioListing = Static<typeof ScenarioListing>;
