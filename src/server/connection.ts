/**
 * What an entitlement listener knows of one client connection, kept on the socket itself.
 *
 * One record per connection under a symbol, rather than a WeakMap or WeakSet per fact:
 * at connection-per-request rates the listener's four weak tables (and the string built for
 * each) cost a measurable share of a handshake, weak entries being extra work for every
 * garbage collection (bench/README.md).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionTls } from '../journal/entry.js';
import type { ClientIdentity } from '../protocol/types.js';
import { ANONYMOUS } from './client-identity.js';

let connectionsSeen = 0;

/** The TLS facts of an established connection, read once when its handshake completes. */
export type { ConnectionTls };

export function describeTls(socket: TLSSocket): ConnectionTls {
  return Object.freeze({ connection: ++connectionsSeen, version: socket.getProtocol() ?? null, resumed: socket.isSessionReused() });
}

export class Connection {
  /** True once the TLS handshake completed (later errors are not handshake failures). */
  established = false;
  /** Set when the handshake completes. */
  tls: ConnectionTls | null = null;
  /** Who the client proved to be; ANONYMOUS until the handshake is judged, or when it proved nothing. */
  identity: ClientIdentity = ANONYMOUS;
  /** The last request handed to the app on this connection. */
  request: IncomingMessage | null = null;
  /** A refusal was already written (or the connection ended because of one): later parse errors are echoes. */
  refused = false;

  /** `address:port` of the client, read when the connection arrives (a failed handshake may lose it). */
  constructor(readonly remote: string) {}
}

const CONNECTION = Symbol('entitlement-mock.connection');
type WithConnection = Socket & { [CONNECTION]?: Connection; _parent?: Socket | null };

/** Starts the record of a newly accepted TCP connection. */
export function trackConnection(socket: Socket): Connection {
  const connection = new Connection(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
  (socket as WithConnection)[CONNECTION] = connection;
  return connection;
}

/** The record of a TCP or TLS socket (a TLS socket shares its TCP socket's record); undefined for a socket never tracked. */
export function connectionOf(socket: Socket): Connection | undefined {
  const tracked = socket as WithConnection;
  const own = tracked[CONNECTION];
  if (own !== undefined) return own;
  const parent = tracked._parent as WithConnection | null | undefined;
  const inherited = parent?.[CONNECTION];
  // Copied onto the TLS socket so later lookups (one per request) are one property read.
  if (inherited !== undefined) tracked[CONNECTION] = inherited;
  return inherited;
}

/** `address:port` of a socket's client: from its record when it has one. */
export function remoteOf(socket: Socket): string {
  return connectionOf(socket)?.remote ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
