/** Definitions of the conformance run routes: /admin/conformance/runs[/{id}[/junit|/cases/{case}]]. */
import { Type } from '@sinclair/typebox';
import { Duration } from '../../scenario/format/format.js';
import { CASE_ID_PATTERN } from '../../conformance/format.js';
import { CaseOutcome, CaseReport, RUN_ID_PATTERN, RunReport, RunStarted, RunSummary } from '../../conformance/types.js';
import { defineRoute, errorAnswer, jsonAnswer, jsonBody, textAnswer, ErrorAnswer } from './define.js';
import { PositionedError } from '../../scenario/format/loaded.js';
import { InvalidDocumentAnswer } from './scenarios.js';

const RunId = Type.String({ pattern: RUN_ID_PATTERN, description: 'A run id (8 hex digits)' });
const RunParams = Type.Object({ id: RunId });

export const StartRunBody = Type.Object(
  {
    plan: Type.Optional(
      Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())], {
        description: 'A bundled plan by name (default `entitlement-v1`), or a plan itself: its YAML or JSON text, or the object',
      }),
    ),
    cases: Type.Optional(Type.Array(Type.String({ pattern: CASE_ID_PATTERN }), { description: 'Only these cases (in plan order); default all' })),
    timeout: Type.Optional(
      Type.Union(Duration.anyOf, {
        description: "The license server's own timeout for the entitlement service (default 2s, 1s to 300s): `givesUpWithin: timeout` is this plus 1 s",
      }),
    ),
    host: Type.Optional(
      Type.String({ minLength: 1, maxLength: 253, pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.:-]+)$', description: "The host name in the trouble-listener cases' entitlementUrl (default: the mock's --host, or localhost)" }),
    ),
  },
  { additionalProperties: false },
);

export const startConformanceRun = defineRoute({
  method: 'POST',
  path: '/admin/conformance/runs',
  operationId: 'startConformanceRun',
  summary: 'Start a conformance run: the cases the harness must ask its license server, each with a contentID of its own',
  description:
    'While the run exists, requests for its contentIDs are answered by their case (the run is a session keyed on `RUNID-*`). ' +
    'Ask the cases in the order given, then post what the client got for each. Cases through a trouble listener need --trouble-port; without it they come with `notRun`.',
  body: jsonBody(StartRunBody, '`{plan?, cases?, timeout?, host?}`'),
  answers: {
    201: jsonAnswer(
      Type.Composite([RunStarted, Type.Object({ warnings: Type.Array(PositionedError, { description: "The plan's lint warnings, positioned" }) })], {
        additionalProperties: false,
      }),
      'Started',
    ),
    400: jsonAnswer(InvalidDocumentAnswer, 'The plan is unknown or invalid (`errors` says where), a case is unknown, or the timeout is out of range'),
    409: jsonAnswer(ErrorAnswer, 'The run cannot be a session now (sessions keyed on another field exist), or too many runs exist'),
  },
});

export const listConformanceRuns = defineRoute({
  method: 'GET',
  path: '/admin/conformance/runs',
  operationId: 'listConformanceRuns',
  summary: 'The live runs, oldest first, with their counts',
  answers: { 200: jsonAnswer(Type.Object({ runs: Type.Array(RunSummary) }, { additionalProperties: false }), 'The runs') },
});

export const getConformanceRun = defineRoute({
  method: 'GET',
  path: '/admin/conformance/runs/{id}',
  operationId: 'getConformanceRun',
  summary: 'The run report: a verdict per case with its reason, what was posted and what the mock saw, and the counts',
  params: RunParams,
  answers: { 200: jsonAnswer(RunReport, 'The report'), 404: errorAnswer('No live run has that id (it ended, expired or was reset)') },
});

export const getConformanceRunJunit = defineRoute({
  method: 'GET',
  path: '/admin/conformance/runs/{id}/junit',
  operationId: 'getConformanceRunJunit',
  summary: 'The run report as JUnit XML: one testsuite, one testcase per case (failure: the reason; skipped: not-run)',
  params: RunParams,
  answers: {
    200: textAnswer('application/xml', 'JUnit XML; inconclusive cases are errors'),
    404: errorAnswer('No live run has that id'),
  },
});

export const postConformanceOutcome = defineRoute({
  method: 'POST',
  path: '/admin/conformance/runs/{id}/cases/{case}',
  operationId: 'postConformanceOutcome',
  summary: "Record what the license server's client got for a case; answers the case's verdict",
  description:
    'When the case bounds how long the license server may wait (givesUpWithin), the answer comes once its exchanges have ended (or that long has passed). Posting again replaces the outcome.',
  params: Type.Object({ id: RunId, case: Type.String({ pattern: CASE_ID_PATTERN, description: 'A case id of the run' }) }),
  body: jsonBody(CaseOutcome, '`{license: granted|refused, code?, text?, elapsedMs?}`'),
  answers: {
    200: jsonAnswer(CaseReport, "The case's verdict now"),
    404: jsonAnswer(
      Type.Composite([ErrorAnswer, Type.Object({ known: Type.Optional(Type.Array(Type.String(), { description: "The run's case ids" })) })]),
      'No live run has that id, or the run has no such case',
    ),
  },
});

export const deleteConformanceRun = defineRoute({
  method: 'DELETE',
  path: '/admin/conformance/runs/{id}',
  operationId: 'deleteConformanceRun',
  summary: 'End a run: its contentIDs go back to the active scenario (journal entries stay)',
  params: RunParams,
  answers: {
    200: jsonAnswer(Type.Object({ removed: Type.String() }, { additionalProperties: false }), 'Ended'),
    404: errorAnswer('No live run has that id'),
  },
});
