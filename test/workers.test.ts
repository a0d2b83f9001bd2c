/**
 * --workers 2 over real mutual TLS: the CLI as a child process (a cluster primary and two
 * workers), asked as a license server would (a new connection per request, so the primary's
 * round-robin spreads them over both workers). A journal entry's id names its worker (id % 128).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnCli, startLineOf } from './helpers/cli.js';
import { entitlementRequest, eventually, scenarioFolder, sendEntitlementRequest } from './helpers/mock.js';
import { tempDir } from './helpers/temp.js';
import { slack } from './helpers/slack.js';
import { openEventStream } from './helpers/event-stream.js';
import https from 'node:https';
import tls from 'node:tls';
import net from 'node:net';

const NINE_STEPS = `name: default
rules:
  - name: nine
    match: { contentID: nine }
    sequence: [${Array.from({ length: 9 }, (_, step) => `{ isAllowed: true, epTokenURL: "https://t.example/${step}" }`).join(', ')}]
  - name: anything
    respond: { isAllowed: true, epTokenURL: "https://t.example/any" }
`;

const certs = tempDir('workers-certs');
let child: ReturnType<typeof spawnCli>;
const logs: Record<string, any>[] = [];
let adminUrl = '';
let workerPids: number[] = [];
let troublePorts: Record<string, number> = {};
const readyFile = join(certs, 'ready.json');
const target = { port: 0, path: '/entitlement', ca: '', defaultClient: { certPem: '', keyPem: '' } };

test.before(async () => {
  const scenarios = await scenarioFolder({ 'default.yaml': NINE_STEPS });
  await copyFile('scenarios/device-binding.yaml', join(scenarios, 'device-binding.yaml'));
  child = spawnCli(['--workers', '2', '--port', '0', '--admin-port', '0', '--trouble-port', '0', '--certs', certs, '--scenarios', scenarios, '--log-level', 'info', '--ready-file', readyFile]);
  // Three processes, each loading the sources through tsx: slower to start than one.
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const { startLine, lines } = await startLineOf(child, slack(8_000)).catch((error: Error) => {
    // uvu does not show what failed in a before hook.
    console.error(`${error.message}; stderr: ${stderr.join('')}`);
    throw error;
  });
  troublePorts = startLine.troublePorts;
  lines.on('line', (line) => logs.push(JSON.parse(line)));
  target.port = Number(new URL(startLine.entitlementUrl).port);
  adminUrl = startLine.adminUrl;
  workerPids = startLine.workerPids;
  target.ca = await readFile(join(certs, 'ca.crt'), 'utf8');
  target.defaultClient = { certPem: await readFile(join(certs, 'client.crt'), 'utf8'), keyPem: await readFile(join(certs, 'client.key'), 'utf8') };
});
const entitle = (fields: Record<string, unknown> = {}) => sendEntitlementRequest(target, entitlementRequest(fields));
const admin = async (method: string, path: string, body?: unknown) => {
  const reply = await fetch(`${adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' } }),
  });
  return { status: reply.status, json: (await reply.json()) as any };
};
const workerOf = (entry: { id: number }) => entry.id % 128;

test.after(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

test('the ready file names the group once every worker listens', async () => {
  const ready = await eventually(async () => JSON.parse(await readFile(readyFile, 'utf8').catch(() => 'null')), { what: 'the ready file' });
  assert.is(new URL(ready.entitlementUrl).port, String(target.port));
  assert.is(ready.adminUrl, adminUrl);
  assert.is(ready.pid, child.pid);
  assert.is((await entitle()).status, 200);
});

test('the trouble listeners run in every worker; the TLS refusals of both are listed', async () => {
  await admin('POST', '/admin/reset');
  assert.type(troublePorts.expired, 'number');
  const refusals = 4;
  for (let i = 0; i < refusals; i++) {
    const refused = await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', port: troublePorts.expired!, ca: target.ca, cert: target.defaultClient.certPem, key: target.defaultClient.keyPem });
      socket.once('secureConnect', () => (socket.destroy(), resolve('accepted')));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    assert.is(refused, 'CERT_HAS_EXPIRED');
  }
  const listing = await eventually(async () => {
    const { json } = await admin('GET', '/admin/tls-failures');
    return json.total === refusals ? json : null;
  }, { what: `${refusals} refusals over both workers` });
  assert.ok(listing.failures.every((failure: { listener: string }) => failure.listener === 'expired'));
});

test('a 9-step sequence hands out each step exactly once across both workers, under 30 concurrent clients', async () => {
  await admin('POST', '/admin/reset');
  const replies = await Promise.all(Array.from({ length: 30 }, () => entitle({ contentID: 'nine' })));
  assert.ok(replies.every((reply) => reply.status === 200));
  const { json } = await admin('GET', '/admin/requests?contentID=nine');
  const steps = json.requests.map((entry: { step: number }) => entry.step).sort((a: number, b: number) => a - b);
  assert.equal(steps, [0, 1, 2, 3, 4, 5, 6, 7, ...Array(22).fill(8)], 'steps 0-7 once each, the last step repeats');
  assert.equal(new Set(json.requests.map(workerOf)), new Set([1, 2]), 'both workers answered');
  const times = json.requests.map((entry: { time: string }) => entry.time);
  assert.equal(times, [...times].sort(), 'merged in time order');
  await admin('POST', '/admin/reset');
  await Promise.all([entitle({ contentID: 'nine' }), entitle({ contentID: 'nine' })]);
  const again = (await admin('GET', '/admin/requests?contentID=nine')).json.requests.map((entry: { step: number }) => entry.step);
  assert.equal(again.sort(), [0, 1], 'a reset starts the sequence again on every worker');
});

test('device binding: registered through one worker, bound on the other', async () => {
  await admin('POST', '/admin/reset');
  assert.is((await admin('PUT', '/admin/scenarios/active', { name: 'device-binding' })).status, 200);
  const cookie = `cookie-${Date.now()}`;
  assert.is(((await entitle({ requestType: 2, customerCookie: cookie })).json as any).isAllowed, true);
  for (let i = 0; i < 4; i++) assert.is(((await entitle({ requestType: 3, customerCookie: cookie })).json as any).isAllowed, true);
  const { json } = await admin('GET', '/admin/requests?rule=device-bound');
  assert.is(json.requests.length, 4);
  const registeredOn = workerOf((await admin('GET', '/admin/requests?rule=register-device')).json.requests[0]);
  assert.ok(json.requests.some((entry: { id: number }) => workerOf(entry) !== registeredOn), 'a device-bound request on the other worker');
  const state = await admin('GET', '/admin/state');
  assert.is(state.json.scenario.keys[cookie]?.state, 'registered', JSON.stringify(state.json.scenario));
  assert.is((await admin('DELETE', '/admin/state')).json.cleared, 1);
  assert.is(((await entitle({ requestType: 3, customerCookie: cookie })).json as any).isAllowed, false, 'cleared on every worker');
  assert.is((await admin('PUT', '/admin/scenarios/active', { name: 'default' })).status, 200);
});

test('a session created through the admin API answers on every worker; a wait is satisfied by either; reset clears all', async () => {
  const created = await admin('POST', '/admin/sessions', { key: { contentID: 'session-*' }, rules: [{ name: 'in-session', respond: { isAllowed: false, error: 7, errorText: 'session' } }] });
  assert.is(created.status, 201, JSON.stringify(created.json));
  const waiting = admin('GET', `/admin/requests/count?session=${created.json.id}&wait=20s&count=6`);
  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => entitle({ contentID: `session-${i}` })));
  assert.equal(replies.map((reply) => (reply.json as any).error), Array(6).fill(7));
  const waited = await waiting;
  assert.is(waited.json.waited.reason, 'matched');
  assert.is(waited.json.count, 6);
  const { json } = await admin('GET', `/admin/requests?session=${created.json.id}`);
  assert.equal(new Set(json.requests.map(workerOf)), new Set([1, 2]));
  assert.is((await admin('POST', '/admin/reset')).status, 200);
  assert.is((await admin('GET', '/admin/requests')).json.requests.length, 0, 'reset cleared both journals');
  assert.equal((await admin('GET', '/admin/sessions')).json.sessions, []);
  assert.is((await entitle({ contentID: 'session-9' })).status, 200);
  assert.is(((await admin('GET', '/admin/requests?contentID=session-9')).json.requests[0]).session, null, 'no worker kept the session');
});

test('the report card covers the requests of both workers', async () => {
  await admin('POST', '/admin/reset');
  await Promise.all(Array.from({ length: 7 }, () => entitle()));
  const { json: journal } = await admin('GET', '/admin/requests');
  assert.equal(new Set(journal.requests.map(workerOf)), new Set([1, 2]));
  const { status, json: report } = await admin('GET', '/admin/report');
  assert.is(status, 200);
  assert.is(report.requests, 7);
  assert.is(report.missing, undefined);
});

test('a stateless rule is answered inside the worker: it answers while the primary is stopped', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.is((await sendEntitlementRequest(target, entitlementRequest(), { agent })).status, 200);
    process.kill(child.pid!, 'SIGSTOP');
    try {
      // The same kept-alive connection: the primary (which hands out new connections) is not needed.
      const reply = await sendEntitlementRequest(target, entitlementRequest(), { agent, timeoutMs: slack(2000) });
      assert.is(reply.status, 200);
      assert.is((reply.json as { epTokenURL: string }).epTokenURL, 'https://t.example/any');
    } finally {
      process.kill(child.pid!, 'SIGCONT');
    }
  } finally {
    agent.destroy();
  }
});

test('TLS sessions resume on either worker (the group shares its ticket keys)', async () => {
  await admin('POST', '/admin/reset');
  const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
  try {
    for (let i = 0; i < 8; i++) assert.is((await sendEntitlementRequest(target, entitlementRequest(), { agent })).status, 200);
  } finally {
    agent.destroy();
  }
  const { json } = await admin('GET', '/admin/requests');
  const resumed = json.requests.filter((entry: { tls: { resumed: boolean } }) => entry.tls.resumed);
  assert.ok(resumed.length >= 6, `${resumed.length} of 8 connections resumed`);
  assert.equal(new Set(resumed.map(workerOf)), new Set([1, 2]), 'resumed on both workers');
});

test('the live feed shows entries of both workers; /metrics counts both', async () => {
  const before = requestsCounted(await (await fetch(`${adminUrl}/metrics`)).text());
  const stream = await openEventStream(`${adminUrl}/admin/events`);
  try {
    await stream.next((event) => event.event === 'hello');
    const sent = Array.from({ length: 4 }, () => entitlementRequest());
    for (const request of sent) await sendEntitlementRequest(target, request);
    for (const request of sent) await stream.next((event) => event.event === 'entry' && event.data.request.contentID === request.contentID);
    const ids = stream.events.filter((event) => event.event === 'entry').map((event) => event.data.id as number);
    assert.equal(new Set(ids.map((id) => workerOf({ id }))), new Set([1, 2]));
  } finally {
    stream.close();
  }
  await eventually(async () => requestsCounted(await (await fetch(`${adminUrl}/metrics`)).text()) === before + 4, { what: '/metrics to count the 4 requests of both workers' });
});

/** The sum of entitlement_mock_requests_total over its labels. */
function requestsCounted(metrics: string): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith('entitlement_mock_requests_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

test('a conformance run sees the requests every worker took', async () => {
  const started = await admin('POST', '/admin/conformance/runs', { cases: ['granted-with-token-url', 'refused-with-error-and-text', 'refused-without-error'] });
  assert.is(started.status, 201, JSON.stringify(started.json));
  const run = started.json;
  for (const testCase of run.cases) {
    const reply = await entitle({ contentID: testCase.contentID });
    const answer = reply.json as { isAllowed: boolean; error?: number; errorText?: string };
    const outcome = answer.isAllowed ? { license: 'granted' } : { license: 'refused', ...(answer.error === undefined ? {} : { code: answer.error }), ...(answer.errorText === undefined ? {} : { text: answer.errorText }) };
    const judged = await admin('POST', `/admin/conformance/runs/${run.id}/cases/${testCase.id}`, outcome);
    assert.is(judged.json.verdict, 'pass', JSON.stringify(judged.json));
  }
  const report = await admin('GET', `/admin/conformance/runs/${run.id}`);
  assert.is(report.json.verdict, 'pass', JSON.stringify(report.json));
  assert.is((await admin('DELETE', `/admin/conformance/runs/${run.id}`)).status, 200);
});

test('a worker that does not answer fails a journal query closed, naming it; partial=true answers with the rest', async () => {
  await admin('POST', '/admin/reset');
  for (let i = 0; i < 4; i++) await entitle();
  const stopped = workerPids[1]!;
  process.kill(stopped, 'SIGSTOP');
  try {
    const failed = await admin('GET', '/admin/requests');
    assert.is(failed.status, 503);
    assert.equal(failed.json.missing, ['worker 2']);
    assert.match(failed.json.message, 'worker 2');
    const partial = await admin('GET', '/admin/requests?partial=true');
    assert.is(partial.status, 200);
    assert.equal(partial.json.missing, ['worker 2']);
    assert.ok(partial.json.requests.every((entry: { id: number }) => workerOf(entry) === 1));
  } finally {
    process.kill(stopped, 'SIGCONT');
  }
  assert.is((await admin('GET', '/admin/requests')).json.requests.length, 4);
});

test('a killed worker is forked again, the journal counts what it lost, serving goes on', async () => {
  await admin('POST', '/admin/reset');
  for (let i = 0; i < 6; i++) await entitle();
  const { json } = await admin('GET', '/admin/requests');
  const held = json.requests.filter((entry: { id: number }) => workerOf(entry) === 1).length;
  assert.ok(held > 0, 'worker 1 took some of the requests');
  const died = logs.length;
  process.kill(workerPids[0]!, 'SIGKILL');
  await eventually(() => logs.slice(died).some((line) => /worker \d died/.test(line.msg)), { what: 'the death logged', timeoutMs: slack(4000) });
  await eventually(() => logs.slice(died).some((line) => /worker 1 forked again and listening/.test(line.msg)), { what: 'worker 1 forked again', timeoutMs: slack(4000) });
  const after = (await admin('GET', '/admin/requests')).json;
  // The query above had the worker say how many entries it held: exactly those are lost.
  assert.is(after.dropped, held, 'dropped counts the entries the dead worker held');
  assert.is(after.requests.length, json.requests.length - held);
  const death = logs.slice(died).find((line) => /worker \d died/.test(line.msg));
  assert.is(death?.lostEntries, held);
  assert.is(death?.worker, 1);
  const replies = await Promise.all(Array.from({ length: 6 }, () => entitle()));
  assert.ok(replies.every((reply) => reply.status === 200));
  const served = (await admin('GET', '/admin/requests')).json.requests.slice(-6);
  assert.equal(new Set(served.map(workerOf)), new Set([1, 2]), 'the new worker 1 serves beside worker 2');
});

test('a worker that cannot start stops the group, saying why', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (taken.address() as net.AddressInfo).port;
    const failing = spawnCli(['--workers', '2', '--host', '127.0.0.1', '--port', String(port), '--admin-port', '0', '--certs', certs, '--log-level', 'warn']);
    let stderr = '';
    failing.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => failing.kill('SIGKILL'), slack(8_000));
      failing.once('exit', (exitCode) => (clearTimeout(timer), resolve(exitCode)));
    });
    assert.is(code, 1, stderr);
    assert.match(stderr, 'the port is in use');
    assert.match(stderr, /worker \d exited before listening/);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

test('SIGTERM stops the group within the grace period', async () => {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = performance.now();
  child.kill('SIGTERM');
  assert.is(await exited, 0);
  assert.ok(performance.now() - started < slack(2000), "stopped within the grace period");
});

test.run();
