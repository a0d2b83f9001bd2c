/**
 * Every admin answer a test receives (through TestMock.admin or the typed client) is
 * checked against the checked-in OpenAPI document, schema/admin-api.openapi.json:
 * the route and status must be described there and a JSON body must match its schema.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

export const OPENAPI_PATH = new URL('../../schema/admin-api.openapi.json', import.meta.url);

interface Operation {
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

/** Routes served by the admin listener that the API document leaves out on purpose: the dashboard's pages and its event stream. */
export const UNDOCUMENTED_ROUTES: RegExp[] = [/^\/$/, /^\/ui(\/|$)/, /^\/admin\/events$/];

const DOCUMENT_ID = 'admin-api';
let loaded: { document: OpenApiDocument; ajv: Ajv2020; templates: { path: string; pattern: RegExp }[] } | null = null;

function openApi() {
  if (loaded) return loaded;
  const document = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument;
  // The whole document is added as one schema so `#/components/schemas/...` references resolve inside it.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(document, DOCUMENT_ID);
  const templates = Object.keys(document.paths).map((path) => ({
    path,
    pattern: new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  loaded = { document, ajv, templates };
  return loaded;
}

/**
 * Compiles every answer schema now (under a second, once per test process), so that checking an
 * answer never adds compile time to a test that measures how fast answers come.
 */
let prepared = false;
export function prepareOpenApiChecks(): void {
  if (prepared) return;
  prepared = true;
  const { document } = openApi();
  for (const [path, operations] of Object.entries(document.paths))
    for (const [method, operation] of operationsOf(operations))
      for (const [status, response] of Object.entries(operation.responses))
        if (response.content?.['application/json']) validatorFor(answerSchemaPointer(path, method, status));
  validatorFor(ERROR_ANSWER);
}

const ERROR_ANSWER = '#/components/schemas/ErrorAnswer';

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The operations of a path item (its other keys, such as `description`, are not operations). */
export const operationsOf = <Operation>(pathItem: Record<string, Operation>): [string, Operation][] =>
  Object.entries(pathItem).filter(([key]) => HTTP_METHODS.has(key));

const answerSchemaPointer = (path: string, method: string, status: string) =>
  `#${['', 'paths', path, method, 'responses', status, 'content', 'application/json', 'schema'].map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
const validators = new Map<string, ValidateFunction>();

function validatorFor(fragment: string): ValidateFunction {
  const ref = `${DOCUMENT_ID}${fragment}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = openApi().ajv.getSchema(ref);
    if (!validate) throw new Error(`no schema at ${ref}`);
    validators.set(ref, validate);
  }
  return validate;
}

/** Throws when the answer is not what the OpenAPI document says that route answers. */
export function assertAnswerMatchesOpenApi(method: string, url: string, status: number, contentType: string | null, body: string): void {
  if (method === 'HEAD') return; // an answer without a body
  const { document, templates } = openApi();
  const path = new URL(url, 'http://admin').pathname;
  const template = templates.find((candidate) => candidate.pattern.test(path))?.path;
  const operation = template ? document.paths[template]?.[method.toLowerCase()] : undefined;
  if (!operation) {
    if (UNDOCUMENTED_ROUTES.some((pattern) => pattern.test(path))) return;
    // OPTIONS on a known path: 204 with Allow, no body.
    if (method === 'OPTIONS' && status === 204 && template !== undefined) return;
    // Unknown routes and methods answer the common error shape (401 first when a token is needed).
    if (status === 404 || status === 405 || status === 401) return checkBody(ERROR_ANSWER, `${method} ${path}`, status, body);
    throw new Error(`${method} ${path} answered ${status} but is not in the OpenAPI document; define it in src/admin/api/`);
  }
  const response = operation.responses[String(status)];
  if (!response) throw new Error(`${method} ${path} answered ${status}, which the OpenAPI document does not list for ${template}`);
  const mediaType = (contentType ?? '').split(';')[0]?.trim() ?? '';
  const content = response.content ?? {};
  if (!(mediaType in content))
    throw new Error(`${method} ${path} answered ${status} as "${mediaType}"; the OpenAPI document says ${Object.keys(content).join(', ')}`);
  if (mediaType === 'application/json') {
    checkBody(answerSchemaPointer(template as string, method.toLowerCase(), String(status)), `${method} ${path}`, status, body);
  }
}

function checkBody(fragment: string, route: string, status: number, body: string): void {
  const validate = validatorFor(fragment);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`${route} answered ${status} with a body that is not JSON: ${body.slice(0, 200)}`);
  }
  if (!validate(json))
    throw new Error(`${route} answered ${status} with a body the OpenAPI document does not allow: ${openApi().ajv.errorsText(validate.errors)}\n${body.slice(0, 500)}`);
}

/** fetch that checks every answer against the OpenAPI document: give it to an AdminClient in tests. */
export const checkedFetch: typeof fetch = async (input, init) => {
  prepareOpenApiChecks();
  const response = await fetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  assertAnswerMatchesOpenApi(init?.method ?? 'GET', url, response.status, response.headers.get('content-type'), await response.clone().text());
  return response;
};
