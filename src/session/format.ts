/**
 * The session document of POST /admin/sessions: which requests belong to the session (`key`),
 * how long it lives (`ttl`), and its rules in the scenario rule format (with `defaults`, and
 * `stateKey`/`stateTtl` for per-key state, as in a scenario). One definition for the
 * types (Static<>), the validation (through the scenario loader, with positions) and docs.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration, Scenario } from '../scenario/format/format.js';
import { MAX_PATTERN_LENGTH } from '../scenario/runtime/matchers.js';

const strict = { additionalProperties: false } as const;

/** The request fields a session key can name. */
export const SESSION_KEY_FIELDS = ['contentID', 'customerCookie', 'clientCN'] as const;
export type SessionKeyField = (typeof SESSION_KEY_FIELDS)[number];

/** Session ids go into URLs (`/admin/sessions/ID`, `?session=ID`): letters, digits and `._~-`. */
export const SESSION_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$';

const KeyValue = Type.String({
  minLength: 1,
  maxLength: MAX_PATTERN_LENGTH,
  description: 'The exact value, or a glob when it contains * (any run of characters) or ? (one character)',
  errorMessage: `expected a non-empty string (an exact value, or a glob with * or ?) of at most ${MAX_PATTERN_LENGTH} characters`,
});

export const SessionKey = Type.Object(
  {
    contentID: Type.Optional(KeyValue),
    customerCookie: Type.Optional(KeyValue),
    clientCN: Type.Optional(KeyValue),
  } satisfies Record<SessionKeyField, unknown>,
  {
    ...strict,
    description: 'Which requests belong to the session: exactly one request field and its value or glob, e.g. {contentID: "abc-*"}',
    errorMessage: 'expected a mapping with one of contentID, customerCookie, clientCN, e.g. {contentID: "abc-*"}',
  },
);
export type SessionKey = Static<typeof SessionKey>;

export const SessionDefinition = Type.Object(
  {
    id: Type.Optional(
      Type.String({
        pattern: SESSION_ID_PATTERN,
        description: 'The session id (default: a generated one); used in /admin/sessions/ID and ?session=ID',
        errorMessage: 'expected an id of 1 to 128 letters, digits, ".", "_", "~" or "-", starting with a letter or digit',
      }),
    ),
    key: SessionKey,
    ttl: Type.Optional(Duration),
    // A scenario's keys that make sense for rules answered before the active scenario's
    // (not invalid:/unmatched: — what the session's rules do not answer, the scenario does).
    description: Scenario.properties.description,
    defaults: Scenario.properties.defaults,
    stateKey: Scenario.properties.stateKey,
    stateTtl: Scenario.properties.stateTtl,
    rules: Type.Optional(Type.Array(Scenario.properties.rules.items, { description: "Tried in order before the active scenario's rules" })),
  },
  {
    ...strict,
    title: 'entitlement-mock session',
    description: "A session: requests matching its key are answered by its rules first, then by the active scenario's",
  },
);
export type SessionDefinition = Static<typeof SessionDefinition>;

/** A session as the admin API shows it. */
export const SessionSummary = Type.Object(
  {
    id: Type.String(),
    key: SessionKey,
    description: Type.String(),
    rules: Type.Array(Type.String(), { description: 'Rule names in order' }),
    createdAt: Type.String({ description: 'When it was created (ISO 8601)' }),
    ttlMs: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], { description: 'The time to live in ms; null: until deleted or reset' }),
    expiresAt: Type.Union([Type.String(), Type.Null()], { description: 'When it expires (ISO 8601); null without a ttl' }),
    requests: Type.Integer({ minimum: 0, description: 'Requests that belonged to it so far' }),
  },
  { $id: 'SessionSummary', additionalProperties: false, description: 'A live session' },
);
export type SessionSummary = Static<typeof SessionSummary>;
