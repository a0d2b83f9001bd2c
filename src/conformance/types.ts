/**
 * What a conformance run shows: the cases a harness must ask (the start answer), what the
 * harness posts per case, and the report with a verdict per case. TypeBox definitions, so the
 * admin API, the typed client, the OpenAPI document and the dashboard share them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CaseChecks, CaseExpect } from './format.js';

export const RUN_ID_PATTERN = '^[0-9a-f]{8}$';

/** The `file` of the positioned errors of a plan posted as text or an object (not a bundled plan). */
export const POSTED_PLAN = '(plan)';

export const VERDICTS = ['pass', 'fail', 'inconclusive', 'not-run'] as const;
export const Verdict = Type.Union(
  VERDICTS.map((verdict) => Type.Literal(verdict)),
  {
    description:
      'pass: the license server did what the case expects; fail: it did not (the reason says what the protocol asks, or for a recommended case what we recommend, and what was seen); ' +
      'inconclusive: the case cannot be judged (no request reached the mock, no outcome was posted, ...); not-run: the case could not be set up',
  },
);
export type Verdict = Static<typeof Verdict>;

export const CaseTicket = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    contentID: Type.String({ description: 'Ask a license for this contentID (GUID-shaped, unique to the run and the case)' }),
    requestType: Type.Optional(Type.Integer({ description: 'Put this requestType in the license request' })),
    customerCookie: Type.Optional(Type.String({ description: 'Put this customerCookie in the license request' })),
    entitlementUrl: Type.Optional(Type.String({ description: 'Have the license server ask this entitlement URL instead of its usual one (a trouble listener)' })),
    givesUpWithinMs: Type.Optional(
      Type.Integer({
        description:
          'The case bounds how long the license server may wait (a hang): by then it must have given up. Stop waiting for your license server a little after this and post refused',
      }),
    ),
    notRun: Type.Optional(Type.String({ description: 'Why the case cannot run (do not ask it): e.g. the mock has no --trouble-port' })),
  },
  { $id: 'ConformanceCaseTicket', additionalProperties: false, description: 'What the harness must ask its license server for one case' },
);
export type CaseTicket = Static<typeof CaseTicket>;

export const RunStarted = Type.Object(
  {
    id: Type.String({ description: 'The run id (also the first group of every contentID of the run)' }),
    plan: Type.String({ description: 'The plan name' }),
    timeoutMs: Type.Integer({ description: "The license server's timeout the run assumes (the `timeout` parameter)" }),
    cases: Type.Array(CaseTicket, { description: 'In plan order: ask them in this order (the device-binding cases depend on it)' }),
  },
  { $id: 'ConformanceRunStarted', additionalProperties: false },
);
export type RunStarted = Static<typeof RunStarted>;

export const CaseOutcome = Type.Object(
  {
    license: Type.Union([Type.Literal('granted'), Type.Literal('refused')], { description: "What the license server's client got" }),
    code: Type.Optional(Type.Integer({ description: 'The code the client got with a refusal' })),
    text: Type.Optional(Type.String({ description: 'The text the client got with a refusal' })),
    elapsedMs: Type.Optional(Type.Number({ minimum: 0, description: 'How long the client waited for its answer' })),
  },
  { $id: 'ConformanceCaseOutcome', additionalProperties: false, description: "What the license server's client got for a case" },
);
export type CaseOutcome = Static<typeof CaseOutcome>;

export const CaseSeen = Type.Object(
  {
    requests: Type.Integer({ minimum: 0, description: "Requests for the case's contentID that reached the mock" }),
    entries: Type.Array(Type.Integer(), { description: 'Their journal ids' }),
    messageIDs: Type.Array(Type.Union([Type.String(), Type.Null()]), { description: 'Their messageIDs, in order (retries included)' }),
    listeners: Type.Array(Type.String(), { description: 'The listener each came in on' }),
    heldMs: Type.Array(Type.Union([Type.Number(), Type.Null()]), {
      description: 'How long each exchange lasted until the license server or the mock ended it; null while still open',
    }),
  },
  { additionalProperties: false, description: 'What the mock saw of the case' },
);
export type CaseSeen = Static<typeof CaseSeen>;

export const CaseReport = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    contentID: Type.String(),
    checks: CaseChecks,
    expect: CaseExpect,
    givesUpWithinMs: Type.Optional(Type.Integer({ description: 'givesUpWithin resolved against the run timeout' })),
    verdict: Verdict,
    reason: Type.String({ description: 'One sentence: why this verdict' }),
    outcome: Type.Union([CaseOutcome, Type.Null()], { description: 'What the harness posted, null until it does' }),
    seen: CaseSeen,
  },
  { $id: 'ConformanceCaseReport', additionalProperties: false },
);
export type CaseReport = Static<typeof CaseReport>;

export const VerdictCounts = Type.Object(
  {
    total: Type.Integer(),
    pass: Type.Integer(),
    fail: Type.Integer(),
    inconclusive: Type.Integer(),
    notRun: Type.Integer(),
  },
  { $id: 'ConformanceVerdictCounts', additionalProperties: false, description: 'How many cases have each verdict' },
);
export type VerdictCounts = Static<typeof VerdictCounts>;

export const RunReport = Type.Object(
  {
    id: Type.String(),
    plan: Type.String(),
    description: Type.String(),
    createdAt: Type.String({ description: 'ISO 8601' }),
    timeoutMs: Type.Integer(),
    verdict: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('inconclusive')], {
      description: 'fail when any case failed, else inconclusive when any is inconclusive, else pass (not-run cases do not count)',
    }),
    counts: VerdictCounts,
    cases: Type.Array(CaseReport),
  },
  { $id: 'ConformanceRunReport', additionalProperties: false, description: 'A run with a verdict per case' },
);
export type RunReport = Static<typeof RunReport>;

export const RunSummary = Type.Object(
  {
    id: Type.String(),
    plan: Type.String(),
    createdAt: Type.String(),
    verdict: RunReport.properties.verdict,
    counts: VerdictCounts,
  },
  { $id: 'ConformanceRunSummary', additionalProperties: false },
);
export type RunSummary = Static<typeof RunSummary>;
