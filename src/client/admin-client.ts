/**
 * A typed client of the admin API: one method per route, its argument and answer
 * types taken from the route definitions the server validates with
 * (src/admin/api/). Built on the global fetch; no code generator.
 */
import { DOCUMENT_MEDIA_TYPES, type BodyOf, type ParamsOf, type QueryOf, type RouteDefinition, type SuccessOf } from '../admin/api/define.js';
import * as api from '../admin/api/routes.js';
import type { JournalFilter } from '../journal/journal.js';
import type { SessionDefinition } from '../session/format.js';
import type { StartRunBody } from '../admin/api/conformance.js';
import type { CaseOutcome, CaseTicket, RunReport } from '../conformance/types.js';
import type { Static } from '@sinclair/typebox';
import type { FindingId } from '../report/types.js';

const routes = api.adminRoutes;

export interface AdminClientOptions {
  /** The mock's --admin-token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Replaces the global fetch (e.g. to add a dispatcher or logging). */
  fetch?: typeof fetch;
}

/** An admin route answered with a status other than 2xx. */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  constructor(
    /** `GET /admin/requests`, … */
    readonly route: string,
    readonly status: number,
    /** The server's short kind: `bad request`, `not found`, `unauthorized`, … (empty when the body was not JSON). */
    readonly error: string,
    /** The server's message, e.g. `query parameter "limit" must be an integer, got "many"`. */
    readonly serverMessage: string,
    /** The whole answer body (parsed JSON, else the text): details such as `known`, `errors`, `field`. */
    readonly body: unknown,
  ) {
    super(`${route} answered ${status}: ${serverMessage || error || 'no message'}`);
  }
}

type Input<Definition extends RouteDefinition> = {
  params?: ParamsOf<Definition>;
  query?: QueryOf<Definition>;
  body?: BodyOf<Definition>;
  /** For a document body: application/yaml (default) or application/json. */
  contentType?: string;
};

/** The journal filters, as GET /admin/requests takes them (every one optional; all given must hold). */
export type RequestFilter = JournalFilter;
export type RequestsAnswer = SuccessOf<typeof routes.listRequests>;
export type WaitAnswer = RequestsAnswer & { waited: NonNullable<RequestsAnswer['waited']> };

export interface ReportOptions {
  /** Only this session's requests. */
  session?: string;
  /** Only the requests after this journal entry id, or from this time on. */
  since?: number | Date | string;
  /** Finding ids the team accepts: shown as accepted, never a reason to fail. */
  accept?: readonly FindingId[];
}

export interface WaitOptions {
  /** How many matching entries to wait for (default 1). */
  count?: number;
  /** How long to wait at most, in milliseconds (the server allows up to 60,000). */
  timeout: number;
}

export class AdminClient {
  private readonly fetch: typeof fetch;
  private readonly baseUrl: string;

