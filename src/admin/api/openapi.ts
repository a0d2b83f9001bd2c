/**
 * The OpenAPI 3.1 document of the admin API, generated from the route definitions
 * (served at GET /admin/openapi.json, checked in as schema/admin-api.openapi.json).
 * OpenAPI 3.1 takes JSON Schema 2020-12 as it is, so TypeBox schemas go in almost
 * untouched: schemas that carry an `$id` (JournalEntry, ErrorAnswer, …) move to
 * components.schemas once, and every use points there.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { errorAnswer, type AnswerDefinition, type RouteDefinition } from './define.js';
import { adminRoutes } from './routes.js';
import { version } from '../../version.js';
import { hoistIdentified, sortedByName, type Json, type JsonObject } from './hoist.js';

const COMPONENT_REF = '#/components/schemas/';

/** Answers every route can give besides its own: bad input, no token, body too large, a bug of ours. */
const IMPLIED_ANSWERS = {
  400: errorAnswer('Bad input: the message names the parameter or body field and what was expected'),
  401: errorAnswer('The mock runs with --admin-token and the request did not carry `Authorization: Bearer <token>`'),
  413: errorAnswer('The body is larger than 1 MiB'),
  500: errorAnswer('A failure of the mock itself (a bug): the mock log says what failed'),
};

export function buildOpenApiDocument(routes: Readonly<Record<string, RouteDefinition>> = adminRoutes): JsonObject {
  const components: JsonObject = {};
  const plain = (schema: TSchema) => hoistIdentified(JSON.parse(JSON.stringify(schema)) as Json, components, COMPONENT_REF);
  const paths: Record<string, JsonObject> = {};
  for (const definition of Object.values(routes)) {
    (paths[definition.path] ??= {})[definition.method.toLowerCase()] = operation(definition, plain);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'entitlement-mock admin API',
      version: version(),
      description:
        'Steer a running entitlement-mock from tests: scenarios, the request journal, refused connections, metrics. ' +
        'Plain HTTP, JSON in and out; every error is JSON `{error, message}`.',
    },
    paths,
    components: {
      schemas: sortedByName(components),
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'Needed only when the mock runs with --admin-token (EM_ADMIN_TOKEN)' },
      },
    },
  };
}

export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

function operation(definition: RouteDefinition, plain: (schema: TSchema) => Json): JsonObject {
  const parameters = [
    ...(definition.params ? parametersOf(definition.params, 'path', plain) : []),
    ...(definition.query ? parametersOf(definition.query, 'query', plain) : []),
  ];
  const answers: Record<number, AnswerDefinition> = { ...definition.answers };
  // Any body sent with POST, PUT or DELETE is read (and must be well-formed and within 1 MiB), even where the route takes none.
  const readsBody = definition.method !== 'GET';
  if (parameters.length > 0 || readsBody) answers[400] ??= IMPLIED_ANSWERS[400];
  if (!definition.open) answers[401] ??= IMPLIED_ANSWERS[401];
  if (readsBody) answers[413] ??= IMPLIED_ANSWERS[413];
  answers[500] ??= IMPLIED_ANSWERS[500];
  const responses: JsonObject = {};
  for (const [status, answer] of Object.entries(answers)) {
    responses[status] = {
      description: answer.description,
      content:
        answer.kind === 'json'
          ? { 'application/json': { schema: plain(answer.schema) } }
          : { [answer.mediaType]: { schema: { type: 'string' } } },
    };
  }
  const body = definition.body;
  return {
    operationId: definition.operationId,
    summary: definition.summary,
    ...(definition.description ? { description: definition.description } : {}),
    security: definition.open ? [] : [{}, { adminToken: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            description: body.description,
            content:
              body.kind === 'json'
                ? { 'application/json': { schema: plain(body.schema) } }
                : Object.fromEntries(body.mediaTypes.map((mediaType) => [mediaType, { schema: { type: 'string' } }])),
          },
        }
      : {}),
    responses,
  };
}

function parametersOf(schema: TObject, where: 'path' | 'query', plain: (schema: TSchema) => Json): Json[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, ...rest } = plain(property) as JsonObject;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description !== undefined ? { description } : {}),
      schema: rest,
    };
  });
}

