/**
 * One attempt at asking the entitlement service: an HTTPS POST over mutual TLS, and what came
 * back (an HTTP answer, whatever its status and body) or why nothing usable came back.
 */
import https from 'node:https';

/** What the license server presents and trusts (PEM text). */
export interface Credentials {
  cert: string;
  key: string;
  ca: string;
}

export type TransportFailure =
  | 'reset' // a TCP reset before any answer
  | 'closed' // the connection closed before any answer
  | 'cut-short' // the answer's body ended early
  | 'too-large' // the answer's body went past MAX_ANSWER_BYTES
  | 'timeout' // the license request's time budget ran out
  | 'certificate' // the TLS handshake failed on the server's certificate (or on ours)
  | 'unreachable' // refused, no route, unknown host
  | 'stopped'; // the license server is stopping

export type Attempt =
  | { kind: 'answer'; status: number; bodyText: string }
  | { kind: 'transport'; failure: TransportFailure; detail: string };

export interface AttemptOptions {
  url: URL;
  /** The Entitlement Request, serialized. */
  body: string;
  credentials: Credentials;
  /** performance.now() time at which to give up; null waits forever. */
  deadline: number | null;
  /** false accepts any server certificate (a planted bug). */
  verifyCertificate: boolean;
  /** false accepts a certificate issued for another host name (a planted bug). */
  verifyHostName: boolean;
  /** Aborted when the license server stops. */
  signal: AbortSignal;
}

/** An Entitlement Response is a few hundred bytes; this much is plenty and bounds memory. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export function askEntitlementService(options: AttemptOptions): Promise<Attempt> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onStop);
      resolve(attempt);
      request.destroy();
    };
    const fail = (failure: TransportFailure, detail: string) => finish({ kind: 'transport', failure, detail });
    const onStop = () => fail('stopped', 'the license server is stopping');

    const request = https.request(options.url, {
      method: 'POST',
      // A fresh connection per attempt: a pooled socket the service already closed would cost a
      // retry that the service never saw, and every attempt gets the full certificate check.
      agent: false,
      ca: options.credentials.ca,
      cert: options.credentials.cert,
      key: options.credentials.key,
      rejectUnauthorized: options.verifyCertificate,
      ...(options.verifyHostName ? {} : { checkServerIdentity: () => undefined }),
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': Buffer.byteLength(options.body),
      },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) fail('too-large', `the answer's body is over ${MAX_ANSWER_BYTES} bytes`);
        else chunks.push(chunk);
      });
      response.on('end', () => finish({ kind: 'answer', status: response.statusCode ?? 0, bodyText: Buffer.concat(chunks).toString('utf8') }));
      response.on('close', () => {
        if (!response.complete) fail('cut-short', `the answer (HTTP ${response.statusCode}) was cut short after ${size} bytes of its body`);
      });
      response.on('error', () => fail('cut-short', `the answer (HTTP ${response.statusCode}) was cut short after ${size} bytes of its body`));
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const [failure, detail] = classify(error);
      fail(failure, detail);
    });
    if (options.deadline !== null) {
      const deadline = options.deadline;
      timer = setTimeout(() => fail('timeout', 'the time budget ran out'), Math.max(0, deadline - performance.now()));
    }
    if (options.signal.aborted) onStop();
    else options.signal.addEventListener('abort', onStop);
    request.end(options.body);
  });
}

/** Whether a failed attempt is worth another try: only what a restarted or overloaded service causes. */
export function isRetryable(attempt: Attempt): boolean {
  if (attempt.kind === 'answer') return attempt.status >= 500 && attempt.status <= 599;
  return attempt.failure === 'reset' || attempt.failure === 'closed' || attempt.failure === 'cut-short' || attempt.failure === 'timeout';
}

function classify(error: NodeJS.ErrnoException): [TransportFailure, string] {
  const code = error.code ?? '';
  if (code === 'ECONNRESET') return error.message === 'socket hang up' ? ['closed', 'the connection closed before any answer'] : ['reset', 'the connection was reset before any answer'];
  if (code === 'EPIPE') return ['closed', 'the connection closed while the request was being sent'];
  if (/CERT|SELF_SIGNED|VERIFY|ISSUER|ERR_TLS|ERR_SSL|ALERT/.test(code)) return ['certificate', `TLS: ${code}: ${error.message}`];
  return ['unreachable', `${code || 'error'}: ${error.message}`];
}
