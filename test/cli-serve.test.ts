/** `entitlement-mock serve` as a process: start line, SIGTERM, bad options. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { testPki } from './helpers/pki.js';
import { entitlementRequest, sendEntitlementRequest } from './helpers/mock.js';
import { spawnCli, startLineOf } from './helpers/cli.js';

test('serve logs its real URLs, answers, and exits 0 promptly on SIGTERM with a request held', async () => {
  const pki = await testPki();
  const child = spawnCli(['serve', '--host', '127.0.0.1', '--port', '0', '--admin-host', '127.0.0.1', '--no-watch'], {
    EM_ADMIN_PORT: '0',
    EM_CERTS: pki.dir,
  });
  const { startLine } = await startLineOf(child);
  const port = Number(new URL(startLine.entitlementUrl).port);
  assert.ok(port > 0);
  const reply = await sendEntitlementRequest({ port, ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' }, entitlementRequest());
  assert.is(reply.status, 200);

  const adminUrl = startLine.adminUrl as string;
  const posted = await fetch(`${adminUrl}/admin/scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: 'name: stuck\nrules:\n  - respond: { fault: hang }\n',
  });
  assert.is(posted.status, 201);
  const held = sendEntitlementRequest({ port, ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' }, entitlementRequest()).then(
    () => 'answered',
    () => 'ended',
  );
  const deadline = Date.now() + 5000;
  while (((await (await fetch(`${adminUrl}/admin/requests/count`)).json()) as { count: number }).count < 2) {
    if (Date.now() > deadline) throw new Error('the held request never reached the journal');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const sentAt = Date.now();
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.is(code, 0);
  assert.ok(Date.now() - sentAt < 5000, `exited in ${Date.now() - sentAt} ms`);
  assert.is(await held, 'ended', 'the held request was ended by the shutdown, not answered');
});

test('a bad option value: one line naming it on stderr, exit code 2', async () => {
  const child = spawnCli(['serve', '--port', 'eighty']);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  assert.is(code, 2);
  assert.is(stderr, 'entitlement-mock: --port: expected an integer from 0 to 65535, got "eighty"\n');
});

test('--version and --help', async () => {
  const version = spawnCli(['--version']);
  let out = '';
  version.stdout.on('data', (chunk) => (out += chunk));
  assert.is((await once(version, 'exit'))[0], 0);
  assert.match(out, /^\d+\.\d+\.\d+\n$/);
  const help = spawnCli(['serve', '--help']);
  let helpText = '';
  help.stdout.on('data', (chunk) => (helpText += chunk));
  assert.is((await once(help, 'exit'))[0], 0);
  for (const option of ['--scenarios', '--admin-token', '--client-auth', 'EM_JOURNAL_SIZE']) assert.ok(helpText.includes(option), option);
});

test.run();
