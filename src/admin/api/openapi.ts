/**
 * The OpenAPI 3.1 document of the admin API, generated from the route definitions
 * (served at GET /admin/openapi.json, checked in as schema/admin-api.openapi.json).
 * OpenAPI 3.1 takes JSON Schema 2020-12 as it is, so TypeBox schemas go in almost
 * untouched: schemas that carry an `$id` (JournalEntry, ErrorAnswer, …) move to
 * components.schemas once, and every use points there; keywords of our own
 * (`errorMessage` and `markdownDescription`, for the scenario checker and editors) are left out, as tools
 * such as Redocly's linter and code generators take only standard ones.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { DOCUMENT_MEDIA_TYPES, errorAnswer, matchesPathTemplate, type AnswerDefinition, type BodyDefinition, type RouteDefinition } from './define.js';
import { adminRoutes } from './routes.js';
import { license, version } from '../../version.js';
import { hoistIdentified, sortedByName, withoutKeywords, type Json, type JsonObject } from './hoist.js';
import { DEFAULT_OPTIONS } from '../../server/options.js';

const COMPONENT_REF = '#/components/schemas/';

/** Keywords of our own in the TypeBox definitions: not JSON Schema, so not in the document. */
const NON_STANDARD_KEYWORDS = ['errorMessage', 'markdownDescription'];

/** Answers every route can give besides its own: bad input, no token, body too large, a bug of ours. */
const IMPLIED_ANSWERS = {
  400: errorAnswer('Bad input (a query parameter the route does not take, a malformed body, …): the message names the parameter or body field and what was expected'),
  401: errorAnswer('The mock runs with --admin-token and the request did not carry `Authorization: Bearer <token>`'),
  413: errorAnswer('The body is larger than 1 MiB'),
  500: errorAnswer('A failure of the mock itself (a bug): the mock log says what failed'),
};

export function buildOpenApiDocument(routes: Readonly<Record<string, RouteDefinition>> = adminRoutes): JsonObject {
  const components: JsonObject = {};
  const plain = (schema: TSchema) =>
    hoistIdentified(withoutKeywords(JSON.parse(JSON.stringify(schema)) as Json, NON_STANDARD_KEYWORDS), components, COMPONENT_REF);
  const paths: Record<string, JsonObject> = {};
  for (const definition of Object.values(routes)) {
    (paths[definition.path] ??= {})[definition.method.toLowerCase()] = operation(definition, plain);
  }
  for (const [path, pathItem] of Object.entries(paths)) pathItem.description = methodsNote(path, Object.values(routes));
  return {
    openapi: '3.1.0',
    info: {
      title: 'entitlement-mock admin API',
      version: version(),
      description:
        'Steer a running entitlement-mock from tests: scenarios, the request journal, refused connections, metrics. ' +
        'Plain HTTP, JSON in and out; every error is JSON `{error, message}`. ' +
        'A path asked with a method it does not take answers 405 with an `Allow` header and a message naming the methods to use.',
      license: { name: license(), identifier: license() },
    },
    servers: [
      {
        url: `http://127.0.0.1:${DEFAULT_OPTIONS.adminPort}`,
        description: 'The admin listener on this machine at its default port (--admin-host, --admin-port, EM_ADMIN_PORT)',
      },
    ],
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
  // Every route refuses a query parameter it does not take.
  answers[400] ??= IMPLIED_ANSWERS[400];
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
    ...(body ? { requestBody: { required: true, description: body.description, content: bodyContent(body, plain) } } : {}),
    responses,
  };
}

/**
 * What a path item says about its methods (OpenAPI has no place for the 405 that the methods a
 * path does not take get). A path other templates also match (`/admin/scenarios/active` is also
 * `/admin/scenarios/{name}`) takes their methods too.
 */
function methodsNote(path: string, routes: readonly RouteDefinition[]): string {
  const concrete = path.replace(/\{\w+\}/g, 'x');
  const methods = new Set(routes.filter((route) => matchesPathTemplate(route.path, concrete)).map((route) => route.method as string));
  if (methods.has('GET')) methods.add('HEAD');
  return `Methods: ${[...methods].join(', ')}. Any other method answers 405 with an \`Allow\` header listing them and an ErrorAnswer naming them.`;
}

/** A document body: the object as JSON (its schema named in components), or the same document as YAML text. */
function bodyContent(body: BodyDefinition, plain: (schema: TSchema) => Json): JsonObject {
  if (body.kind === 'json') return { 'application/json': { schema: plain(body.schema) } };
  const yaml = { type: 'string', description: `${body.name} as YAML text` };
  const json = plain({ ...body.schema, $id: body.name });
  return Object.fromEntries(DOCUMENT_MEDIA_TYPES.map((mediaType) => [mediaType, { schema: mediaType === 'application/json' ? json : yaml }]));
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

