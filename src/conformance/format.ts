/**
 * The conformance plan format: one definition for the types (Static<>), the validation
 * (through the scenario loader, with positions: plan.ts) and the published JSON Schema
 * (schema/conformance-plan.schema.json, `npm run schema`).
 *
 * A plan is a list of cases. Each case scripts the entitlement service's answer with the
 * scenario format's own pieces (respond / sequence / random, or a list of rules when the
 * answer depends on per-key state) and says what the license server's client must get.
 * A plan is told from a scenario by its `kind: conformance-plan` (a scenario has no `kind:`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration, Rule, Scenario } from '../scenario/format/format.js';

const strict = { additionalProperties: false } as const;

/** The value of `kind:` that makes a document a conformance plan. */
export const PLAN_KIND = 'conformance-plan';

/** Case ids go into URLs (`/admin/conformance/runs/ID/cases/CASE`) and JUnit test names. */
export const CASE_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';

/** The trouble listeners a case can send the license server to (server certificates it must refuse). */
export const CASE_LISTENERS = ['expired', 'wrong-host', 'untrusted', 'self-signed', 'revoked'] as const;
export type CaseListener = (typeof CASE_LISTENERS)[number];

/** What a verdict can rest on: a rule the protocol documents, or a fail-closed reaction we recommend. */
export const BASES = ['documented', 'recommended'] as const;
export type Basis = (typeof BASES)[number];

export const CaseChecks = Type.Object(
  {
    basis: Type.Union(
      BASES.map((basis) => Type.Literal(basis)),
      {
        description: 'documented: a MUST of the published protocol; recommended: a fail-closed reaction the protocol leaves open',
        errorMessage: 'expected documented or recommended',
      },
    ),
    rule: Type.String({ minLength: 1, description: 'One sentence: the rule of the protocol this case checks (shown in a failing verdict)' }),
  },
  { ...strict, description: 'Which rule of the protocol the case checks, and whether the protocol documents it' },
);
export type CaseChecks = Static<typeof CaseChecks>;

export const CaseExpect = Type.Object(
  {
    license: Type.Union([Type.Literal('granted'), Type.Literal('refused')], {
      description: "What the license server's client must get",
      errorMessage: 'expected granted or refused',
    }),
    code: Type.Optional(Type.Integer({ description: "The `code` the client must see (the answer's `error`, passed through)" })),
    text: Type.Optional(Type.String({ description: "The `text` the client must see (the answer's `errorText`, passed through)" })),
    retriesAtMost: Type.Optional(
      Type.Integer({ minimum: 0, description: 'At most this many requests after the first for this case', errorMessage: 'expected a whole number of at least 0' }),
    ),
    givesUpWithin: Type.Optional(
      Type.Union([Type.Literal('timeout'), Duration], {
        description:
          "Each request must be ended by the license server within this long: a duration, or `timeout` for the run's timeout parameter plus a fixed slack",
        errorMessage: 'expected timeout, a number of ms or a string like "2s"',
      }),
    ),
  },
  { ...strict, description: 'What must happen' },
);
export type CaseExpect = Static<typeof CaseExpect>;

export const CaseRequest = Type.Object(
  {
    requestType: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3, description: '1 time-based, 2 device registration, 3 device bound', errorMessage: 'expected 1, 2 or 3' }),
    ),
    customerCookie: Type.Optional(
      Type.String({ minLength: 1, maxLength: 32, description: 'The cookie the license request carries (cases sharing one share per-key state)', errorMessage: 'expected a string of 1 to 32 characters' }),
    ),
  },
  { ...strict, description: 'What the harness puts in the license request besides the contentID' },
);
export type CaseRequest = Static<typeof CaseRequest>;

const ruleProperties = Rule.properties;

export const ConformanceCase = Type.Object(
  {
    id: Type.String({
      pattern: CASE_ID_PATTERN,
      description: 'Unique in the plan: lower-case letters, digits and "-"',
      errorMessage: 'expected an id of 1 to 64 lower-case letters, digits or "-", starting with a letter or digit',
    }),
    title: Type.String({ minLength: 1, description: 'One line, shown in reports' }),
    checks: CaseChecks,
    request: Type.Optional(CaseRequest),
    listener: Type.Optional(
      Type.Union(
        CASE_LISTENERS.map((name) => Type.Literal(name)),
        {
          description: 'Ask through this trouble listener (a bad server certificate): the case gets its own entitlementUrl; needs --trouble-port',
          errorMessage: `expected one of ${CASE_LISTENERS.join(', ')}`,
        },
      ),
    ),
    respond: ruleProperties.respond,
    sequence: ruleProperties.sequence,
    loop: ruleProperties.loop,
    random: ruleProperties.random,
    perKey: ruleProperties.perKey,
    rules: Type.Optional(
      Type.Array(Rule, {
        minItems: 1,
        description: "Instead of respond/sequence/random: rules tried in order (e.g. on per-key state); the case's contentID is added to each match",
      }),
    ),
    expect: CaseExpect,
  },
  { ...strict, description: 'One case: the scripted answer and what the license server must make of it' },
);
export type ConformanceCase = Static<typeof ConformanceCase>;

export const ConformancePlan = Type.Object(
  {
    kind: Type.Literal(PLAN_KIND, { description: 'Marks the document as a conformance plan (validate and the runs tell it from a scenario by this)' }),
    name: Scenario.properties.name,
    description: Scenario.properties.description,
    defaults: Scenario.properties.defaults,
    stateKey: Scenario.properties.stateKey,
    stateTtl: Scenario.properties.stateTtl,
    cases: Type.Array(ConformanceCase, { minItems: 1, description: 'Asked in this order' }),
  },
  { ...strict, title: 'entitlement-mock conformance plan', description: 'Cases that grade how a license server acts on the answers of its entitlement service' },
);
export type ConformancePlan = Static<typeof ConformancePlan>;
