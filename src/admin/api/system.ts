/** Definitions of GET /health, POST /admin/reset, GET /admin/tls-failures, GET /metrics, GET /admin/openapi.json. */
import { Type } from '@sinclair/typebox';
import { TlsFailureListing } from '../../journal/tls-failures.js';
import { defineRoute, errorAnswer, jsonAnswer, textAnswer } from './define.js';
import { partialQuery, sourcesUnavailableAnswer } from './federated.js';
import { PositionedError } from '../../scenario/format/loaded.js';

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
    503: errorAnswer('A journal source (a worker, a peer) or the shared store (--store) did not answer: the message names it'),
  },
});

export const tlsFailures = defineRoute({
  method: 'GET',
  path: '/admin/tls-failures',
  operationId: 'tlsFailures',
  summary: 'Connections refused before a request reached the mock (handshakes, connection limit, malformed HTTP)',
  query: Type.Object(partialQuery, { additionalProperties: false }),
  answers: {
    200: jsonAnswer(TlsFailureListing, 'The refusals kept'),
    503: sourcesUnavailableAnswer,
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
