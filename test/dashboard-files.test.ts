/** The dashboard's static files on the admin listener: at / and /ui/, without the token, nothing else from disk. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestMock, type TestMock } from './helpers/mock.js';
import { ListenerName } from '../src/journal/entry.js';

let guarded: TestMock;
test.before(async () => {
  guarded = await startTestMock({ adminToken: 'files-token' });
});
test.after(async () => {
  await guarded.close();
});

test('the listener filter offers every listener a journal entry can name', async () => {
  const page = (await guarded.admin('GET', '/')).text;
  const select = /<select name="listener">([\s\S]*?)<\/select>/.exec(page)?.[1] ?? '';
  const offered = [...select.matchAll(/<option>([^<]+)<\/option>/g)].map((match) => match[1]);
  assert.equal(offered, ListenerName.anyOf.map((literal) => literal.const));
});

test('/ and /ui/ serve the page without the admin token, with a strict content security policy', async () => {
  for (const path of ['/', '/ui/', '/ui/index.html']) {
    const { status, headers, text } = await guarded.admin('GET', path);
    assert.is(status, 200, path);
    assert.match(headers.get('content-type') ?? '', /^text\/html/);
    assert.match(text, /<script type="module" src="\/ui\/main\.js">/);
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    assert.is(headers.get('x-content-type-options'), 'nosniff');
  }
  const script = await guarded.admin('GET', '/ui/main.js');
  assert.is(script.status, 200);
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.is((await guarded.admin('GET', '/ui/dashboard.css')).headers.get('content-type'), 'text/css; charset=utf-8');
  const redirect = await fetch(`${guarded.adminUrl}/ui`, { redirect: 'manual' });
  assert.is(redirect.status, 302);
  assert.is(redirect.headers.get('location'), '/ui/');
});

test('only the dashboard files are served: no other file, no path out of ui/, and data routes keep the token', async () => {
  for (const path of ['/ui/tsconfig.json', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/nope.js', '/package.json']) {
    const { status } = await guarded.admin('GET', path);
    assert.ok(status === 404 || status === 401, `${path}: ${status}`);
  }
  assert.is((await guarded.admin('GET', '/admin/requests')).status, 401);
  assert.is((await guarded.admin('POST', '/')).status, 401, 'only GET and HEAD reach the files');
});

test.run();
