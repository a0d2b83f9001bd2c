/** Definitions of GET /health, POST /admin/reset, GET /admin/tls-failures, GET /metrics, GET /admin/openapi.json. */
import { Type, type Static } from '@sinclair/typebox';
import { ListenerName } from '../../journal/entry.js';
import { defineRoute, jsonAnswer, textAnswer } from './define.js';
import { PositionedError } from './scenarios.js';

export const TlsFailure = Type.Object(
  {
    time: Type.String({ description: 'ISO 8601 time of the refusal' }),
    remote: Type.String(),
    listener: ListenerName,
    reason: Type.String({
      description: 'In words: `no certificate`, `unknown CA`, `expired certificate`, `not TLS (plain HTTP)`, `connection limit reached`, `HTTP request malformed`, …',
    }),
    code: Type.Union([Type.String(), Type.Null()], { description: 'OpenSSL or Node error code when there is one' }),
  },
  { $id: 'TlsFailure', additionalProperties: false, description: 'A connection refused before any request reached the mock' },
);
export type TlsFailure = Static<typeof TlsFailure>;

export const health = defineRoute({
  method: 'GET',
  path: '/health',
  operationId: 'health',
  summary: 'Liveness: ok, the active scenario and the uptime (no token needed)',
  open: true,
  answers: {
    200: jsonAnswer(
      Type.Object(
        { status: Type.Literal('ok'), scenario: Type.String({ description: 'The active scenario' }), uptimeSeconds: Type.Number() },
        { additionalProperties: false },
      ),
      'The mock is serving',
    ),
  },
});

export const reset = defineRoute({
  method: 'POST',
  path: '/admin/reset',
  operationId: 'reset',
  summary: 'Clear the journal, the TLS failures, the seen messageIDs and every counter; re-read the scenario files; keep the active scenario',
  answers: {
    200: jsonAnswer(
      Type.Object(
        { reset: Type.Literal(true), active: Type.String(), errors: Type.Array(PositionedError, { description: 'Scenario files that failed to load' }) },
        { additionalProperties: false },
      ),
      'Everything was reset',
    ),
  },
});

export const tlsFailures = defineRoute({
  method: 'GET',
  path: '/admin/tls-failures',
  operationId: 'tlsFailures',
  summary: 'Connections refused before a request reached the mock (handshakes, connection limit, malformed HTTP)',
  answers: {
    200: jsonAnswer(
      Type.Object(
        {
          total: Type.Integer({ minimum: 0, description: 'Refusals since the last reset, kept or dropped' }),
          dropped: Type.Integer({ minimum: 0 }),
          counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'Refusals by reason since the last reset' }),
          failures: Type.Array(TlsFailure, { description: 'The newest refusals, oldest first' }),
        },
        { additionalProperties: false },
      ),
      'The refusals kept',
    ),
  },
});

export const metrics = defineRoute({
  method: 'GET',
  path: '/metrics',
  operationId: 'metrics',
  summary: 'Prometheus metrics (text exposition format)',
  answers: { 200: textAnswer('text/plain', 'Prometheus text format, version 0.0.4') },
});

export const openapi = defineRoute({
  method: 'GET',
  path: '/admin/openapi.json',
  operationId: 'openapi',
  summary: 'This description of the admin API (OpenAPI 3.1)',
  answers: { 200: jsonAnswer(Type.Record(Type.String(), Type.Unknown()), 'The OpenAPI 3.1 document') },
});