  /** `adminUrl`: e.g. `http://127.0.0.1:8080` (what startMock and the ready file give). */
  constructor(
    adminUrl: string,
    private readonly options: AdminClientOptions = {},
  ) {
    this.baseUrl = adminUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  health() {
    return this.call(routes.health, {});
  }

  /** Clears the journal, TLS failures, counters, sessions and state; re-reads the scenario files. */
  reset() {
    return this.call(routes.reset, {});
  }

  listScenarios() {
    return this.call(routes.listScenarios, {});
  }

  activateScenario(name: string) {
    return this.call(routes.activateScenario, { body: { name } });
  }

  /** `document`: a scenario as YAML (default) or JSON text; activated unless `activate: false`. */
  uploadScenario(document: string, options: { activate?: boolean; contentType?: 'application/yaml' | 'application/json' } = {}) {
    return this.call(routes.uploadScenario, {
      body: document,
      query: options.activate === undefined ? {} : { activate: options.activate },
      ...(options.contentType ? { contentType: options.contentType } : {}),
    });
  }

  deleteScenario(name: string) {
    return this.call(routes.deleteScenario, { params: { name } });
  }

  /** The journal entries matching every filter given, oldest first. */
  listRequests(filter: RequestFilter = {}) {
    return this.call(routes.listRequests, { query: filter });
  }

  countRequests(filter: RequestFilter = {}) {
    return this.call(routes.countRequests, { query: filter });
  }

  /**
   * Answers as soon as `count` entries match the filters (those already there count), or when
   * `timeout` ms have passed, or at once on a reset, a clear or shutdown: `waited` says which.
   */
  async waitForRequests(filter: RequestFilter, { count = 1, timeout }: WaitOptions): Promise<WaitAnswer> {
    const answer = await this.call(routes.listRequests, { query: { ...filter, count, wait: `${Math.ceil(timeout)}ms` } });
    if (!answer.waited) throw new Error('GET /admin/requests with wait answered without `waited`');
    return answer as WaitAnswer;
  }

  clearRequests() {
    return this.call(routes.clearRequests, {});
  }

  tlsFailures() {
    return this.call(routes.tlsFailures, {});
  }

  /** Record mode: the upstream, the output file, what was forwarded and recorded (404 when not recording). */
  getRecording() {
    return this.call(routes.getRecording, {});
  }

  /** Record mode: the scenario YAML as it would be written now, without writing it. */
  getRecordingScenario() {
    return this.call(routes.getRecordingScenario, {});
  }

  /** Record mode: write the recorded scenario to its --out file now. */
  snapshotRecording() {
    return this.call(routes.snapshotRecording, {});
  }

  /** Record mode: forget what was recorded so far. */
  clearRecording() {
    return this.call(routes.clearRecording, {});
  }

  /**
   * The report card. `session`: only that session's requests; `since`: only those after this journal
   * entry id, or from this time on (a report per test); `accept`: finding ids shown as accepted.
   */
  report(options: ReportOptions = {}) {
    const since = options.since instanceof Date ? options.since.toISOString() : options.since === undefined ? undefined : String(options.since);
    return this.call(routes.report, {
      query: {
        ...(options.session === undefined ? {} : { session: options.session }),
        ...(since === undefined ? {} : { since }),
        ...(options.accept === undefined || options.accept.length === 0 ? {} : { accept: options.accept.join(',') }),
      },
    });
  }

  /**
   * Creates a session: requests matching its key are answered by its rules first, then by the
   * active scenario's. `session`: the document as an object (sent as JSON) or as YAML/JSON text.
   * An overlapping key or a used id fails with status 409, an invalid document with 400 (`body.errors`).
   */
  createSession(session: SessionDefinition | string) {
    return this.call(
      routes.createSession,
      typeof session === 'string' ? { body: session } : { body: JSON.stringify(session), contentType: 'application/json' },
    );
  }

  /** The live sessions, oldest first. */
  listSessions() {
    return this.call(routes.listSessions, {});
  }

  /** One live session; fails with status 404 once it is gone (deleted, expired, reset). */
  getSession(id: string) {
    return this.call(routes.getSession, { params: { id } });
  }

  /** Removes a session with its counters and state (its journal entries stay). */
  deleteSession(id: string) {
    return this.call(routes.deleteSession, { params: { id } });
  }

  /** The per-key states (match: {state}, setState) of the active scenario and of each session. */
  getState() {
    return this.call(routes.getState, {});
  }

  /** Forgets the states of the active scenario and of every session (counters stay). */
  clearState() {
    return this.call(routes.clearState, {});
  }

  /**
   * Starts a conformance run: the cases to ask the license server, in order, each with its own
   * contentID (and cookie, request type or entitlement URL where the case needs one).
   */
  startConformanceRun(options: ConformanceRunOptions = {}) {
    return this.call(routes.startConformanceRun, { body: options });
  }

  listConformanceRuns() {
    return this.call(routes.listConformanceRuns, {});
  }

  /** The run's report: a verdict per case, with the counts. */
  getConformanceRun(id: string) {
    return this.call(routes.getConformanceRun, { params: { id } });
  }

  /** The run's report as JUnit XML. */
  getConformanceRunJunit(id: string) {
    return this.call(routes.getConformanceRunJunit, { params: { id } });
  }

  /** Records what the license server's client got for a case; resolves with the case's verdict. */
  postConformanceOutcome(id: string, caseId: string, outcome: CaseOutcome) {
    return this.call(routes.postConformanceOutcome, { params: { id, case: caseId }, body: outcome });
  }

  /** Ends a run: its contentIDs go back to the active scenario. */
  deleteConformanceRun(id: string) {
    return this.call(routes.deleteConformanceRun, { params: { id } });
  }

  /** Prometheus text. */
  metrics() {
    return this.call(routes.metrics, {});
  }

  /** The OpenAPI 3.1 document of this admin API. */
  openapi() {
    return this.call(routes.openapi, {});
  }

  /** Calls one route by its definition: the 2xx body, typed; other answers throw AdminApiError. */
  async call<Definition extends RouteDefinition>(definition: Definition, input: Input<Definition>): Promise<SuccessOf<Definition>> {
    const path = definition.path.replace(/\{(\w+)\}/g, (_whole, name: string) => {
      const value = (input.params as Record<string, unknown> | undefined)?.[name];
      if (value === undefined) throw new TypeError(`${definition.operationId}: path parameter "${name}" is missing`);
      return encodeURIComponent(String(value));
    });
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries((input.query ?? {}) as Record<string, unknown>))
      if (value !== undefined) url.searchParams.set(name, String(value));

    const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9' };
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    let body: string | undefined;
    if (definition.body?.kind === 'json') {
      body = JSON.stringify(input.body);
      headers['content-type'] = 'application/json';
    } else if (definition.body?.kind === 'document') {
      body = input.body as string;
      headers['content-type'] = input.contentType ?? DOCUMENT_MEDIA_TYPES[0];
    }

    const route = `${definition.method} ${path}`;
    const response = await this.fetch(url, { method: definition.method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    const answer = definition.answers[response.status];
    if (response.ok && answer) return (answer.kind === 'json' ? JSON.parse(text) : text) as SuccessOf<Definition>;
    throw errorFrom(route, response.status, text);
  }
}

function errorFrom(route: string, status: number, text: string): AdminApiError {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    return new AdminApiError(route, status, String(parsed.error ?? ''), String(parsed.message ?? ''), parsed);
  } catch {
    return new AdminApiError(route, status, '', text.slice(0, 200), text);
  }
}

/** What POST /admin/conformance/runs takes: `{plan?, cases?, timeout?, host?}`. */
export type ConformanceRunOptions = Static<typeof StartRunBody>;

/** Asks the license server under test for one case's license, its own way; resolves with what its client got. */
export type AskLicenseServer = (testCase: CaseTicket) => Promise<CaseOutcome>;

/**
 * Runs a whole conformance plan: starts the run, asks each case in plan order, one at a time
 * (the device-binding cases depend on the order; cases that cannot run are skipped), posts what
 * the client got, and resolves with the report. The run stays (for its JUnit XML:
 * getConformanceRunJunit(report.id)) until deleted or idle for 10 minutes. An `ask` that throws
 * stops the run there and the error propagates.
 */
export async function runConformance(client: AdminClient, options: ConformanceRunOptions, ask: AskLicenseServer): Promise<RunReport> {
  const run = await client.startConformanceRun(options);
  for (const testCase of run.cases) {
    if (testCase.notRun !== undefined) continue;
    const outcome = await ask(testCase);
    await client.postConformanceOutcome(run.id, testCase.id, outcome);
  }
  return client.getConformanceRun(run.id);
}
