/**
 * One request as the journal keeps it: a TypeBox definition, so the admin API's
 * answers, the typed client and the OpenAPI document share it (add new fields here).
 */
import { Type, type Static } from '@sinclair/typebox';
import { JournaledUpstream } from '../record/journaled-upstream.js';
import { JournaledResponse } from '../respond/journaled-response.js';
import { NearMiss, StateTransition } from '../scenario/runtime/outcome.js';

export const ListenerName = Type.Union(
  [Type.Literal('main'), Type.Literal('expired'), Type.Literal('wrong-host'), Type.Literal('untrusted-ca'), Type.Literal('self-signed'), Type.Literal('revoked')],
  { description: '`main`, or the trouble listener that took the request' },
);
export type ListenerName = Static<typeof ListenerName>;

export const ConnectionTls = Type.Object(
  {
    connection: Type.Integer({ minimum: 1, description: 'Numbered from 1 per process: entries with the same number came over one (keep-alive) connection' }),
    version: Type.Union([Type.String(), Type.Null()], { description: '`TLSv1.2`, `TLSv1.3`, … as negotiated' }),
    resumed: Type.Boolean({ description: 'The client resumed an earlier TLS session (an abbreviated handshake)' }),
  },
  { additionalProperties: false, description: 'What the TLS handshake of a connection settled; one frozen object per connection, shared by its journal entries' },
);
export type ConnectionTls = Readonly<Static<typeof ConnectionTls>>;

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T, description?: string) =>
  Type.Union([schema, Type.Null()], description === undefined ? {} : { description });

export const JournalEntry = Type.Object(
  {
    id: Type.Integer({ minimum: 1, description: 'Grows by one per request; keeps growing across clears' }),
    time: Type.String({ description: 'ISO 8601 time the request arrived' }),
    remote: Type.String({ description: 'Client address and port' }),
    listener: ListenerName,
    clientCN: nullable(Type.String(), 'Common name of the client certificate, null without one'),
    clientFingerprint: nullable(Type.String(), 'SHA-256 of the client certificate, lowercase hex'),
    clientAuthorized: Type.Boolean(),
    tls: nullable(ConnectionTls, 'The connection\'s TLS facts (null when it never completed a handshake the mock saw)'),
    method: Type.String(),
    path: Type.String(),
    // Node's IncomingHttpHeaders type allows undefined values; none is ever present, so JSON shows string | string[].
    headers: Type.Unsafe<Record<string, string | string[] | undefined>>(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), { description: 'Request headers, names in lower case' }),
    ),
    request: Type.Unknown({
      description: 'The body parsed as JSON (a numeric-string `version` as its number), or null when the body was not valid JSON or not read',
    }),
    rawBody: nullable(
      Type.String(),
      'The body exactly as received, as UTF-8 text (bytes that are not UTF-8 as U+FFFD; at most 64 KiB): what `request` was parsed from. Null when no body was read ' +
        '(wrong path or method, too large, not complete)',
    ),
    valid: Type.Boolean(),
    problems: Type.Array(Type.String()),
    warnings: Type.Array(Type.String()),
    session: nullable(
      Type.String(),
      'The session the request belonged to (its key matched), else null. When the session\'s rules answered, `scenario` is null ' +
        'and `rule` names the session\'s rule; when none of them matched, the active scenario answered and `scenario` names it',
    ),
    scenario: nullable(
      Type.String(),
      'The scenario whose rules answered (or that gave the unmatched/invalid answer); null when a session\'s rule answered or no rule was asked',
    ),
    rule: nullable(Type.String(), 'The rule that answered, null when none did'),
    nearMisses: Type.Optional(Type.Array(NearMiss)),
    step: nullable(Type.Integer({ minimum: 0 }), 'Sequence step (from 0) when the rule has a sequence'),
    state: nullable(StateTransition, "In a scenario that uses state: the request's state key and its state before and after; else null"),
    response: JournaledResponse,
    upstream: Type.Optional(JournaledUpstream),
    durationMs: nullable(Type.Number(), 'Filled in when the exchange ends (for a hang: when the socket closes); null until then'),
    replica: Type.Optional(
      Type.String({ description: "With --peers: the admin URL of the replica that answered the request, on entries from other replicas (this replica's own have none)" }),
    ),
  },
  { $id: 'JournalEntry', additionalProperties: false, description: 'One request as the journal keeps it' },
);
export type JournalEntry = Static<typeof JournalEntry>;

export type NewJournalEntry = Omit<JournalEntry, 'id'>;
