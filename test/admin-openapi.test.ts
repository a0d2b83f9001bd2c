/** The admin API definitions: the OpenAPI document they make, the input checks they drive, a handler for each. */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { adminRoutes } from '../src/admin/api/routes.js';
import { renderOpenApiDocument } from '../src/admin/api/openapi.js';
import { OPENAPI_FILE } from '../scripts/gen-schema.js';
import { startTestMock, type TestMock } from './helpers/mock.js';
import { operationsOf } from './helpers/openapi.js';

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock();
});
test.after(() => mock.close());

const checkedIn = () => JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, any>;

test('schema/admin-api.openapi.json is what the definitions produce now (npm run schema)', () => {
  assert.ok(readFileSync(OPENAPI_FILE, 'utf8') === renderOpenApiDocument(), 'out of date: run npm run schema');
});

test('the document is valid OpenAPI 3.1, and every schema in it compiles as JSON Schema 2020-12', async () => {
  const validator = new Validator();
  const outcome = await validator.validate(checkedIn());
  assert.ok(outcome.valid, JSON.stringify(outcome.errors, null, 2));
  assert.is(validator.version, '3.1');
  const document = checkedIn();
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema(document, 'doc');
  let compiled = 0;
  for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const [method, operation] of operationsOf(operations)) {
      for (const status of Object.keys(operation.responses)) {
        const pointer = `doc#/paths/${path.replaceAll('/', '~1')}/${method}/responses/${status}`;
        for (const mediaType of Object.keys(operation.responses[status].content ?? {})) {
          assert.ok(ajv.getSchema(`${pointer}/content/${mediaType.replaceAll('/', '~1')}/schema`), `${method} ${path} ${status}`);
          compiled++;
        }
      }
    }
  }
  assert.ok(compiled > 30, `${compiled} answer schemas`);
});

test('GET /admin/openapi.json serves the checked-in document', async () => {
  const reply = await mock.admin('GET', '/admin/openapi.json');
  assert.is(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(reply.json, checkedIn());
});

test('every definition has a handler, and its operationId is unique', async () => {
  const seen = new Set<string>();
  for (const [key, definition] of Object.entries(adminRoutes)) {
    assert.is(definition.operationId, key, 'the registry key is the operationId');
    assert.not.ok(seen.has(definition.operationId), definition.operationId);
    seen.add(definition.operationId);
    const path = definition.path.replace(/\{\w+\}/g, 'no-such-thing');
    const reply = await mock.admin(definition.method, path);
    assert.not.ok(reply.status === 405 || (reply.status === 404 && /no admin route/.test(reply.json?.message ?? '')), `${definition.method} ${path}: ${reply.text}`);
  }
  await mock.admin('POST', '/admin/reset');
});

test('bad input gets a 400 naming the field and what was expected', async () => {
  const cases: [method: string, path: string, body: unknown, field: string, message: RegExp][] = [
    ['GET', '/admin/requests?limit=many', undefined, 'limit', /^query parameter "limit" must be an integer, got "many"$/],
    ['GET', '/admin/requests?limit=-1', undefined, 'limit', /^query parameter "limit": expected integer to be greater or equal to 0, got -1$/],
    ['GET', '/admin/requests/count?valid=yes', undefined, 'valid', /^query parameter "valid" must be true or false, got "yes"$/],
    ['GET', '/admin/requests?rule=a&rule=b', undefined, 'rule', /^query parameter "rule" given more than once$/],
    ['GET', '/health?verbose=1', undefined, 'verbose', /^unknown query parameter "verbose"; this route takes none$/],
    ['POST', '/admin/scenarios?activate=maybe', 'name: x\nrules: []\n', 'activate', /^query parameter "activate" must be true or false, got "maybe"$/],
    ['PUT', '/admin/scenarios/active', {}, 'name', /^body field "name" is missing$/],
    ['PUT', '/admin/scenarios/active', { name: 7 }, 'name', /^body field "name": expected string, got 7$/],
    ['PUT', '/admin/scenarios/active', { name: 'default', colour: 'red' }, 'colour', /^unknown body field "colour"; known: name$/],
    ['PUT', '/admin/scenarios/active', [1], '', /^body: expected object, got \[1\]$/],
    ['POST', '/admin/scenarios', '  ', '', /^body must be a scenario document, as YAML or JSON \(application\/yaml or application\/json\)$/],
    ['POST', '/admin/conformance/runs/0badc0de/cases/granted-with-token-url', { license: 'yes' }, 'license', /^body field "license": expected "granted" or "refused", got the string "yes"$/],
    ['POST', '/admin/conformance/runs', { timeout: true }, 'timeout', /^body field "timeout": expected a number or a string, got true$/],
  ];
  for (const [method, path, body, field, message] of cases) {
    const headers: Record<string, string> = typeof body === 'string' ? { 'content-type': 'application/yaml' } : {};
    const reply = await mock.admin(method, path, body, headers);
    assert.is(reply.status, 400, `${method} ${path}`);
    assert.is(reply.json.error, 'bad request');
    assert.match(reply.json.message, message);
    assert.is(reply.json.field, field, `${method} ${path}`);
  }
});

test.run();
