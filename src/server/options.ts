/** Everything `serve` can be told (docs/cli.md), after parsing and defaults. */
import type { ClientAuthMode } from './entitlement-listener.js';
import type { LogLevel } from './logger.js';
import type { KeyType } from '../pki/issue.js';
import type { TlsVersion } from './tls-offer.js';
import type { RecordOptions } from '../record/recording.js';

export interface MockOptions {
  /** A folder of *.yaml / *.yml files, or one file. */
  scenarios: string;
  /** The scenario active at start. */
  scenario: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  path: string;
  adminHost: string;
  adminPort: number;
  adminToken: string | null;
  certs: string;
  /** Another CA bundle trusted for client certificates (default: certs/ca.crt). */
  clientCa: string | null;
  clientAuth: ClientAuthMode;
  /** Extra DNS names / IPs for a generated server certificate. */
  sans: string[];
  keyType: KeyType;
  watch: boolean;
  journalSize: number;
  logLevel: LogLevel;
  /** Seed for random choices and uniform delays; null = random. */
  seed: number | null;
  /** First of the trouble ports (N, N+1, …), 0 for a free port each, or null for none. */
  troublePort: number | null;
  /** A TLS handshake must complete within this many ms of the TCP connection (Node's default is 120 s). */
  handshakeTimeoutMs: number;
  /** A request's headers must be complete within this many ms of its first byte (or of the handshake). */
  headerTimeoutMs: number;
  /** A request body must be complete within this many ms of the end of its headers. */
  bodyTimeoutMs: number;
  /** Concurrent connections per entitlement listener; further ones are closed at once and recorded. */
  maxConnections: number;
  /** The lowest TLS version the entitlement and trouble listeners offer. */
  tlsMinVersion: TlsVersion;
  /** The highest TLS version they offer. */
  tlsMaxVersion: TlsVersion;
  /** Their TLS 1.2 cipher suites, an OpenSSL cipher list; null for Node's default. */
  ciphers: string | null;
  /** Their TLS 1.3 cipher suites, colon-separated; null for Node's default. */
  tls13Ciphers: string | null;
  /** `redis://HOST:PORT[/DB]`: replicas share scenarios, sessions, counters and states there (docs/scaling.md); null: this process alone. */
  store: string | null;
  /** Admin URLs of the other replicas (comma list), or one host name resolving to all of them: the journal questions answer for all (docs/scaling.md); null: none. */
  peers: string | null;
  /** `serve` writes {entitlementUrl, adminUrl, pid} here (atomically) once both listeners accept; null for none. */
  readyFile: string | null;
  /** Processes answering entitlement requests (`--workers`): 1 is this process; more run as a cluster (src/cluster/). */
  workers: number;
  /** Record mode (`entitlement-mock record`): forward every request to a real service and record its answers. */
  record?: RecordOptions;
}

/**
 * How often Node checks a listener's header and request time limits (its default is 30 s):
 * often enough that a limit is kept to within a quarter of itself, at most every second.
 */
export function timeoutCheckInterval(headerTimeoutMs: number): number {
  return Math.max(25, Math.min(1000, Math.floor(headerTimeoutMs / 4)));
}

/** Request headers larger than this are refused with 431 (Node's default, stated here so it is documented). */
export const MAX_HEADER_BYTES = 16 * 1024;

export const DEFAULT_OPTIONS: MockOptions = {
  scenarios: './scenarios',
  scenario: 'default',
  host: '0.0.0.0',
  port: 8443,
  path: '/entitlement',
  adminHost: '0.0.0.0',
  adminPort: 8080,
  adminToken: null,
  certs: './certs',
  clientCa: null,
  clientAuth: 'required',
  sans: [],
  keyType: 'ec',
  watch: true,
  journalSize: 10000,
  logLevel: 'info',
  seed: null,
  troublePort: null,
  handshakeTimeoutMs: 10_000,
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  maxConnections: 1000,
  tlsMinVersion: 'TLSv1.2',
  tlsMaxVersion: 'TLSv1.3',
  ciphers: null,
  tls13Ciphers: null,
  readyFile: null,
  store: null,
  workers: 1,
  peers: null,
};
