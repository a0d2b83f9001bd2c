/** The test helpers that keep the suite honest can fail: closeAfter closes everything, eventually gives up with a reason. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAfter } from './helpers/cleanup.js';
import { eventually } from './helpers/eventually.js';
import { cpuTimeOf } from './helpers/slack.js';

test('closeAfter closes what was owned newest first, runs every closer when one fails, then reports the failure', async () => {
  let runHook: () => Promise<void> = async () => undefined;
  const own = closeAfter((run) => (runHook = run));
  const server = own(net.createServer());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = own(net.connect((server.address() as net.AddressInfo).port, '127.0.0.1'));
  await once(client, 'connect');
  const child = own(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
  await once(child, 'spawn');
  const order: string[] = [];
  own(() => order.push('oldest step'));
  own(() => {
    order.push('failing step');
    throw new Error('this closer failed');
  });
  own(() => order.push('newest step'));

  const failure = await runHook().then(
    () => null,
    (error: Error) => error.message,
  );
  assert.is(failure, 'this closer failed');
  assert.equal(order, ['newest step', 'failing step', 'oldest step']);
  assert.is(child.signalCode, 'SIGKILL', 'the child process was killed');
  assert.ok(client.destroyed, 'the socket was destroyed');
  assert.not.ok(server.listening, 'the server was closed');
  await runHook(); // everything was handed over: a second run has nothing left to close
  assert.is(order.length, 3);
});

test('eventually returns the first truthy value, and gives up saying what it waited for and the last error', async () => {
  let calls = 0;
  assert.is(await eventually(() => ++calls >= 3 && 'ready'), 'ready');
  const message = await eventually(
    () => {
      throw new Error('not yet');
    },
    { timeoutMs: 50, what: 'the journal to hold 3 entries' },
  ).then(
    () => 'resolved',
    (error: Error) => error.message,
  );
  assert.is(message, 'gave up after 50 ms waiting for the journal to hold 3 entries (last error: Error: not yet)');
});

test('cpuTimeOf measures the CPU a step used, not the time it waited', async () => {
  const waited = await cpuTimeOf(() => new Promise((resolve) => setTimeout(resolve, 200)));
  assert.ok(waited.ms < 100, `a 200 ms wait used ${waited.ms} ms of CPU`);
  // Compute until this process has used 100 ms of CPU (on a busy machine that takes longer than 100 ms).
  const computed = await cpuTimeOf(() => {
    const before = process.cpuUsage();
    for (let used = { user: 0, system: 0 }; used.user + used.system < 100_000; used = process.cpuUsage(before));
    return 'done';
  });
  assert.is(computed.value, 'done');
  assert.ok(computed.ms >= 100 && computed.ms < 150, `100 ms of computing measured as ${computed.ms} ms of CPU`);
});

test.run();
