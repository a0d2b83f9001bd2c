/** What loading a scenario source yields, before compilation. */
import type { Scenario } from './format.js';

/** A problem found in a scenario source, positioned in that source (1-based line and column). */
export interface PositionedError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A scenario that parsed and passed validation, with the positions needed for later messages. */
export interface LoadedScenario {
  /** `name:` from the file, else the file name without extension. */
  name: string;
  /** The file it came from, or `(posted)` for POST /admin/scenarios. */
  file: string;
  definition: Scenario;
}
