/**
 * The report card on the license server under test (GET /admin/report, `entitlement-mock report`):
 * TypeBox definitions, so the admin API, the typed client and the OpenAPI document share them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ListenerName } from '../journal/entry.js';

export const Severity = Type.Union([Type.Literal('error'), Type.Literal('warn')]);
export type Severity = Static<typeof Severity>;

type TroubleListenerName = Exclude<ListenerName, 'main'>;

/** `trouble-listener-NAME` for every trouble listener the journal can name (a new listener gets its id here by itself). */
export const TROUBLE_LISTENER_IDS = ListenerName.anyOf
  .map((literal) => literal.const as ListenerName)
  .filter((name): name is TroubleListenerName => name !== 'main')
  .map((name) => `trouble-listener-${name}` as const);

/**
 * Every finding id: one slug per kind of finding, documented in docs/report.md. What varies
 * within a kind (the problem's words, the refusal reasons, the versions sent) is in the title.
 */
export const FINDING_IDS = [
  ...TROUBLE_LISTENER_IDS,
  'server-cert-refused',
  'client-cert-missing',
  'client-cert-expired',
  'client-cert-untrusted',
  'client-cert-revoked',
  'client-cert-wrong-purpose',
  'not-tls',
  'tls-mismatch',
  'connection-limit',
  'http-malformed',
  'handshake-failed',
  'body-not-json',
  'body-not-object',
  'body-too-large',
  'body-too-slow',
  'body-incomplete',
  'wrong-path',
  'wrong-method',
  'message-id-invalid',
  'version-invalid',
  'content-id-invalid',
  'request-type-invalid',
  'customer-cookie-invalid',
  'cookie-too-long',
  'invalid-request',
  'duplicate-message-id',
  'message-id-not-guid',
  'content-id-not-guid',
  'content-type-missing',
  'content-type-wrong',
  'version-as-string',
  'version-not-1',
  'unknown-fields',
  'retry-storm',
  'long-wait',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

export const FindingId = Type.Unsafe<FindingId>(
  Type.Union(
    FINDING_IDS.map((id) => Type.Literal(id)),
    { $id: 'FindingId', description: 'One slug per kind of finding (listed in docs/report.md): what a team accepts with `accept`' },
  ),
);

/** Something the license server did wrong, with the evidence. */
export const Finding = Type.Object(
  {
    id: FindingId,
    severity: Severity,
    title: Type.String({ description: 'What happened, in one line' }),
    count: Type.Integer({ minimum: 0, description: 'How many requests (or refused handshakes) show it' }),
    examples: Type.Array(Type.Integer(), {
      description: 'Journal entry ids of some of those requests, oldest first; empty for refused handshakes',
    }),
    advice: Type.String({ description: 'What a correct license server does instead, in one sentence' }),
    accepted: Type.Boolean({ description: 'The team accepted it (`accept`): shown, but never a reason to fail (`--fail-on`)' }),
  },
  { $id: 'Finding', additionalProperties: false, description: 'Something the license server did wrong, with the evidence' },
);
export type Finding = Static<typeof Finding>;

/** How the license server reacted to one kind of failure the mock gave it. */
export const FaultReaction = Type.Object(
  {
    failure: Type.String({ description: '`reset`, `close`, `hang`, `partial`, `slow` or `5xx`' }),
    count: Type.Integer({ minimum: 0, description: 'Requests that got this failure' }),
    retried: Type.Integer({
      minimum: 0,
      description: 'Of those, how many were followed by the same request (same contentID and customerCookie) within the retry window',
    }),
    retries: Type.Integer({ minimum: 0, description: 'Retries after these failures, in all (a request retried twice counts 2)' }),
    maxRetries: Type.Integer({ minimum: 0, description: 'The longest run of retries in a row (without a success between) that began with this failure' }),
    gaveUpAfterMs: Type.Optional(
      Type.Object(
        { min: Type.Number(), median: Type.Number(), max: Type.Number() },
        {
          additionalProperties: false,
          description: 'For held answers (`hang`): how long the license server waited before it gave up, in ms (its timeout, as measured)',
        },
      ),
    ),
    stillWaiting: Type.Optional(Type.Integer({ minimum: 0, description: 'Held answers it had not given up on when the report was made' })),
  },
  { additionalProperties: false },
);
export type FaultReaction = Static<typeof FaultReaction>;

/** Facts about the license server's traffic, neither right nor wrong in themselves. */
export const TrafficProfile = Type.Object(
  {
    requests: Type.Integer({ minimum: 0 }),
    connections: Type.Integer({ minimum: 0, description: 'Connections that carried at least one journaled request' }),
    tlsVersions: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'Connections by negotiated TLS version' }),
    resumedConnections: Type.Integer({ minimum: 0, description: 'Connections whose TLS session was resumed' }),
    peakConcurrency: Type.Integer({ minimum: 0, description: "The most requests in progress at once (from each request's arrival and duration)" }),
    faultReactions: Type.Array(FaultReaction),
  },
  { additionalProperties: false, description: "Facts about the license server's traffic, neither right nor wrong in themselves" },
);
export type TrafficProfile = Static<typeof TrafficProfile>;

export const Report = Type.Object(
  {
    generatedAt: Type.String({ description: 'When the report was made (RFC 3339)' }),
    requests: Type.Integer({
      minimum: 0,
      description: 'Requests the journal holds (the report covers these: everything since the last reset unless `dropped` > 0)',
    }),
    dropped: Type.Integer({ minimum: 0, description: 'Requests the journal had to drop (not covered)' }),
    refusedHandshakes: Type.Integer({ minimum: 0, description: 'Refused handshakes counted since the last reset' }),
    scope: Type.Object(
      {
        session: Type.Union([Type.String(), Type.Null()], { description: "Only this session's requests, or null" }),
        since: Type.Union([Type.String(), Type.Null()], { description: 'Only the requests after this entry id or from this time on (as asked), or null' }),
      },
      {
        additionalProperties: false,
        description: 'What the report covers: the whole journal, or part of it. Refused handshakes belong to no session or entry: a report with a scope leaves them out',
      },
    ),
    findings: Type.Array(Finding, {
      description: 'Most severe first, then by count; accepted findings after the others. Empty for a license server that did nothing wrong',
    }),
    profile: TrafficProfile,
    retryWindowMs: Type.Number({ description: 'The window within which the same request again counts as a retry, in ms' }),
    missing: Type.Optional(
      Type.Array(Type.String(), { description: 'Journal sources (workers, peers) the report leaves out because they did not answer; only with partial=true' }),
    ),
  },
  { $id: 'Report', additionalProperties: false, description: 'The report card on the license server under test' },
);
export type Report = Static<typeof Report>;
