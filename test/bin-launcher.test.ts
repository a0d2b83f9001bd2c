/**
 * bin/entitlement-mock, what `npm start`, npx and the image run: it starts node on the start-up
 * snapshot that `npm run build` made with this node (dist/snapshot/), and otherwise runs
 * bin/entitlement-mock.js as it is. Either way the mock answers, stops on SIGTERM with 0, and
 * node replaces the shell (the pid the caller holds is node's).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startLineOf } from './helpers/cli.js';
import { testPki } from './helpers/pki.js';
import { tempDir } from './helpers/temp.js';

const REPO = resolve('.');
const LAUNCHER = join(REPO, 'bin/entitlement-mock');

function serve(launcher: string, args: string[] = [], env: Record<string, string> = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(launcher, ['serve', '--port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--admin-host', '127.0.0.1', '--no-watch', ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** How node was started: the arguments of the process behind the pid the caller holds. */
const commandLineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

async function entitle(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const pki = await testPki();
  const messageID = crypto.randomUUID();
  const payload = JSON.stringify({ messageID, version: 1, contentID: crypto.randomUUID() });
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method: 'POST', ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem, servername: 'localhost', agent: false, headers: { 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** Starts the mock through `launcher`, checks it answers and stops with 0 on SIGTERM; returns node's arguments. */
async function serveAndStop(launcher: string, args: string[] = [], env: Record<string, string> = {}): Promise<string[]> {
  const child = serve(launcher, ['--certs', (await testPki()).dir, ...args], env);
  try {
    const { startLine } = await startLineOf(child, 30_000);
    const nodeArgs = commandLineOf(child.pid!);
    const answer = await entitle(startLine.entitlementUrl);
    assert.is(answer.status, 200);
    assert.is(answer.body.isAllowed, true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 0, 'SIGTERM to the pid of the bin stops node with 0');
    return nodeArgs;
  } finally {
    child.kill('SIGKILL');
  }
}

/** A copy of the package's bin/ and dist/snapshot/ (dist/bundle linked) to change the snapshot's files in. */
function packageCopy(): string {
  const root = tempDir('launcher');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist'));
  for (const file of ['entitlement-mock', 'entitlement-mock.js']) copyFileSync(join(REPO, 'bin', file), join(root, 'bin', file));
  cpSync(join(REPO, 'dist/snapshot'), join(root, 'dist/snapshot'), { recursive: true });
  symlinkSync(join(REPO, 'dist/bundle'), join(root, 'dist/bundle'));
  writeFileSync(join(root, 'package.json'), readFileSync(join(REPO, 'package.json')));
  return root;
}

test('npm run build made a start-up snapshot with this node, and the bin serves from it', async () => {
  const nodeArgs = await serveAndStop(LAUNCHER);
  assert.is(nodeArgs[1], '--snapshot-blob', `node started on the snapshot: ${nodeArgs.join(' ')}`);
  assert.is(resolve(nodeArgs[2]!), join(REPO, 'dist/snapshot/entitlement-mock.blob'));
  assert.is(nodeArgs[3], join(REPO, 'bin/entitlement-mock.js'), 'the script node would run, as argv[1]');
});

test('through a symlink (node_modules/.bin, /usr/local/bin in the image), with --workers: the snapshot, forked the same way', async () => {
  const link = join(tempDir('launcher-link'), 'entitlement-mock');
  symlinkSync(LAUNCHER, link);
  const nodeArgs = await serveAndStop(link, ['--workers', '2']);
  assert.is(nodeArgs[1], '--snapshot-blob');
});

test('a snapshot another node built is not used: the bin runs bin/entitlement-mock.js', async () => {
  const root = packageCopy();
  writeFileSync(join(root, 'dist/snapshot/node.stamp'), '1 2\n');
  const nodeArgs = await serveAndStop(join(root, 'bin/entitlement-mock'));
  assert.equal(nodeArgs.slice(1, 3), [join(root, 'bin/entitlement-mock.js'), 'serve'], nodeArgs.join(' '));
});

test('no snapshot (a build that could not make one), or NODE_OPTIONS given: the bin runs bin/entitlement-mock.js', async () => {
  const root = packageCopy();
  rmSync(join(root, 'dist/snapshot/entitlement-mock.blob'));
  assert.equal((await serveAndStop(join(root, 'bin/entitlement-mock'))).slice(1, 3), [join(root, 'bin/entitlement-mock.js'), 'serve']);
  // node refuses a snapshot when NODE_OPTIONS changes V8's flags: the bin does not try.
  assert.equal((await serveAndStop(LAUNCHER, [], { NODE_OPTIONS: '--max-old-space-size=512' })).slice(1, 3), [join(REPO, 'bin/entitlement-mock.js'), 'serve']);
});

test.run();
