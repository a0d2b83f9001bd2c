/**
 * The scenario file format: the single definition from which come the TypeScript
 * types (Static<>), the validation (TypeBox's Value / compiled checker) and the
 * published JSON Schema (schema/scenario.schema.json, checked by a test).
 *
 * Semantic checks that JSON Schema cannot express (regexes compile, delays parse,
 * exactly one of respond/sequence/random, reachability) live in the loader/linter.
 */
import { Type, type Static } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

/** A matcher: scalar (glob if a string with * or ?, else exact), a list (any item), or an operator object. */
export const Matcher = Type.Recursive(
  (This) =>
    Type.Union([
      Type.String({ description: 'Exact value, or a glob when it contains * or ?' }),
      Type.Number({ description: 'Equal to this number' }),
      Type.Boolean({ description: 'Equal to this boolean' }),
      Type.Array(This, { minItems: 1, description: 'Matches when any item matches' }),
      Type.Object({ equals: Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]) }, strict),
      Type.Object({ glob: Type.String() }, strict),
      Type.Object({ regex: Type.String() }, strict),
      Type.Object({ exists: Type.Boolean() }, strict),
      Type.Object({ not: This }, strict),
    ]),
  { $id: 'Matcher' },
);
export type Matcher = Static<typeof Matcher>;

/** The request facts a rule can match on. All given keys must match. */
export const MATCH_KEYS = [
  'contentID',
  'requestType',
  'customerCookie',
  'messageID',
  'version',
  'clientCN',
  'clientFingerprint',
  'clientAuthorized',
] as const;
export type MatchKey = (typeof MATCH_KEYS)[number];

export const Match = Type.Object(
  {
    contentID: Type.Optional(Matcher),
    requestType: Type.Optional(Matcher),
    customerCookie: Type.Optional(Matcher),
    messageID: Type.Optional(Matcher),
    version: Type.Optional(Matcher),
    clientCN: Type.Optional(Matcher),
    clientFingerprint: Type.Optional(Matcher),
    clientAuthorized: Type.Optional(Matcher),
  } satisfies Record<MatchKey, unknown>,
  { ...strict, description: 'Request facts to match; all given keys must match' },
);
export type Match = Static<typeof Match>;

export const FAULTS = ['hang', 'reset', 'close', 'slow', 'partial'] as const;
export type FaultName = (typeof FAULTS)[number];

/** `250`, `250ms`, `2s`, or `{min, max}` (uniform). Strings are parsed by the loader. */
export const Delay = Type.Union([
  Type.Number({ minimum: 0, description: 'Milliseconds' }),
  Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s)?\\s*$', description: 'e.g. 250ms or 2s' }),
  Type.Object(
    {
      min: Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s)?\\s*$' })]),
      max: Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s)?\\s*$' })]),
    },
    strict,
  ),
]);
export type Delay = Static<typeof Delay>;

/** The response fields an `omit:` list may name. */
export const RESPONSE_FIELDS = ['messageID', 'version', 'isAllowed', 'epTokenURL', 'error', 'errorText'] as const;

const responseProperties = {
  messageID: Type.Optional(
    Type.Unknown({ description: '`echo` (default), `mismatch` (a fresh GUID that is not the request\'s), or a literal' }),
  ),
  version: Type.Optional(Type.Unknown({ description: '`echo` (default) or a literal value' })),
  isAllowed: Type.Optional(Type.Unknown({ description: 'Sent as written (default true)' })),
  epTokenURL: Type.Optional(Type.String({ description: 'Template; values substituted are percent-encoded' })),
  error: Type.Optional(Type.Unknown({ description: 'Sent as written' })),
  errorText: Type.Optional(Type.Unknown({ description: 'Sent as written; a string is a template' })),
  extra: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Additional JSON fields' })),
  omit: Type.Optional(Type.Array(Type.String(), { description: 'Fields to leave out of the JSON' })),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: 'HTTP status (default 200)' })),
  headers: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: 'Extra response headers' }),
  ),
  body: Type.Optional(Type.String({ description: 'Raw body sent verbatim instead of JSON' })),
  delay: Type.Optional(Delay),
  fault: Type.Optional(Type.Union(FAULTS.map((f) => Type.Literal(f)))),
};

export const Response = Type.Object(responseProperties, { ...strict, $id: 'Response' });
export type Response = Static<typeof Response>;

export const WeightedResponse = Type.Object(
  { weight: Type.Number({ exclusiveMinimum: 0, description: 'Relative weight' }), ...responseProperties },
  strict,
);
export type WeightedResponse = Static<typeof WeightedResponse>;

export const Rule = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    match: Type.Optional(Match),
    respond: Type.Optional(Response),
    sequence: Type.Optional(Type.Array(Response, { minItems: 1 })),
    loop: Type.Optional(Type.Boolean({ description: 'With sequence: restart after the last step' })),
    random: Type.Optional(Type.Array(WeightedResponse, { minItems: 1 })),
    times: Type.Optional(Type.Integer({ minimum: 1, description: 'After this many matches the rule is skipped' })),
  },
  strict,
);
export type Rule = Static<typeof Rule>;

export const Scenario = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    description: Type.Optional(Type.String()),
    defaults: Type.Optional(Response),
    invalid: Type.Optional(Response),
    unmatched: Type.Optional(Response),
    rules: Type.Optional(Type.Array(Rule)),
  },
  { ...strict, title: 'entitlement-mock scenario' },
);
export type Scenario = Static<typeof Scenario>;
