/**
 * A plain-HTTP listener that publishes the dev CA's CRL at the address the `revoked` trouble
 * listener's certificate names (its CRL distribution point), as a real CA does. Nothing else is
 * served here; each fetch is reported, since it shows that the license server checks revocation.
 */
import http from 'node:http';
import { CRL_PATH, type CrlPublisher } from '../pki/revocation.js';
import { timeoutCheckInterval } from './options.js';
import { listenOn } from './listen.js';

export interface CrlListenerOptions {
  host: string;
  port: number;
  crl: CrlPublisher;
  headerTimeoutMs: number;
  onFetch: (fetch: { remote: string; method: string }) => void;
  onError: (error: unknown) => void;
}

export interface RunningCrlListener {
  readonly server: http.Server;
  readonly port: number;
}

export async function startCrlListener(options: CrlListenerOptions): Promise<RunningCrlListener> {
  const server = http.createServer(
    {
      headersTimeout: options.headerTimeoutMs,
      requestTimeout: options.headerTimeoutMs,
      connectionsCheckingInterval: timeoutCheckInterval(options.headerTimeoutMs),
    },
    (request, response) => void answer(request, response, options),
  );
  return { server, port: await listenOn(server, options.port, options.host) };
}

async function answer(request: http.IncomingMessage, response: http.ServerResponse, options: CrlListenerOptions): Promise<void> {
  const path = (request.url ?? '').split('?')[0];
  if (path !== CRL_PATH) return plain(response, 404, `nothing here; the CRL is at ${CRL_PATH}\n`);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return plain(response, 405, `method ${request.method} not allowed on ${CRL_PATH}; use GET\n`);
  }
  options.onFetch({ remote: `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`, method: request.method });
  try {
    const { der, thisUpdate } = await options.crl.current();
    response.writeHead(200, {
      'Content-Type': 'application/pkix-crl',
      'Content-Length': der.length,
      'Last-Modified': thisUpdate.toUTCString(),
    });
    response.end(request.method === 'HEAD' ? undefined : der);
  } catch (error) {
    options.onError(error);
    plain(response, 500, 'the CRL could not be built\n');
  }
}

function plain(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
