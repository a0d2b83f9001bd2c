/**
 * A small license-server front, written the way a correct one behaves: its client asks for a
 * license over HTTP (`POST /license`), it asks the entitlement service over mutual TLS and
 * grants only on an answer that keeps every rule of the protocol. `bugs` plants one wrong
 * behaviour per flag, for proving that a conformance run catches each.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BugFlag } from './bugs.js';
import { askEntitlementService, isRetryable, type Attempt, type Credentials } from './entitlement-call.js';
import { judgeAnswer, PROTOCOL_VERSION } from './judge.js';
import { parseLicenseRequest, type LicenseRequest } from './license-request.js';

export interface LicenseServerOptions {
  /** The entitlement service, e.g. `https://entitlement-mock:8443/entitlement`. */
  entitlementUrl: string;
  /** The client certificate, its key and the CA to trust for the service: PEM text or a file path each. */
  cert: string;
  key: string;
  ca: string;
  /** The most one license request waits for the entitlement service, all attempts together. Default 2000. */
  timeoutMs?: number;
  /** Further attempts after a 5xx, a reset, a close or a cut-short body. Default 1. */
  maxRetries?: number;
  /** Default 127.0.0.1 and 0 (a free port). */
  host?: string;
  port?: number;
  bugs?: readonly BugFlag[];
  /** Called with one line per license request answered. Default: silent. */
  log?: (line: string) => void;
}

export interface StartedLicenseServer {
  /** `http://HOST:PORT`; license requests go to `${url}/license`. */
  readonly url: string;
  /** Ends in-flight license requests and closes the listener. Safe to call twice. */
  stop(): Promise<void>;
}

/** What the license server's client gets. */
export type LicenseAnswer =
  | { status: 200; body: { license: 'granted'; epTokenURL: string } }
  | { status: 403 | 502; body: { license: 'refused'; code?: number; text?: string } };

/** The license server's own refusal code when the service gave no usable answer (the HTTP status when it gave one). */
export const NO_USABLE_ANSWER = 0;
/** What fail-open-on-5xx grants with. */
const FAIL_OPEN_TOKEN_URL = 'https://fail-open.invalid/no-entitlement-check';
/** retry-without-bound still stops somewhere (and after a timeout), so that a demo ends. */
const RUNAWAY_ATTEMPTS = 20;

interface Config {
  entitlementUrl: URL;
  credentials: Credentials;
  timeoutMs: number;
  maxRetries: number;
  bugs: ReadonlySet<BugFlag>;
  stopping: AbortSignal;
}

