/**
 * An HTTPS listener for Entitlement Requests with mutual TLS. Node verifies the
 * client certificate, but the listener decides (rejectUnauthorized: false) so it
 * can record *why* it refused one, then ends the connection before any HTTP answer.
 *
 * It also keeps a misbehaving client from tying the mock up (docs/limits.md):
 * handshake, header and request time limits, a cap on concurrent connections,
 * and a JSON answer (then a lingering close, server/linger.ts) for what Node's HTTP parser refuses. Every
 * such refusal is recorded with the refused handshakes (GET /admin/tls-failures).
 */
import https from 'node:https';
import { constants as cryptoConstants } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ListenerName } from '../journal/entry.js';
import { judgeClientCertificate } from './client-identity.js';
import { connectionOf, describeTls, remoteOf, trackConnection } from './connection.js';
import { describeHandshakeError, describeHttpRefusal } from './tls-failures.js';
import type { TlsFailure } from '../journal/tls-failures.js';
import { DEFAULT_OPTIONS, MAX_HEADER_BYTES, timeoutCheckInterval } from './options.js';
import { refuseBody } from './read-body.js';
import { closeAfterLastAnswer, isLingering, refuseLingering } from './linger.js';
import { DEFAULT_TLS_OFFER, type TlsOffer } from './tls-offer.js';
import { listenOn } from './listen.js';

export type ClientAuthMode = 'required' | 'optional';

/** The time and size limits of a listener (the MockOptions of the same names). */
export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
  maxConnections: number;
}

export interface EntitlementListenerOptions {
  name: ListenerName;
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  /** CA bundle trusted for client certificates. */
  clientCa: Buffer;
  clientAuth: ClientAuthMode;
  /** Answers each request (server/entitlement-handler.ts). */
  handler: RequestListener;
  onTlsFailure: (failure: TlsFailure) => void;
  /** Default: the DEFAULT_OPTIONS values. */
  limits?: ConnectionLimits;
  /** TLS versions and cipher suites offered; default TLS 1.2 and 1.3 with Node's suites. */
  tls?: TlsOffer;
}

export interface RunningListener {
  readonly name: ListenerName;
  readonly server: https.Server;
  readonly port: number;
}

export async function startEntitlementListener(options: EntitlementListenerOptions): Promise<RunningListener> {
  const limits = options.limits ?? DEFAULT_OPTIONS;
  const offer = options.tls ?? DEFAULT_TLS_OFFER;
  const server = https.createServer(
    {
      cert: options.cert,
      key: options.key,
      ca: options.clientCa,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: offer.minVersion,
      maxVersion: offer.maxVersion,
      ...(offer.ciphers === undefined ? {} : { ciphers: offer.ciphers }),
      // Renegotiation only serves attacks here; refuse it outright.
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
      handshakeTimeout: limits.handshakeTimeoutMs,
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: limits.headerTimeoutMs,
      // The body has its own limit (bodyTimeoutMs, enforced where it is read, with a 408 the
      // journal records). This backstop also ends a body nobody reads, e.g. one sent to a wrong path.
      requestTimeout: limits.headerTimeoutMs + limits.bodyTimeoutMs + 1000,
      connectionsCheckingInterval: timeoutCheckInterval(limits.headerTimeoutMs),
    },
    options.handler,
  );
  server.maxConnections = limits.maxConnections;

  const recordFailure = (remote: string, reason: string, code: string | null) =>
    options.onTlsFailure({ time: new Date().toISOString(), remote, listener: options.name, reason, code });
  server.on('connection', trackConnection);

  // Runs before the HTTP machinery sees the connection.
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const connection = connectionOf(socket) ?? trackConnection(socket);
    connection.established = true;
    socket.destroySoon = destroySoonAfterAnswer;
    connection.tls = describeTls(socket);
    const verdict = judgeClientCertificate(socket);
    if (verdict.accepted) {
      connection.identity = verdict.identity;
    } else if (options.clientAuth === 'required') {
      recordFailure(connection.remote, verdict.reason, verdict.code);
      socket.destroy();
    }
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    const { reason, code } = describeHandshakeError(error);
    recordFailure(remoteOf(socket), reason, code);
  });
  // Node closes a connection over the limit as soon as it is accepted, before any TLS byte.
  server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
    recordFailure(`${data?.remoteAddress ?? '?'}:${data?.remotePort ?? '?'}`, 'connection limit reached', null);
  });

  // The last request each connection handed to the handler: while its body is still coming, a
  // request timeout is the body's (answered by the handler, or a body nobody reads).
  server.prependListener('request', (req: IncomingMessage) => {
    const connection = connectionOf(req.socket);
    if (connection !== undefined) connection.request = req;
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const connection = connectionOf(socket);
    // https re-emits handshake failures here too: those are tlsClientError's to record.
    if (connection === undefined || !connection.established) {
      socket.destroy();
      return;
    }
    if (connection.refused || isLingering(socket)) return; // already refused and closing; later parse errors are echoes
    if (/^ERR_(SSL|TLS)_/.test(error.code ?? '')) {
      // E.g. a TLS 1.2 renegotiation: refused (SSL_OP_NO_RENEGOTIATION), and the client's TLS stack gives up with an alert.
      recordFailure(connection.remote, 'TLS error after the handshake', error.code ?? null);
      socket.destroy();
      return;
    }
    const refusal = describeHttpRefusal(error, limits.headerTimeoutMs);
    const pending = connection.request;
    if (refusal !== null && pending !== null && !pending.complete) {
      // The request reached the handler and its body is still coming. Broken framing (a bad chunk):
      // the handler answers 400 and journals it, if it is reading the body; else there is nobody to tell.
      const problem = `malformed body: ${(error as { reason?: string }).reason ?? error.message}`;
      if (refusal.status === 400 && refuseBody(pending, problem)) connection.refused = true;
      else socket.destroy();
      return;
    }
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
    if (refusal === null || (inFlight !== null && inFlight.headersSent)) {
      // The client went away, or a response already started: nothing more to say.
      socket.destroy();
      return;
    }
    recordFailure(connection.remote, refusal.reason, error.code ?? null);
    connection.refused = true;
    if (inFlight !== null) {
      // Garbage after a request the handler is still answering (e.g. a body longer than its
      // Content-Length): that answer goes out, then the connection closes.
      inFlight.shouldKeepAlive = false;
      return;
    }
    refuseLingering(socket, refusal.status, refusal.statusText, { isAllowed: false, error: refusal.status, errorText: refusal.errorText });
  });

  const port = await listenOn(server, options.port, options.host);
  return { name: options.name, server, port };
}

/** What Node's HTTP server calls after a connection's last answer: lingers unless the last request was read whole (server/linger.ts). */
function destroySoonAfterAnswer(this: TLSSocket): void {
  closeAfterLastAnswer(this, connectionOf(this)?.request?.readableEnded === true);
}
