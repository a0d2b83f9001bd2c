/**
 * `entitlement-mock/client`: the typed admin client, and the types of what the admin API
 * takes and answers (the same definitions the server validates with).
 */
export { AdminClient, AdminApiError, runConformance } from './admin-client.js';
export type {
  AdminClientOptions,
  AskLicenseServer,
  ConformanceRunOptions,
  ReportOptions,
  RequestFilter,
  RequestsAnswer,
  WaitAnswer,
  WaitOptions,
} from './admin-client.js';
export type { CaseOutcome, CaseReport, CaseTicket, RunReport, RunStarted, RunSummary, Verdict } from '../conformance/types.js';
export type { ConformancePlan, ConformanceCase } from '../conformance/format.js';
export type { JournalEntry, ListenerName } from '../journal/entry.js';
export type { NearMiss } from '../scenario/runtime/outcome.js';
export type { WaitOutcome } from '../journal/waits.js';
export type { SessionDefinition, SessionKey, SessionSummary } from '../session/format.js';
export type { Report, Finding, FindingId } from '../report/types.js';
export type { ScenarioListing, ScenarioSummary } from '../scenario/registry/listing.js';
export type { PositionedError } from '../scenario/format/loaded.js';
export type { TlsFailure, TlsFailureListing } from '../journal/tls-failures.js';
export type { ErrorAnswer, SuccessOf, BodyOf, QueryOf, ParamsOf, RouteDefinition } from '../admin/api/define.js';
export { adminRoutes } from '../admin/api/routes.js';
