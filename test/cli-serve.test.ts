/** `entitlement-mock serve` as a process: start line, SIGTERM, bad options. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import net from 'node:net';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { testPki, troublePki } from './helpers/pki.js';
import { entitlementRequest, sendEntitlementRequest } from './helpers/mock.js';
import { spawnCli, startLineOf } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { freePortBlock } from './helpers/ports.js';
import { eventually } from './helpers/eventually.js';
import { slack } from './helpers/slack.js';
import { closeAfter } from './helpers/cleanup.js';

const own = closeAfter(test.after.each);

test('serve logs its real URLs, answers, and exits 0 promptly on SIGTERM with a request held', async () => {
  const pki = await testPki();
  const child = own(
    spawnCli(['serve', '--host', '127.0.0.1', '--port', '0', '--admin-host', '127.0.0.1', '--no-watch'], {
      EM_ADMIN_PORT: '0',
      EM_CERTS: pki.dir,
    }),
  );
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
  await eventually(async () => ((await (await fetch(`${adminUrl}/admin/requests/count`)).json()) as { count: number }).count >= 2, {
    what: 'the held request in the journal',
  });

  const sentAt = Date.now();
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.is(code, 0);
  assert.ok(Date.now() - sentAt < slack(1250), `exited in ${Date.now() - sentAt} ms`);
  assert.is(await held, 'ended', 'the held request was ended by the shutdown, not answered');
});

test('the log lines on SIGTERM come in order, also into a file: "shutting down" before the last line, "stopped"', async () => {
  const pki = await testPki();
  // Into a file, as a container's log: its writes are asynchronous, and a synchronous flush at exit once overtook one.
  const logFile = join(tempDir('serve-log'), 'stdout.log');
  const out = openSync(logFile, 'w');
  const child = own(
    spawn(process.execPath, ['bin/entitlement-mock.js', 'serve', '--host', '127.0.0.1', '--port', '0', '--admin-host', '127.0.0.1', '--no-watch'], {
      env: { ...process.env, EM_ADMIN_PORT: '0', EM_CERTS: pki.dir },
      stdio: ['ignore', out, 'ignore'],
    }),
  );
  closeSync(out);
  const messages = () => readFileSync(logFile, 'utf8').trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; entitlementUrl?: string });
  const startLine = await eventually(() => {
    const found = messages().find((line) => line.entitlementUrl !== undefined);
    assert.ok(found, 'no start line yet');
    return found;
  });
  const port = Number(new URL(startLine.entitlementUrl!).port);
  for (let i = 0; i < 5; i++) {
    const reply = await sendEntitlementRequest({ port, ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' }, entitlementRequest());
    assert.is(reply.status, 200);
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.is(code, 0);
  const order = messages().map((line) => line.msg);
  // (Request lines may follow "shutting down": an exchange ends when its connection closes, which shutdown does.)
  assert.is(order.at(-1), 'stopped', order.join(', '));
  assert.ok(order.includes('shutting down') && order.indexOf('shutting down') < order.length - 1, order.join(', '));
  assert.is(order.filter((msg) => msg === 'request').length, 5);
});

test('a bad option value: one line naming it on stderr, exit code 2', async () => {
  const child = spawnCli(['serve', '--port', 'eighty']);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  assert.is(code, 2);
  assert.is(stderr, 'entitlement-mock: --port: expected an integer from 0 to 65535, got "eighty"\n');
});

/** Run serve expecting it not to start: its exit code and stderr (bounded: a start that succeeds is killed). */
async function failedStart(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const pki = await testPki();
  const child = spawnCli(['serve', '--host', '127.0.0.1', '--admin-host', '127.0.0.1', '--port', '0', '--admin-port', '0', '--no-watch', ...args], {
    EM_CERTS: pki.dir,
    ...env,
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code, stderr };
}

/** A loopback port held by another server while `use` runs. */
async function withPortTaken<T>(port: number, use: (port: number) => Promise<T>): Promise<T> {
  const holder = net.createServer();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen(port, '127.0.0.1', resolve);
  });
  try {
    return await use((holder.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
}

test('a certs folder that cannot be written names the folder and --certs/EM_CERTS; exit 1', async () => {
  // Under a regular file, so that it fails as root too (root ignores permission bits, not ENOTDIR).
  const scratch = tempDir('unwritable');
  const file = join(scratch, 'file.txt');
  writeFileSync(file, 'not a folder\n');
  const underFile = await failedStart(['--certs', join(file, 'certs')]);
  assert.is(underFile.code, 1);
  assert.is(
    underFile.stderr,
    `entitlement-mock: cannot start: cannot write the development PKI to ${join(file, 'certs')}: ${file} is a file, not a folder; ` +
      'choose another folder with --certs or EM_CERTS\n',
  );
  const isFile = await failedStart([], { EM_CERTS: file });
  assert.is(isFile.code, 1);
  assert.is(
    isFile.stderr,
    `entitlement-mock: cannot start: cannot write the development PKI to ${file}: it is a file, not a folder; choose another folder with --certs or EM_CERTS\n`,
  );
});

test('a port in use names the listener and its option; exit 1', async () => {
  await withPortTaken(0, async (port) => {
    const main = await failedStart(['--port', String(port)]);
    assert.is(main.code, 1);
    assert.is(
      main.stderr,
      `entitlement-mock: cannot start: the entitlement listener cannot listen on 127.0.0.1:${port}: the port is in use; choose another port with --port or EM_PORT\n`,
    );
  });
  await withPortTaken(0, async (port) => {
    const admin = await failedStart(['--admin-port', String(port)]);
    assert.is(admin.code, 1);
    assert.is(
      admin.stderr,
      `entitlement-mock: cannot start: the admin listener cannot listen on 127.0.0.1:${port}: the port is in use; choose another port with --admin-port or EM_ADMIN_PORT\n`,
    );
  });
  await troublePki();
  const first = await freePortBlock(6);
  await withPortTaken(first + 2, async (port) => {
    const trouble = await failedStart(['--trouble-port', String(first)]);
    assert.is(trouble.code, 1);
    assert.is(
      trouble.stderr,
      `entitlement-mock: cannot start: trouble listener 3 of 5 (untrusted-ca) cannot listen on 127.0.0.1:${port}: the port is in use; ` +
        `the trouble listeners take ${first} to ${first + 5}: choose another first port with --trouble-port or EM_TROUBLE_PORT\n`,
    );
  });
});

test('an unknown --scenario suggests the closest name, in one line; exit 1', async () => {
  const { code, stderr } = await failedStart(['--scenario', 'showcse']);
  assert.is(code, 1);
  assert.match(stderr, /^entitlement-mock: cannot start: unknown scenario "showcse" \(did you mean "showcase"\?\); known: default, .*showcase.*; choose one with --scenario or EM_SCENARIO\n$/);
  assert.is(stderr.split('\n').length, 2, 'one line, no stray newline');
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