export async function startLicenseServer(options: LicenseServerOptions): Promise<StartedLicenseServer> {
  if (!URL.canParse(options.entitlementUrl) || new URL(options.entitlementUrl).protocol !== 'https:')
    throw new Error(`entitlementUrl: expected an https:// URL, got ${JSON.stringify(options.entitlementUrl)}`);
  const [cert, key, ca] = await Promise.all([pem(options.cert, 'cert'), pem(options.key, 'key'), pem(options.ca, 'ca')]);
  const stopping = new AbortController();
  const config: Config = {
    entitlementUrl: new URL(options.entitlementUrl),
    credentials: { cert, key, ca },
    timeoutMs: options.timeoutMs ?? 2000,
    maxRetries: options.maxRetries ?? 1,
    bugs: new Set(options.bugs ?? []),
    stopping: stopping.signal,
  };
  const log = options.log ?? (() => {});

  const server = http.createServer((request, response) => {
    handle(request, config, log).then(
      ({ status, body }) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      () => response.destroy(), // the client went away mid-request
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  let stopped: Promise<void> | null = null;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        stopping.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

type Reply = { status: number; body: object };

async function handle(request: http.IncomingMessage, config: Config, log: (line: string) => void): Promise<Reply> {
  const path = new URL(request.url ?? '/', 'http://x').pathname;
  if (path === '/health') return { status: 200, body: { status: 'ok' } };
  if (path !== '/license') return { status: 404, body: { error: `no route ${path}; license requests are POST /license` } };
  if (request.method !== 'POST') return { status: 405, body: { error: 'license requests are POST /license' } };
  const parsed = parseLicenseRequest(await readText(request));
  if (!parsed.ok) return { status: 400, body: { error: parsed.error } };
  const startedAt = performance.now();
  const { answer, attempts } = await obtainLicense(parsed.request, config);
  const { body } = answer;
  log(
    `${parsed.request.contentID}: ${body.license}` +
      (body.license === 'granted' ? '' : ` (${answer.status}${body.code === undefined ? '' : `, code ${body.code}`}${body.text === undefined ? '' : `: ${body.text}`})`) +
      ` after ${attempts} attempt${attempts === 1 ? '' : 's'}, ${Math.round(performance.now() - startedAt)} ms`,
  );
  return answer;
}

/** Asks the entitlement service (retrying within bounds) and turns what came back into the client's answer. */
async function obtainLicense(request: LicenseRequest, config: Config): Promise<{ answer: LicenseAnswer; attempts: number }> {
  const { bugs } = config;
  // The runaway retry loop gives each attempt the whole budget: the classic way a bound gets lost.
  const runaway = bugs.has('retry-without-bound');
  const budgetEnd = () => (bugs.has('no-timeout') ? null : performance.now() + config.timeoutMs);
  let deadline = budgetEnd();
  const attemptsAllowed = runaway ? RUNAWAY_ATTEMPTS : config.maxRetries + 1;
  let messageID = '';
  for (let attempts = 1; ; attempts++) {
    if (runaway && attempts > 1) deadline = budgetEnd();
    // Fresh per attempt: a late answer to an earlier attempt cannot pass for this one.
    if (attempts === 1 || !bugs.has('reuse-message-id-on-retry')) messageID = randomUUID();
    const attempt = await askEntitlementService({
      url: request.entitlementUrl ?? config.entitlementUrl,
      body: JSON.stringify({
        messageID,
        version: PROTOCOL_VERSION,
        contentID: request.contentID,
        ...(request.requestType === undefined ? {} : { requestType: request.requestType }),
        ...(request.customerCookie === undefined ? {} : { customerCookie: request.customerCookie }),
      }),
      credentials: config.credentials,
      deadline,
      verifyCertificate: !bugs.has('trust-any-certificate'),
      verifyHostName: !bugs.has('skip-host-check'),
      signal: config.stopping,
    });
    const budgetLeft = deadline === null || performance.now() < deadline;
    const timedOut = attempt.kind === 'transport' && attempt.failure === 'timeout';
    if (isRetryable(attempt) && attempts < attemptsAllowed && (runaway ? !timedOut : budgetLeft) && !config.stopping.aborted) continue;
    return { answer: conclude(attempt, messageID, config), attempts };
  }
}

function conclude(attempt: Attempt, messageID: string, config: Config): LicenseAnswer {
  if (attempt.kind === 'transport') {
    const why = attempt.failure === 'timeout' ? `no answer within ${config.timeoutMs} ms` : attempt.detail;
    return refused(502, NO_USABLE_ANSWER, `the entitlement service gave no usable answer: ${why}`);
  }
  if (attempt.status !== 200) {
    if (attempt.status >= 500 && config.bugs.has('fail-open-on-5xx')) return granted(FAIL_OPEN_TOKEN_URL);
    return refused(502, attempt.status, `the entitlement service answered HTTP ${attempt.status}`);
  }
  const judgement = judgeAnswer(attempt.bodyText, messageID, config.bugs);
  switch (judgement.kind) {
    case 'granted':
      return granted(judgement.epTokenURL);
    case 'denied':
      return { status: 403, body: { license: 'refused', ...(judgement.code === undefined ? {} : { code: judgement.code }), ...(judgement.text === undefined ? {} : { text: judgement.text }) } };
    case 'violation':
      return refused(502, NO_USABLE_ANSWER, `the entitlement service's answer breaks the protocol: ${judgement.rule}`);
  }
}

function granted(epTokenURL: string): LicenseAnswer {
  return { status: 200, body: { license: 'granted', epTokenURL } };
}

function refused(status: 502, code: number, text: string): LicenseAnswer {
  return { status, body: { license: 'refused', code, text } };
}

/** PEM text as given, or read once from the path given. */
async function pem(value: string, name: string): Promise<string> {
  if (value.includes('-----BEGIN')) return value;
  try {
    return await readFile(value, 'utf8');
  } catch (error) {
    throw new Error(`${name}: cannot read ${value}: ${(error as Error).message}`);
  }
}

/** A license request's body, at most 16 KiB (more is cut off, and then fails to parse). */
async function readText(request: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) {
    if (text.length < 16 * 1024) text += String(chunk);
  }
  return text;
}
