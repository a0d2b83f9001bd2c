/**
 * An HTTPS listener for Entitlement Requests with mutual TLS. Node verifies the
 * client certificate, but the listener decides (rejectUnauthorized: false) so it
 * can record *why* it refused one, then ends the connection before any HTTP answer.
 */
import https from 'node:https';
import { constants as cryptoConstants } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type Koa from 'koa';
import type { ListenerName } from '../journal/entry.js';
import { ANONYMOUS, judgeClientCertificate } from './client-identity.js';
import { setClientIdentity } from './entitlement-app.js';
import { describeHandshakeError, type TlsFailure } from './tls-failures.js';

export type ClientAuthMode = 'required' | 'optional';

export interface EntitlementListenerOptions {
  name: ListenerName;
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  /** CA bundle trusted for client certificates. */
  clientCa: Buffer;
  clientAuth: ClientAuthMode;
  app: Koa;
  onTlsFailure: (failure: TlsFailure) => void;
}

export interface RunningListener {
  readonly name: ListenerName;
  readonly server: https.Server;
  readonly port: number;
}

export async function startEntitlementListener(options: EntitlementListenerOptions): Promise<RunningListener> {
  const server = https.createServer(
    {
      cert: options.cert,
      key: options.key,
      ca: options.clientCa,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      // Renegotiation only serves attacks here; refuse it outright.
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
    },
    options.app.callback(),
  );

  const recordFailure = (socket: Socket, reason: string, code: string | null) =>
    options.onTlsFailure({
      time: new Date().toISOString(),
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      listener: options.name,
      reason,
      code,
    });

  // Runs before the HTTP machinery sees the connection.
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const verdict = judgeClientCertificate(socket);
    if (verdict.accepted) {
      setClientIdentity(socket, verdict.identity);
    } else if (options.clientAuth === 'optional') {
      setClientIdentity(socket, ANONYMOUS);
    } else {
      recordFailure(socket, verdict.reason, verdict.code);
      socket.destroy();
    }
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    const { reason, code } = describeHandshakeError(error);
    recordFailure(socket, reason, code);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { name: options.name, server, port };
}
