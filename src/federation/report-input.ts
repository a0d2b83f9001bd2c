/** The part of a report query each source applies to its own entries. */
import type { Since } from '../report/scope.js';

export interface ReportScope {
  session: string | null;
  since: Since | null;
}
