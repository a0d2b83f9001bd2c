/**
 * `entitlement-mock request`: send one Entitlement Request the way a license server
 * does (HTTPS POST, JSON body, client certificate), print the response and the
 * protocol checks. Pointed at a real entitlement service it is a conformance check.
 *
 * Exit status: 0 every check passed, 1 a check failed or no response came back
 * (the transport failure is named), 2 bad usage.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { allPassed, checkEntitlementResponse, type CheckResult, type SentRequest } from '../protocol/checks.js';
import { describeTransportError, type TransportFailure } from '../protocol/transport-failure.js';
import { parseFlags, UsageError } from './args.js';
import { urlHost } from '../server/url-host.js';

const DEFAULT_TIMEOUT_MS = 10_000;

export const REQUEST_HELP = `Usage: entitlement-mock request [options]

Send one Entitlement Request as a license server does and check the answer.

Options:
  --url URL              entitlement endpoint (default https://\${EM_HOST:-localhost}:\${EM_PORT:-8443}\${EM_PATH:-/entitlement},
                         the mock that serve starts with the same EM_* variables; a wildcard
                         EM_HOST such as 0.0.0.0 is asked at localhost)
  --content-id ID        contentID (default: a fresh GUID)
  --request-type N       requestType (default: not sent)
  --cookie C             customerCookie (default: not sent)
  --message-id ID        messageID (default: a fresh GUID)
  --version N            version (default 1)
  --cert FILE            client certificate (default \${EM_CERTS:-./certs}/client.crt)
  --key FILE             its private key (default \${EM_CERTS:-./certs}/client.key)
  --ca FILE              CA that signed the server certificate (default \${EM_CERTS:-./certs}/ca.crt)
  --timeout MS           give up after MS milliseconds (default ${DEFAULT_TIMEOUT_MS})
  --json                 print one JSON object instead of text

Exit status: 0 every check passed, 1 a check failed or no response came back, 2 bad usage.`;


export interface ProbeOptions {
  url: URL;
  body: SentRequest;
  /** Client certificate, key and trusted CA (PEM); absent for plain http:// URLs. */
  tls: { certFile: string; keyFile: string; caFile: string; cert: Buffer; key: Buffer; ca: Buffer } | null;
  timeoutMs: number;
  json: boolean;
}

export interface ReceivedExchange {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
  durationMs: number;
}

export type ProbeOutcome =
  | { kind: 'response'; response: ReceivedExchange }
  | { kind: 'transport-failure'; failure: TransportFailure; durationMs: number };

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${REQUEST_HELP}\n`);
    return 0;
  }
  let options: ProbeOptions;
  try {
    options = parseRequestOptions(args, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`entitlement-mock request: ${error.message}\nRun "entitlement-mock request --help" for the options.\n`);
    return 2;
  }

  const outcome = await sendEntitlementRequest(options);
  const checks = outcome.kind === 'response' ? checkEntitlementResponse(options.body, toReceived(outcome.response)) : [];
  const ok = outcome.kind === 'response' && allPassed(checks);
  process.stdout.write(options.json ? `${JSON.stringify(jsonReport(options, outcome, checks, ok))}\n` : textReport(options, outcome, checks, ok));
  return ok ? 0 : 1;
}

/** Where the mock's entitlement endpoint is, from the same EM_* variables `serve` reads. */
export function defaultEntitlementUrl(env: NodeJS.ProcessEnv): string {
  const set = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const configuredHost = set(env.EM_HOST) ?? '';
  return `https://${urlHost(configuredHost)}:${set(env.EM_PORT) ?? '8443'}${set(env.EM_PATH) ?? '/entitlement'}`;
}

