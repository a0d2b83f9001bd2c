/**
 * A known admin path asked with a method it does not take answers 405 with `Allow` (RFC 9110)
 * and a JSON message naming the methods to use. The paths come from the route definitions,
 * so a route added there is covered here without a change.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adminRoutes } from '../src/admin/api/routes.js';
import { matchesPathTemplate } from '../src/admin/api/define.js';
import { closeAfter } from './helpers/cleanup.js';
import { startTestMock, type TestMock } from './helpers/mock.js';

const ownForFile = closeAfter(test.after);
let mock: TestMock;
test.before(async () => {
  mock = ownForFile(await startTestMock());
});

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const definitions = Object.values(adminRoutes);

/** A concrete path for each defined path template, and every method some definition serves it with (HEAD with GET). */
function pathsAndMethods(): Map<string, Set<string>> {
  const byPath = new Map<string, Set<string>>();
  for (const { path: template } of definitions) {
    const path = template.replace(/\{\w+\}/g, 'some-name');
    if (byPath.has(path)) continue;
    const methods = new Set<string>();
    for (const definition of definitions) {
      if (!matchesPathTemplate(definition.path, path)) continue;
      methods.add(definition.method);
      if (definition.method === 'GET') methods.add('HEAD');
    }
    byPath.set(path, methods);
  }
  return byPath;
}

test('every other method on every admin path: 405, Allow, and a message naming the methods to use', async () => {
  const byPath = pathsAndMethods();
  assert.ok(byPath.size >= 15, `${byPath.size} paths`);
  let checked = 0;
  for (const [path, allowed] of byPath) {
    const named = [...allowed].filter((method) => method !== 'HEAD');
    for (const method of METHODS.filter((candidate) => !allowed.has(candidate))) {
      const reply = await mock.admin(method, path);
      const where = `${method} ${path}`;
      assert.is(reply.status, 405, `${where}: ${reply.text}`);
      const allow = (reply.headers.get('allow') ?? '').split(/,\s*/).filter(Boolean);
      assert.equal(new Set(allow), allowed, `${where}: Allow: ${reply.headers.get('allow')}`);
      if (method === 'HEAD') continue; // no body
      assert.is(reply.json.error, 'method not allowed', where);
      const use = named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} or ${named.at(-1)}`;
      assert.is(reply.json.message, `method ${method} not allowed on ${path}; use ${use}`, where);
      checked++;
    }
  }
  assert.ok(checked > 40, `${checked} answers checked`);
});

test('the example from the docs: GET /admin/reset', async () => {
  const reply = await mock.admin('GET', '/admin/reset');
  assert.is(reply.status, 405);
  assert.is(reply.headers.get('allow'), 'POST');
  assert.equal(reply.json, { error: 'method not allowed', message: 'method GET not allowed on /admin/reset; use POST' });
});

test('OPTIONS lists the methods; an unknown path is still a 404', async () => {
  const options = await mock.admin('OPTIONS', '/admin/sessions');
  assert.is(options.status, 204);
  assert.equal(new Set(options.headers.get('allow')?.split(/,\s*/)), new Set(['GET', 'HEAD', 'POST']));
  const unknown = await mock.admin('GET', '/admin/nothing-here');
  assert.is(unknown.status, 404);
  assert.is(unknown.json.message, 'no admin route GET /admin/nothing-here');
});

test.run();
