/** `entitlement-mock health`: the container healthcheck, against a live mock, a dead port and wrong answers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../src/cli/health.js';
import { runCaptured, type CliResult } from './helpers/cli.js';
import { startTestMock, type TestMock } from './helpers/mock.js';
import { slack } from './helpers/slack.js';

const health = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> => runCaptured(run, args, env);

/** A plain HTTP server answering every request with `handler`; returns its /health URL. */
async function fakeAdmin(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/health`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const fake = await fakeAdmin(() => {});
  const port = Number(new URL(fake.url).port);
  await fake.close();
  return port;
}

let mock: TestMock;
test.before(async () => {
  mock = await startTestMock();
});
test.after(async () => {
  await mock.close();
});

test('a live mock: exit 0, naming the active scenario', async () => {
  const result = await health(['--url', `${mock.adminUrl}/health`]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^healthy: scenario default, up \d+ s/);
});

test('without --url it asks 127.0.0.1 on EM_ADMIN_PORT, as the image HEALTHCHECK does', async () => {
  const result = await health([], { EM_ADMIN_PORT: String(mock.adminPort), EM_ADMIN_HOST: undefined });
  assert.is(result.code, 0, result.stderr);
});

test('/health never needs the admin token', async () => {
  const guarded = await startTestMock({ adminToken: 'secret' });
  try {
    assert.is((await health(['--url', `${guarded.adminUrl}/health`])).code, 0);
  } finally {
    await guarded.close();
  }
});

test('a dead admin port: exit 1, saying the connection was refused', async () => {
  const port = await deadPort();
  const result = await health(['--url', `http://127.0.0.1:${port}/health`]);
  assert.is(result.code, 1);
  assert.match(result.stderr, 'connection refused');
  const fromEnv = await health([], { EM_ADMIN_PORT: String(port), EM_ADMIN_HOST: undefined });
  assert.is(fromEnv.code, 1);
});

test('an admin port that never answers: exit 1 within the timeout', async () => {
  const silent = await fakeAdmin(() => {});
  try {
    const result = await health(['--url', silent.url, '--timeout', '200']);
    assert.is(result.code, 1);
    assert.match(result.stderr, 'no answer within 200 ms');
    assert.ok(result.ms < slack(375), `took ${result.ms} ms`);
  } finally {
    await silent.close();
  }
});

test('answers that are not "ok": exit 1 with the reason', async () => {
  const cases: [number, string, string][] = [
    [503, JSON.stringify({ status: 'ok' }), 'HTTP 503'],
    [200, JSON.stringify({ status: 'starting' }), 'status is "starting"'],
    [200, '<html>ok</html>', 'not a JSON object'],
  ];
  for (const [status, body, reason] of cases) {
    const fake = await fakeAdmin((_request, response) => response.writeHead(status, { 'content-type': 'application/json' }).end(body));
    try {
      const result = await health(['--url', fake.url]);
      assert.is(result.code, 1, body);
      assert.match(result.stderr, reason);
    } finally {
      await fake.close();
    }
  }
});

test('bad usage: exit 2', async () => {
  assert.is((await health(['--url', 'not a url'])).code, 2);
  assert.is((await health(['--timeout', 'soon'])).code, 2);
  assert.is((await health(['--bogus'])).code, 2);
});

test.run();
