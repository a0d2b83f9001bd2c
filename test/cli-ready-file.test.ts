/**
 * --ready-file for harnesses, and stopping: SIGTERM to the pid of `npm start` or of
 * `npx entitlement-mock` stops the mock and frees its ports (npm runs the bin through
 * `sh -c`; these run the built bin, which `npm ci` builds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnCli } from './helpers/cli.js';
import { eventually } from './helpers/mock.js';
import { testPki } from './helpers/pki.js';
import { portIsFree } from './helpers/ports.js';
import { tempDir } from './helpers/temp.js';

interface Ready {
  entitlementUrl: string;
  adminUrl: string;
  pid: number;
}

/** The environment of a mock on free loopback ports with the test PKI, silent, writing `readyFile`. */
async function mockEnv(readyFile: string): Promise<Record<string, string>> {
  return {
    EM_PORT: '0',
    EM_ADMIN_PORT: '0',
    EM_HOST: '127.0.0.1',
    EM_ADMIN_HOST: '127.0.0.1',
    EM_CERTS: (await testPki()).dir,
    EM_WATCH: 'false',
    EM_LOG_LEVEL: 'silent',
    EM_READY_FILE: readyFile,
  };
}

/** The ready file's content once it is there (bounded wait); it only ever appears whole. */
async function readyOf(readyFile: string, child: ChildProcess): Promise<Ready> {
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  await eventually(() => existsSync(readyFile) || exited !== null, 30_000);
  assert.is(exited, null, 'the mock exited before it was ready');
  return JSON.parse(readFileSync(readyFile, 'utf8')) as Ready;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

/**
 * The built bin runs an esbuild bundle whose chunks sit elsewhere than the modules under src/:
 * what the admin API reads from the package (the OpenAPI document's version, the dashboard)
 * must be found from there too.
 */
async function assertBundleServesItsFiles(adminUrl: string): Promise<void> {
  const openapi = await fetch(`${adminUrl}/admin/openapi.json`);
  assert.is(openapi.status, 200, await openapi.clone().text());
  assert.equal(await openapi.json(), JSON.parse(readFileSync('schema/admin-api.openapi.json', 'utf8')));
  const dashboard = await fetch(`${adminUrl}/`);
  assert.is(dashboard.status, 200);
  assert.match(await dashboard.text(), /<html/);
  for (const path of ['/admin/report', '/admin/scenarios', '/metrics']) assert.is((await fetch(`${adminUrl}${path}`)).status, 200, path);
}

/** Starts a mock with `start`, checks the ready file, SIGTERMs the started pid, and checks nothing is left. */
async function startAndTerminate(start: (env: Record<string, string>) => ChildProcess): Promise<void> {
  const folder = tempDir('ready');
  const readyFile = join(folder, 'mock.json');
  const child = start(await mockEnv(readyFile));
  let ready: Ready | null = null;
  try {
    ready = await readyOf(readyFile, child);
    const ports = [Number(new URL(ready.entitlementUrl).port), Number(new URL(ready.adminUrl).port)];
    assert.is((await (await fetch(`${ready.adminUrl}/health`)).json()).status, 'ok');
    assert.ok(alive(ready.pid));
    await assertBundleServesItsFiles(ready.adminUrl);

    child.kill('SIGTERM');
    await exitOf(child);
    const pid = ready.pid;
    await eventually(async () => !alive(pid) && (await portIsFree(ports[0] as number)) && (await portIsFree(ports[1] as number)), 10_000);
    assert.not.ok(existsSync(readyFile), 'the ready file is removed on a clean stop');
  } finally {
    // A failed check must not leave the mock running (it would hold this test file open).
    child.kill('SIGKILL');
    if (ready !== null && alive(ready.pid)) process.kill(ready.pid, 'SIGKILL');
  }
}

test('--ready-file: {entitlementUrl, adminUrl, pid} written once both listeners accept, even with log level silent', async () => {
  const folder = tempDir('ready');
  const readyFile = join(folder, 'mock.json');
  const env = await mockEnv(join(folder, 'unused.json'));
  const child = spawnCli(['serve', '--ready-file', readyFile], env);
  try {
    const ready = await readyOf(readyFile, child);
    assert.equal(Object.keys(ready).sort(), ['adminUrl', 'entitlementUrl', 'pid'], 'the command line wins over EM_READY_FILE');
    assert.is(ready.pid, child.pid);
    assert.match(ready.entitlementUrl, /^https:\/\/127\.0\.0\.1:\d+\/entitlement$/);
    assert.match(ready.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.is((await (await fetch(`${ready.adminUrl}/health`)).json()).status, 'ok', 'the admin listener accepts');
    await new Promise<void>((resolve, reject) => {
      const url = new URL(ready.entitlementUrl);
      net.connect({ host: url.hostname, port: Number(url.port) }, function (this: net.Socket) {
        this.destroy();
        resolve();
      }).once('error', reject);
    });
    assert.equal(readdirSync(folder), ['mock.json'], 'written through a temporary name, nothing else left');
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.kill('SIGTERM');
    assert.is(await exitOf(child), 0);
    assert.is(stdout, '', 'silent');
    assert.equal(readdirSync(folder), [], 'removed on a clean stop');
  } finally {
    child.kill('SIGKILL');
  }
});

test('an unwritable --ready-file stops the mock with a message naming the option', async () => {
  const env = await mockEnv(join(tempDir('ready'), 'no', 'such', 'folder', 'mock.json'));
  const child = spawnCli(['serve'], env);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  assert.is(await exitOf(child), 1);
  assert.match(stderr, /cannot write the ready file --ready-file .*mock\.json \(EM_READY_FILE\)/);
});

test('kill -TERM <pid of npm start> stops the mock and frees its ports', async () => {
  await startAndTerminate((env) => spawn('npm', ['start', '--silent'], { env: { ...process.env, ...env }, stdio: 'ignore' }));
});

test('kill -TERM <pid of npx entitlement-mock> stops the mock and frees its ports', async () => {
  await startAndTerminate((env) => spawn('npx', ['--no-install', 'entitlement-mock', 'serve'], { env: { ...process.env, ...env }, stdio: 'ignore' }));
});

test.run();
