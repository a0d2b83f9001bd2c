/**
 * A license server's entitlement client in a few lines, for driving conformance runs in tests:
 * asks the entitlement service over mutual TLS the way a license server does and says what its
 * client would get. `correct` follows every rule the bundled plan checks; the other flags each
 * break one (the full reference license server with its planted bugs is examples/license-server/).
 */
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { CaseTicket } from '../../src/conformance/types.js';

export type Flaw =
  /** Grants on any isAllowed that is truthy, whatever messageID and version say. */
  | 'naive-parsing'
  /** Does not verify the entitlement service's certificate. */
  | 'trust-any-certificate'
  /** Refuses without passing the service's error/errorText on. */
  | 'drop-error-text'
  /** Never gives up on a silent service (the test's own bound: 3 × the timeout). */
  | 'no-timeout'
  /** Retries 5xx answers 6 times. */
  | 'retry-too-often';

export interface ScriptedOptions {
  entitlementUrl: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  timeoutMs: number;
  flaws?: readonly Flaw[];
}

export interface ClientOutcome {
  license: 'granted' | 'refused';
  code?: number;
  text?: string;
  elapsedMs: number;
}

type Attempt = { kind: 'answer'; status: number; body: string } | { kind: 'failed'; reason: string; retryable: boolean };

/** The options for a test mock: its entitlement URL, and the test PKI's CA and client certificate. */
export function askingMock(mock: { entitlementUrl: string; pki: { caPem: string; client: { certPem: string; keyPem: string } } }, timeoutMs: number, flaws: readonly Flaw[] = []): ScriptedOptions {
  return { entitlementUrl: mock.entitlementUrl, caPem: mock.pki.caPem, certPem: mock.pki.client.certPem, keyPem: mock.pki.client.keyPem, timeoutMs, flaws };
}

/** Asks for the case's license (with one retry on 5xx, reset or timeout) and says what the client gets. */
export async function askAsLicenseServer(ticket: CaseTicket, options: ScriptedOptions): Promise<ClientOutcome> {
  const flaws = new Set(options.flaws ?? []);
  const started = performance.now();
  const maxAttempts = flaws.has('retry-too-often') ? 7 : 2;
  let outcome: Omit<ClientOutcome, 'elapsedMs'> = { license: 'refused', code: 502, text: 'no attempt' };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const messageID = randomUUID();
    const request = { messageID, version: 1, contentID: ticket.contentID, ...(ticket.requestType !== undefined ? { requestType: ticket.requestType } : {}), ...(ticket.customerCookie !== undefined ? { customerCookie: ticket.customerCookie } : {}) };
    const result = await post(ticket.entitlementUrl ?? options.entitlementUrl, JSON.stringify(request), options, flaws);
    if (result.kind === 'failed') {
      outcome = { license: 'refused', code: 504, text: result.reason };
      if (result.retryable) continue;
      break;
    }
    if (result.status >= 500) {
      outcome = { license: 'refused', code: 502, text: `entitlement service answered ${result.status}` };
      continue;
    }
    outcome = judgeAnswer(result.status, result.body, messageID, flaws);
    break;
  }
  return { ...outcome, elapsedMs: Math.round(performance.now() - started) };
}

function judgeAnswer(status: number, body: string, messageID: string, flaws: Set<Flaw>): Omit<ClientOutcome, 'elapsedMs'> {
  const violation = (text: string) => ({ license: 'refused' as const, code: 502, text });
  if (status !== 200) return violation(`entitlement service answered ${status}`);
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return violation('the answer is not JSON');
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return violation('the answer is not a JSON object');
  const fields = answer as Record<string, unknown>;
  if (flaws.has('naive-parsing')) return fields.isAllowed ? { license: 'granted' } : { license: 'refused', code: 403, text: 'denied' };
  if (fields.messageID !== messageID) return violation('messageID does not match');
  if (typeof fields.version !== 'number' || !Number.isInteger(fields.version) || fields.version > 1) return violation('version is not an integer of at most 1');
  if (fields.isAllowed === false) {
    if (flaws.has('drop-error-text')) return { license: 'refused', code: 403, text: 'denied' };
    return {
      license: 'refused',
      ...(typeof fields.error === 'number' ? { code: fields.error } : {}),
      ...(typeof fields.errorText === 'string' ? { text: fields.errorText } : {}),
    };
  }
  if (fields.isAllowed !== true) return violation('isAllowed is not a boolean');
  if (typeof fields.epTokenURL !== 'string' || fields.epTokenURL === '') return violation('no epTokenURL');
  return { license: 'granted' };
}

function post(url: string, payload: string, options: ScriptedOptions, flaws: Set<Flaw>): Promise<Attempt> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const request = https.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        ca: options.caPem,
        cert: options.certPem,
        key: options.keyPem,
        rejectUnauthorized: !flaws.has('trust-any-certificate'),
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve({ kind: 'failed', reason: error.message, retryable: false }));
        response.on('aborted', () => resolve({ kind: 'failed', reason: 'answer cut off', retryable: false }));
        response.on('end', () => {
          if (!response.complete) resolve({ kind: 'failed', reason: 'answer cut off', retryable: false });
          else resolve({ kind: 'answer', status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    const timeoutMs = flaws.has('no-timeout') ? options.timeoutMs * 3 : options.timeoutMs;
    const timer = setTimeout(() => {
      request.destroy();
      resolve({ kind: 'failed', reason: `no answer within ${timeoutMs} ms`, retryable: !flaws.has('no-timeout') });
    }, timeoutMs);
    request.on('close', () => clearTimeout(timer));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'failed', reason: error.message, retryable: error.code === 'ECONNRESET' }));
    request.end(payload);
  });
}