export function parseRequestOptions(args: string[], env: NodeJS.ProcessEnv): ProbeOptions {
  const values: Record<string, string | boolean | undefined> = parseFlags(args, {
    url: { type: 'string' },
    'content-id': { type: 'string' },
    'request-type': { type: 'string' },
    cookie: { type: 'string' },
    'message-id': { type: 'string' },
    version: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  });
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };

  const rawUrl = text('url') ?? defaultEntitlementUrl(env);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new UsageError(`--url: not a URL: "${rawUrl}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--url: expected https:// (or http://), got "${rawUrl}"`);

  const body: SentRequest = {
    messageID: text('message-id') ?? randomUUID(),
    version: integer('version', text('version'), 1),
    contentID: text('content-id') ?? randomUUID(),
  };
  const requestType = text('request-type');
  if (requestType !== undefined) body.requestType = integer('request-type', requestType, 1);
  const cookie = text('cookie');
  if (cookie !== undefined) body.customerCookie = cookie;

  const timeoutMs = integer('timeout', text('timeout'), DEFAULT_TIMEOUT_MS);
  if (timeoutMs <= 0) throw new UsageError(`--timeout: expected a positive number of milliseconds, got ${timeoutMs}`);

  let tls: ProbeOptions['tls'] = null;
  if (url.protocol === 'https:') {
    const certs = env.EM_CERTS && env.EM_CERTS !== '' ? env.EM_CERTS : './certs';
    const certFile = text('cert') ?? path.join(certs, 'client.crt');
    const keyFile = text('key') ?? path.join(certs, 'client.key');
    const caFile = text('ca') ?? path.join(certs, 'ca.crt');
    tls = { certFile, keyFile, caFile, cert: readPem('cert', certFile), key: readPem('key', keyFile), ca: readPem('ca', caFile) };
  }
  return { url, body, tls, timeoutMs, json: values.json === true };
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name}: expected an integer, got "${value}"`);
  return Number(value);
}

function readPem(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(
      `--${option}: cannot read ${file} (${reason}); generate a PKI with "entitlement-mock certs --out DIR" or pass --cert/--key/--ca`,
    );
  }
}

/** One POST, as a license server sends it. Never rejects: a failure is an outcome. */
export function sendEntitlementRequest(options: ProbeOptions): Promise<ProbeOutcome> {
  const payload = Buffer.from(JSON.stringify(options.body));
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);

  return new Promise((resolve) => {
    let settled = false;
    let phase: 'connect' | 'headers' | 'body' = 'connect';
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve(outcome);
    };
    const failWith = (failure: TransportFailure) => finish({ kind: 'transport-failure', failure, durationMs: elapsed() });

    const requestOptions: https.RequestOptions = {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'Content-Length': payload.length,
      },
      agent: false,
      ...(options.tls ? { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca } : {}),
    };
    const request = (options.url.protocol === 'https:' ? https : http).request(options.url, requestOptions, (response) => {
      phase = 'body';
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        finish({
          kind: 'response',
          response: {
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            headers: response.headers,
            bodyText: Buffer.concat(chunks).toString('utf8'),
            durationMs: elapsed(),
          },
        }),
      );
      const cutShort = () => {
        const received = chunks.reduce((total, chunk) => total + chunk.length, 0);
        const expected = response.headers['content-length'];
        failWith({
          kind: 'cut-short',
          summary: `response cut short: HTTP ${response.statusCode} headers arrived, then the connection closed after ${received}${expected ? ` of ${expected}` : ''} body bytes`,
          code: null,
          message: 'incomplete body',
        });
      };
      response.on('aborted', cutShort);
      response.on('error', cutShort);
      response.on('close', () => {
        if (!response.complete) cutShort();
      });
    });
    request.on('socket', (socket) => socket.once(options.tls ? 'secureConnect' : 'connect', () => (phase = 'headers')));
    request.on('error', (error: NodeJS.ErrnoException) => failWith(describeTransportError(error, { phase, certificateOption: '--cert' })));

    const deadline = setTimeout(() => {
      const waitingFor = { connect: 'the connection (TCP/TLS)', headers: 'the response', body: 'the rest of the body' }[phase];
      failWith({
        kind: 'timeout',
        summary: `timed out after ${options.timeoutMs} ms waiting for ${waitingFor}`,
        code: 'ETIMEDOUT',
        message: 'timeout',
      });
    }, options.timeoutMs);
    request.end(payload);
  });
}

function toReceived(response: ReceivedExchange) {
  const contentType = response.headers['content-type'];
  return { status: response.status, contentType: Array.isArray(contentType) ? contentType[0] : contentType, bodyText: response.bodyText };
}

function jsonReport(options: ProbeOptions, outcome: ProbeOutcome, checks: CheckResult[], ok: boolean) {
  return {
    ok,
    request: {
      url: options.url.href,
      clientCertificate: options.tls?.certFile ?? null,
      body: options.body,
    },
    response:
      outcome.kind === 'response'
        ? { ...outcome.response, body: parseJson(outcome.response.bodyText) ?? null }
        : null,
    transportFailure: outcome.kind === 'transport-failure' ? { ...outcome.failure, durationMs: outcome.durationMs } : null,
    checks,
  };
}

function textReport(options: ProbeOptions, outcome: ProbeOutcome, checks: CheckResult[], ok: boolean): string {
  const lines: string[] = [];
  lines.push(`→ POST ${options.url.href}`);
  if (options.tls) lines.push(`  client certificate ${options.tls.certFile}, key ${options.tls.keyFile}, trusting ${options.tls.caFile}`);
  lines.push(indent(JSON.stringify(options.body, null, 2)), '');

  if (outcome.kind === 'transport-failure') {
    lines.push(`✗ no response after ${outcome.durationMs} ms: ${outcome.failure.summary}`, '', 'FAIL: the transport failed');
    return `${lines.join('\n')}\n`;
  }
  const { response } = outcome;
  lines.push(`← HTTP ${response.status} ${response.statusText} in ${response.durationMs} ms`);
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) lines.push(`  ${name}: ${String(value)}`);
  const parsed = parseJson(response.bodyText);
  const shownBody = parsed === undefined ? response.bodyText : JSON.stringify(parsed, null, 2);
  lines.push(shownBody === '' ? '  (empty body)' : indent(shownBody), '');
  for (const check of checks) lines.push(`${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}`);
  const failedCount = checks.filter((check) => !check.ok).length;
  lines.push('', ok ? `OK: all ${checks.length} checks passed` : `FAIL: ${failedCount} of ${checks.length} checks failed`);
  return `${lines.join('\n')}\n`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
