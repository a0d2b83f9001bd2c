/** Start-up (PKI generation, start line) and graceful shutdown of a real mock. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './helpers/temp.js';
import { StartupError } from '../src/server/mock.js';
import { startTestMock, entitlementRequest, eventually, scenarioFolder, sendEntitlementRequest } from './helpers/mock.js';
import { closeAfter } from './helpers/cleanup.js';
import { slack } from './helpers/slack.js';

/** Mocks a test starts (a test that closes its mock itself still gets it closed when it fails first). */
const own = closeAfter(test.after.each);

test('start-up in an empty certs folder generates the development PKI, and never overwrites it', async () => {
  const certs = tempDir('certs');
  const first = own(await startTestMock({ certs }));
  const files = (await readdir(certs)).sort();
  for (const name of ['ca.crt', 'ca.key', 'client.crt', 'client.key', 'server.crt', 'server.key']) assert.ok(files.includes(name), name);
  for (const key of ['ca.key', 'server.key', 'client.key']) assert.is((await stat(join(certs, key))).mode & 0o777, 0o600, key);
  const before = await Promise.all(files.map((name) => readFile(join(certs, name))));
  const ca = await readFile(join(certs, 'ca.crt'), 'utf8');
  const client = { certPem: await readFile(join(certs, 'client.crt'), 'utf8'), keyPem: await readFile(join(certs, 'client.key'), 'utf8') };
  const reply = await sendEntitlementRequest({ port: first.port, ca, defaultClient: client, path: '/entitlement' }, entitlementRequest());
  assert.is(reply.status, 200, 'the generated client certificate is trusted by the generated server');
  assert.ok(first.logs.some((line) => line.msg === 'generated a development PKI'));
  await first.close();

  const second = own(await startTestMock({ certs }));
  const after = await Promise.all(files.map((name) => readFile(join(certs, name))));
  files.forEach((name, index) => assert.ok(before[index]?.equals(after[index] as Buffer), `${name} unchanged`));
  assert.not.ok(second.logs.some((line) => line.msg === 'generated a development PKI'));
  await second.close();
});

test('the start line gives the real entitlement and admin URLs when port 0 was asked', async () => {
  const mock = own(await startTestMock());
  const line = mock.logs.find((entry) => typeof entry.entitlementUrl === 'string') as Record<string, unknown>;
  assert.is(line.entitlementUrl, `https://127.0.0.1:${mock.port}/entitlement`);
  assert.is(line.adminUrl, `http://127.0.0.1:${mock.adminPort}`);
  assert.ok(mock.port > 0 && mock.adminPort > 0);
  await mock.close();
});

test('an unknown start scenario fails the start with the known names, the closest first, and the option', async () => {
  try {
    await startTestMock({ scenario: 'no-such-scenario' });
    assert.unreachable('should not start');
  } catch (error) {
    assert.match((error as Error).message, /no-such-scenario/);
    assert.match((error as Error).message, /default/);
  }
  try {
    await startTestMock({ scenario: 'Defualt' });
    assert.unreachable('should not start');
  } catch (error) {
    assert.instance(error, StartupError);
    assert.match((error as StartupError).message, /^cannot start: unknown scenario "Defualt" \(did you mean "default"\?\); known: default, [^;]*; choose one with the scenario option$/);
    assert.equal((error as StartupError).fix, { option: 'scenario', advice: 'choose one' });
  }
});

test('shutdown lets an in-flight (delayed) response finish and ends a held (hang) one', async () => {
  const scenarios = await scenarioFolder({
    'default.yaml': [
      'rules:',
      '  - name: slow',
      '    match: { contentID: slow }',
      '    respond: { delay: 300ms }',
      '  - name: stuck',
      '    match: { contentID: stuck }',
      '    respond: { fault: hang }',
    ].join('\n'),
  });
  const mock = own(await startTestMock({ scenarios }));
  const slow = mock.entitle(entitlementRequest({ contentID: 'slow' }));
  const stuck = mock.entitle(entitlementRequest({ contentID: 'stuck' })).then(
    () => 'answered',
    (error: NodeJS.ErrnoException) => `failed: ${error.code ?? error.message}`,
  );
  await eventually(async () => (await mock.admin('GET', '/admin/requests/count')).json.count === 2);
  const closing = Date.now();
  await mock.close();
  const closeMs = Date.now() - closing;
  const reply = await slow;
  assert.is(reply.status, 200, 'the delayed response was finished');
  assert.match(await stuck, /^failed: /, 'the held request was ended, not answered');
  assert.ok(closeMs < 300 + slack(400), `closed in ${closeMs} ms`);
  try {
    await mock.entitle(entitlementRequest(), { timeoutMs: slack(1000) });
    assert.unreachable('no longer accepting');
  } catch (error) {
    assert.is((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  }
});

test.run();
