/**
 * A raw TLS client for the hardening tests: write any bytes at the entitlement
 * listener (malformed HTTP, wrong Content-Length, slow dribbles), read back
 * whole HTTP responses one at a time, and see when the server closes.
 */
import tls from 'node:tls';
import net from 'node:net';
import type { ClientCredentials } from './mock.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body parsed as JSON, or null. */
  json: any;
}

export interface RawTarget {
  port: number;
  caPem: string;
  /** Client certificate to present; null presents none. */
  client: ClientCredentials | null;
}

export interface OpenOptions {
  maxVersion?: tls.SecureVersion;
  /** Give up on the handshake after this many ms (default 5000). */
  timeoutMs?: number;
}

/** One TLS connection to the mock, with an HTTP/1.1 response reader. */
export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private closedAt: number | null = null;
  readonly openedAt = Date.now();
  /** Resolves when the server (or anything) closes the connection. */
  readonly closed: Promise<void>;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = Date.now();
        this.wake();
        resolve();
      }),
    );
  }

  static open(target: RawTarget, options: OpenOptions = {}): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: target.port,
        servername: 'localhost',
        ca: target.caPem,
        ...(target.client ? { cert: target.client.certPem, key: target.client.keyPem } : {}),
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('TLS handshake did not complete in time'));
      }, options.timeoutMs ?? 5000);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isClosed(): boolean {
    return this.closedAt !== null;
  }

  /** Milliseconds from opening to closing, or null while open. */
  get lifetimeMs(): number | null {
    return this.closedAt === null ? null : this.closedAt - this.openedAt;
  }

  write(bytes: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The next whole response, or null when the connection closes first (or `timeoutMs` passes: then it throws). */
  async readResponse(timeoutMs = 5000): Promise<RawResponse | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = this.takeResponse();
      if (response) return response;
      if (this.closedAt !== null) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Send one request and read its response. */
  async exchange(bytes: string | Buffer, timeoutMs = 5000): Promise<RawResponse | null> {
    this.write(bytes);
    return this.readResponse(timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  private takeResponse(): RawResponse | null {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const head = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
    let bodyEnd: number;
    if (length !== null) {
      bodyEnd = end + 4 + length;
      if (this.buffer.length < bodyEnd) return null;
    } else {
      // No length: the body runs to the close.
      if (this.closedAt === null) return null;
      bodyEnd = this.buffer.length;
    }
    const body = this.buffer.subarray(end + 4, bodyEnd);
    this.buffer = this.buffer.subarray(bodyEnd);
    let json: unknown = null;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      // not JSON
    }
    return { status, headers, body, json };
  }
}

/** A plain TCP connection (no TLS at all) that records when the server closes it. */
export function openTcp(port: number): Promise<{ socket: net.Socket; closed: Promise<number>; received: () => Buffer }> {
  return new Promise((resolve, reject) => {
    const openedAt = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<number>((resolveClosed) => socket.once('close', () => resolveClosed(Date.now() - openedAt)));
    socket.once('connect', () => resolve({ socket, closed, received: () => Buffer.concat(chunks) }));
    socket.once('error', (error) => (socket.connecting ? reject(error) : undefined));
    socket.on('error', () => undefined);
  });
}

/** An HTTP/1.1 POST to `path` with exactly these body bytes and a correct Content-Length (unless overridden). */
export function httpPost(path: string, body: string | Buffer, headers: Record<string, string | number> = {}): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const all: Record<string, string | number> = {
    Host: 'localhost',
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    ...headers,
  };
  const head = `POST ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
}
