/** What loading a scenario source yields, before compilation. */
import { Type, type Static } from '@sinclair/typebox';
import type { Scenario } from './format.js';

/**
 * A problem found in a scenario source, positioned in that source (1-based line and column).
 * A TypeBox definition: the admin API's answers (scenario and session errors, lint warnings) use it as it is.
 */
export const PositionedError = Type.Object(
  { file: Type.String(), line: Type.Integer(), column: Type.Integer(), message: Type.String() },
  { $id: 'PositionedError', additionalProperties: false, description: 'A problem in a scenario, at file:line:column' },
);
export type PositionedError = Static<typeof PositionedError>;

/** A scenario that parsed and passed validation, with the positions needed for later messages. */
export interface LoadedScenario {
  /** `name:` from the file, else the file name without extension. */
  name: string;
  /** The file it came from, or `(posted)` for POST /admin/scenarios. */
  file: string;
  definition: Scenario;
}
