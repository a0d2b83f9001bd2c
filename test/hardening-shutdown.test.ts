/**
 * Issue 6, part 7: SIGTERM while under load, with hung, delayed and half-sent
 * requests, ends the process with 0 within 5 s; a new process on the same
 * ports starts at once (no EADDRINUSE from lingering sockets).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { testPki, type TestPki } from './helpers/pki.js';
import { entitlementRequest, stuckSlowOkScenarios, sendEntitlementRequest, type EntitlementReply } from './helpers/mock.js';
import { freePortBlock } from './helpers/ports.js';
import { RawConnection, httpPost } from './helpers/raw-tls.js';
import { eventually } from './helpers/eventually.js';
import { slack } from './helpers/slack.js';

const CLI = ['--import', 'tsx', 'src/cli/entry.ts'];

interface Served {
  child: ChildProcess;
  output: string[];
}

/** Start `serve` on fixed ports; resolves at its start line, rejects if it exits first. */
async function serve(pki: TestPki, scenarios: string, port: number, adminPort: number): Promise<Served> {
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--admin-host', '127.0.0.1', '--admin-port', String(adminPort)];
  const child = spawn(process.execPath, [...CLI, ...args, '--no-watch', '--scenarios', scenarios, '--certs', pki.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line within 15 s: ${output.join('')}`)), 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.includes('"entitlementUrl"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before starting: ${output.join('\n')}`));
    });
  });
  return { child, output };
}

test('SIGTERM under load with hung, delayed and half-sent requests exits 0 within 5 s; a restart on the same ports works at once', async () => {
  const pki = await testPki();
  const scenarios = await stuckSlowOkScenarios('1s');
  const port = await freePortBlock(2);
  const adminPort = port + 1;
  const first = await serve(pki, scenarios, port, adminPort);
  try {
    await loadThenTerminate(first, pki, port, adminPort);
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
  }
  // A new process on the same two ports, at once.
  await restartOnTheSamePorts(pki, scenarios, port, adminPort);
});

async function loadThenTerminate(first: Served, pki: TestPki, port: number, adminPort: number): Promise<void> {
  const target = { port, ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' };
  // Load: 50 keep-alive clients, 10 hung requests, 5 delayed ones, 5 bodies half sent.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 50 });
  let stop = false;
  let answered = 0;
  const loop = async () => {
    while (!stop) {
      const reply = await sendEntitlementRequest(target, entitlementRequest(), { agent, timeoutMs: 5000 }).catch(() => null);
      if (reply === null) return; // the mock went away: this client is done
      if (reply.status === 200) answered++;
    }
  };
  const clients = Array.from({ length: 50 }, loop);
  const hung = Array.from({ length: 10 }, () =>
    sendEntitlementRequest(target, entitlementRequest({ contentID: 'stuck' }), { timeoutMs: 10_000 }).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => (error.code === 'ETIMEDOUT' ? 'still held' : 'ended'),
    ),
  );
  const halfSent = await Promise.all(Array.from({ length: 5 }, () => RawConnection.open({ port, caPem: pki.caPem, client: pki.client })));
  for (const connection of halfSent) connection.write(httpPost('/entitlement', '{"messageID":', { 'Content-Length': 300 }));
  const count = async (query: string) => ((await (await fetch(`http://127.0.0.1:${adminPort}/admin/requests/count?${query}`)).json()) as { count: number }).count;
  await eventually(async () => (await count('rule=stuck')) >= 10, { what: 'the hung requests at the mock' });
  const delayed = Array.from({ length: 5 }, () => sendEntitlementRequest(target, entitlementRequest({ contentID: 'slow' }), { timeoutMs: 10_000 }));
  await eventually(async () => (await count('rule=slow')) >= 5, { what: 'the delayed requests at the mock' });
  const answeredBefore = answered;
  assert.ok(answeredBefore > 0, 'the load is running');

  const signalledAt = Date.now();
  first.child.kill('SIGTERM');
  const [code] = await once(first.child, 'exit');
  const exitMs = Date.now() - signalledAt;
  stop = true;
  assert.is(code, 0, first.output.slice(-5).join('\n'));
  // The 1 s delays finish, then the process exits: 5 s with the default slack.
  assert.ok(exitMs < 1000 + slack(1000), `exited ${exitMs} ms after SIGTERM`);

  // In flight at SIGTERM: delayed answers were finished, held ones ended, not answered.
  const delayedReplies = await Promise.all(delayed.map((reply) => reply.catch((error: Error) => error)));
  assert.ok(
    delayedReplies.every((reply) => (reply as EntitlementReply).status === 200),
    `delayed answers finished: ${delayedReplies.map((reply) => (reply as EntitlementReply).status ?? (reply as Error).message).join(', ')}`,
  );
  assert.equal(await Promise.all(hung), Array(10).fill('ended'));
  await Promise.all(clients);
  agent.destroy();
  for (const connection of halfSent) connection.close();
}

async function restartOnTheSamePorts(pki: TestPki, scenarios: string, port: number, adminPort: number): Promise<void> {
  const target = { port, ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' };
  const restartedAt = Date.now();
  const second = await serve(pki, scenarios, port, adminPort);
  try {
    const reply = await sendEntitlementRequest(target, entitlementRequest());
    assert.is(reply.status, 200);
    const health = await fetch(`http://127.0.0.1:${adminPort}/health`);
    assert.is(health.status, 200);
    assert.not.ok(second.output.join('\n').includes('EADDRINUSE'));
    assert.ok(Date.now() - restartedAt < slack(3750), `restarted in ${Date.now() - restartedAt} ms`);
  } finally {
    second.child.kill('SIGTERM');
    const [secondCode] = await once(second.child, 'exit');
    assert.is(secondCode, 0);
  }
}

test.run();
