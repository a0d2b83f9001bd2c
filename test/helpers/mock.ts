/**
 * Start a real mock (real HTTPS with the test PKI, real admin HTTP) on free
 * loopback ports, and talk to it the way a license server and a test runner do.
 */
import https from 'node:https';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { startMock, type RunningMock } from '../../src/server/mock.js';
import { DEFAULT_OPTIONS, type MockOptions } from '../../src/server/options.js';
import { createLogger } from '../../src/server/logger.js';
import { testPki, type TestPki } from './pki.js';
import { tempDir } from './temp.js';
import { assertAnswerMatchesOpenApi, prepareOpenApiChecks } from './openapi.js';

export interface TestMock extends RunningMock {
  pki: TestPki;
  /** Log lines the mock wrote (parsed JSON). */
  logs: Record<string, unknown>[];
  /** Admin API call; JSON in and out. */
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<AdminReply>;
  /** POST an Entitlement Request (object → JSON, string → as is) with the license-server client certificate. */
  entitle(body: unknown, options?: EntitleOptions): Promise<EntitlementReply>;
}

export interface AdminReply {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

export interface EntitlementReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
  json: any;
}

export interface ClientCredentials {
  certPem: string;
  keyPem: string;
}

export interface EntitleOptions {
  /** Client certificate to present; null presents none. Default: the dev PKI's client certificate. */
  client?: ClientCredentials | null;
  method?: string;
  path?: string;
  port?: number;
  headers?: Record<string, string>;
  /** Give up after this many ms (rejects with an Error whose code is 'ETIMEDOUT'). */
  timeoutMs?: number;
  agent?: https.Agent;
  /** Verify the server certificate against the dev CA (default true). */
  verifyServer?: boolean;
  servername?: string;
}

/** Write scenario files into a fresh temp folder; returns its path. */
export async function scenarioFolder(files: Record<string, string>): Promise<string> {
  const dir = tempDir('scenarios');
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/**
 * A scenario folder whose default scenario has the three behaviours the hardening tests load a
 * mock with: contentID `stuck` hangs, `slow` answers after `slowDelay`, anything else is allowed.
 */
export function stuckSlowOkScenarios(slowDelay: string): Promise<string> {
  return scenarioFolder({
    'default.yaml': [
      'rules:',
      '  - name: stuck',
      '    match: { contentID: stuck }',
      '    respond: { fault: hang }',
      '  - name: slow',
      '    match: { contentID: slow }',
      `    respond: { delay: ${slowDelay} }`,
      '  - name: ok',
      '    respond: { isAllowed: true }',
    ].join('\n'),
  });
}

export async function startTestMock(overrides: Partial<MockOptions> = {}): Promise<TestMock> {
  const pki = await testPki();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const options: MockOptions = {
    ...DEFAULT_OPTIONS,
    scenarios: './scenarios',
    host: '127.0.0.1',
    port: 0,
    adminHost: '127.0.0.1',
    adminPort: 0,
    certs: pki.dir,
    watch: false,
    logLevel: 'info',
    seed: 42,
    ...overrides,
  };
  const mock = await startMock(options, createLogger(options.logLevel, sink));
  const adminBase = `http://127.0.0.1:${mock.adminPort}`;

  const admin = adminCaller(adminBase);

  const entitle: TestMock['entitle'] = (body, entitleOptions = {}) =>
    sendEntitlementRequest({ port: mock.port, ca: pki.caPem, defaultClient: pki.client, path: options.path }, body, entitleOptions);

  // Closing twice (a test closes its mock, then closeAfter does) closes once: a second close would write a recording again.
  const closeOnce = mock.close;
  let closing: Promise<void> | null = null;
  const close: TestMock['close'] = (graceMs) => (closing ??= closeOnce(graceMs));

  return Object.assign(mock, { pki, logs, admin, entitle, close });
}

/** Admin API calls to the mock whose admin API is at `adminBase` (http://HOST:PORT): JSON in and out, every answer checked against the OpenAPI document. */
export function adminCaller(adminBase: string): TestMock['admin'] {
  prepareOpenApiChecks();
  return async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      if (typeof body !== 'string') (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(`${adminBase}${path}`, init);
    const text = await response.text();
    assertAnswerMatchesOpenApi(method, path, response.status, response.headers.get('content-type'), text);
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: response.status, headers: response.headers, json, text };
  };
}

/** node:https options for one Entitlement Request to a test mock, as a license server sends it (mTLS, JSON, no agent). */
export function entitlementRequestOptions(mock: TestMock, client: ClientCredentials | null = mock.pki.client): https.RequestOptions {
  return {
    host: '127.0.0.1',
    servername: 'localhost',
    port: mock.port,
    path: '/entitlement',
    method: 'POST',
    ca: mock.pki.caPem,
    ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
    agent: false,
    headers: { 'content-type': 'application/json' },
  };
}

export function sendEntitlementRequest(
  target: { port: number; ca: string; defaultClient: ClientCredentials; path: string },
  body: unknown,
  options: EntitleOptions = {},
): Promise<EntitlementReply> {
  const client = options.client === undefined ? target.defaultClient : options.client;
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        servername: options.servername ?? 'localhost',
        port: options.port ?? target.port,
        path: options.path ?? target.path,
        method: options.method ?? 'POST',
        ca: target.ca,
        rejectUnauthorized: options.verifyServer ?? true,
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
        agent: options.agent ?? false,
        headers: { 'content-type': 'application/json', ...options.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const bodyText = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(bodyText);
          } catch {
            // raw bodies are allowed
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, bodyText, json });
        });
      },
    );
    if (options.timeoutMs !== undefined) {
      request.setTimeout(options.timeoutMs, () => {
        const error = Object.assign(new Error(`no response within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' });
        request.destroy(error);
      });
    }
    request.on('error', reject);
    if (options.method === undefined || options.method === 'POST') request.end(payload);
    else request.end();
  });
}

/** A well-formed Entitlement Request with fresh GUIDs. */
export function entitlementRequest(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { messageID: randomUUID(), version: 1, contentID: randomUUID(), ...fields };
}

/** Wait for a condition (re-exported: many tests take it from here with the mock). */
export { eventually } from './eventually.js';
