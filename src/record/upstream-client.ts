/**
 * The client half of record mode: sends an Entitlement Request body to the real
 * entitlement service over mTLS (a keep-alive agent holding our client certificate)
 * and reports what came back, or why nothing usable did, in words.
 */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { describeTransportError } from '../protocol/transport-failure.js';

export interface UpstreamTarget {
  /** The real service's entitlement URL (https://…). */
  url: URL;
  certPem: string;
  keyPem: string;
  /** CA bundle the service's certificate must chain to; null trusts Node's default CAs. */
  caPem: string | null;
  /** The whole exchange (connect, handshake, answer) must end within this many ms. */
  timeoutMs: number;
}

/** What the service did with one request. Only a 200 with a JSON object body is an answer to pass on. */
export type UpstreamOutcome =
  | {
      kind: 'answered';
      status: 200;
      contentType: string | null;
      /** The body exactly as received, passed back to the client unchanged. */
      text: string;
      json: Record<string, unknown>;
      ms: number;
    }
  | {
      kind: 'failed';
      /** In words, e.g. `upstream did not answer within 500 ms`. */
      reason: string;
      /** Status and body when the service answered something unusable, else null. */
      status: number | null;
      contentType: string | null;
      text: string | null;
      ms: number;
    };

/** An answer larger than this is not read to the end (an Entitlement Response is well under 1 KiB). */
export const MAX_UPSTREAM_BODY_BYTES = 1024 * 1024;

/** How much of an unusable body the 502's errorText quotes. */
const QUOTED_BODY_CHARS = 200;

/**
 * Idle keep-alive sockets are dropped after this long: below Node's default server keep-alive
 * timeout (5 s), so a socket is not reused in the moment the service closes it.
 */
const IDLE_SOCKET_MS = 4000;

export class UpstreamClient {
  private readonly agent: https.Agent;

  constructor(private readonly target: UpstreamTarget) {
    this.agent = new https.Agent({
      keepAlive: true,
      timeout: IDLE_SOCKET_MS,
      cert: target.certPem,
      key: target.keyPem,
      ...(target.caPem === null ? {} : { ca: target.caPem }),
    });
  }

  get url(): string {
    return this.target.url.href;
  }

  /** Forward `body` with the client's Content-Type (if it sent one); never rejects. */
  forward(body: string, headers: IncomingHttpHeaders): Promise<UpstreamOutcome> {
    const startedAt = performance.now();
    const elapsed = () => Math.round((performance.now() - startedAt) * 10) / 10;
    const { url, timeoutMs } = this.target;
    const outgoing: Record<string, string> = { 'Content-Length': String(Buffer.byteLength(body)) };
    if (headers['content-type'] !== undefined) outgoing['Content-Type'] = headers['content-type'];
    if (headers.accept !== undefined) outgoing.Accept = headers.accept;

    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: UpstreamOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const fail = (reason: string, answered?: { status: number; contentType: string | null; text: string }) =>
        settle({ kind: 'failed', reason, status: answered?.status ?? null, contentType: answered?.contentType ?? null, text: answered?.text ?? null, ms: elapsed() });

      const request = https.request(url, { method: 'POST', agent: this.agent, headers: outgoing }, (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_UPSTREAM_BODY_BYTES) {
            fail(`upstream answer larger than ${MAX_UPSTREAM_BODY_BYTES} bytes`);
            request.destroy();
          } else chunks.push(chunk);
        });
        response.on('error', (error) => fail(transportReason(error, url)));
        response.on('aborted', () => fail('upstream closed the connection in the middle of its answer'));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const contentType = response.headers['content-type'] ?? null;
          const text = Buffer.concat(chunks).toString('utf8');
          const answered = { status, contentType, text };
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (status !== 200) fail(`upstream answered HTTP ${status}: ${quote(text)}`, answered);
          else if (json === undefined) fail(`upstream answered 200 with a body that is not JSON (${contentType ?? 'no Content-Type'}): ${quote(text)}`, answered);
          else if (typeof json !== 'object' || json === null || Array.isArray(json))
            fail(`upstream answered 200 with JSON that is not an object: ${quote(text)}`, answered);
          else settle({ kind: 'answered', status: 200, contentType, text, json: json as Record<string, unknown>, ms: elapsed() });
        });
      });
      const timer = setTimeout(() => {
        fail(`upstream did not answer within ${timeoutMs} ms`);
        request.destroy();
      }, timeoutMs);
      request.on('error', (error) => fail(transportReason(error, url)));
      request.end(body);
    });
  }

  /** Close the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** A connection or TLS failure in words (the same words as `entitlement-mock request`), naming the service. */
function transportReason(error: NodeJS.ErrnoException, url: URL): string {
  // Keep-alive sockets are reused, so where the exchange was is not followed: the words do without it.
  const { summary } = describeTransportError(error, { phase: 'unknown', certificateOption: '--upstream-cert' });
  return `upstream ${url.hostname}:${url.port || 443}: ${summary}`;
}

function quote(text: string): string {
  const shown = text.length > QUOTED_BODY_CHARS ? `${text.slice(0, QUOTED_BODY_CHARS)}…` : text;
  return JSON.stringify(shown);
}
