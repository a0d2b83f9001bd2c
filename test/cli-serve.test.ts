/** `entitlement-mock serve` as a process: start line, SIGTERM, bad options. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { testPki } from './helpers/pki.js';
import { entitlementRequest, sendEntitlementRequest } from './helpers/mock.js';

const CLI = ['--import', 'tsx', 'src/cli/entry.ts'];

function runCli(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

test('serve logs its real URLs, answers, and exits 0 promptly on SIGTERM with a request held', async () => {
  const pki = await testPki();
  const child = runCli(['serve', '--host', '127.0.0.1', '--port', '0', '--admin-host', '127.0.0.1', '--no-watch'], {
    EM_ADMIN_PORT: '0',
    EM_CERTS: pki.dir,
  });
  const lines = createInterface({ input: child.stdout });
  const startLine = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no start line within 10 s')), 10_000);
    lines.on('line', (line) => {
      const parsed = JSON.parse(line);
      if (parsed.entitlementUrl) {
        clearTimeout(timer);
        resolve(parsed);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
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
  const child = runCli(['serve', '--port', 'eighty']);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  assert.is(code, 2);
  assert.is(stderr, 'entitlement-mock: --port: expected an integer from 0 to 65535, got "eighty"\n');
});

test('--version and --help', async () => {
  const version = runCli(['--version']);
  let out = '';
  version.stdout.on('data', (chunk) => (out += chunk));
  assert.is((await once(version, 'exit'))[0], 0);
  assert.match(out, /^\d+\.\d+\.\d+\n$/);
  const help = runCli(['serve', '--help']);
  let helpText = '';
  help.stdout.on('data', (chunk) => (helpText += chunk));
  assert.is((await once(help, 'exit'))[0], 0);
  for (const option of ['--scenarios', '--admin-token', '--client-auth', 'EM_JOURNAL_SIZE']) assert.ok(helpText.includes(option), option);
});

test.run();
