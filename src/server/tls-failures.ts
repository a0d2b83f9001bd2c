/**
 * How the listeners put a refused connection into words: a handshake error or a request
 * Node's HTTP parser refused (the record they go into is journal/tls-failures.ts).
 */
import { MAX_HEADER_BYTES } from './options.js';

/** Words for a handshake that failed before a certificate could even be judged. */
export function describeHandshakeError(error: NodeJS.ErrnoException): { reason: string; code: string | null } {
  const code = error.code ?? null;
  const message = error.message ?? '';
  if (code === 'ERR_SSL_HTTP_REQUEST' || /http request/i.test(message)) return { reason: 'not TLS (plain HTTP)', code };
  if (code === 'ECONNRESET') return { reason: 'connection reset during handshake', code };
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(message))
    return { reason: 'not TLS (garbage or unsupported version)', code };
  if (/unsupported protocol|no protocols available/i.test(message)) return { reason: 'unsupported TLS version', code };
  if (/no shared cipher/i.test(message)) return { reason: 'no shared cipher', code };
  if (/renegotiation/i.test(message) || code === 'ERR_TLS_SESSION_ATTACK') return { reason: 'renegotiation refused', code };
  if (/timed? ?out/i.test(message)) return { reason: 'handshake timed out', code };
  // The client sent a TLS alert: on a trouble listener, the sign of a client that verifies its peer.
  const alert = /(?:sslv3|tlsv1) alert ([a-z ]+)/i.exec(message)?.[1]?.trim();
  if (alert) return { reason: `client refused the server certificate (TLS alert: ${alert})`, code };
  return { reason: `handshake failed: ${message || code || 'unknown error'}`, code };
}

export interface HttpRefusal {
  status: number;
  statusText: string;
  /** For the failure log and the metrics label: a few fixed words, no numbers. */
  reason: string;
  /** For the client: the answer's errorText. */
  errorText: string;
}

/**
 * What to answer when Node's HTTP parser refuses a request before it reaches the app
 * (a `clientError`), or null when there is nobody to answer (the client went away).
 */
export function describeHttpRefusal(error: NodeJS.ErrnoException & { reason?: string }, headerTimeoutMs: number): HttpRefusal | null {
  const code = error.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return {
      status: 408,
      statusText: 'Request Timeout',
      reason: 'HTTP request headers timed out',
      errorText: `request headers not complete within ${headerTimeoutMs} ms`,
    };
  if (code === 'HPE_HEADER_OVERFLOW')
    return {
      status: 431,
      statusText: 'Request Header Fields Too Large',
      reason: 'HTTP request headers too large',
      errorText: `request headers larger than ${MAX_HEADER_BYTES} bytes`,
    };
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW')
    return { status: 413, statusText: 'Payload Too Large', reason: 'HTTP chunk extensions too large', errorText: 'chunk extensions too large' };
  if (code.startsWith('HPE_'))
    return {
      status: 400,
      statusText: 'Bad Request',
      reason: 'HTTP request malformed',
      errorText: `malformed HTTP request: ${error.reason ?? error.message}`,
    };
  return null;
}
