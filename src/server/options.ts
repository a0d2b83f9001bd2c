/** Everything `serve` can be told (SPEC section 2), after parsing and defaults. */
import type { ClientAuthMode } from './entitlement-listener.js';
import type { LogLevel } from './logger.js';
import type { KeyType } from '../pki/issue.js';


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
  /** First of four trouble ports (N..N+3), or null for none. */
  troublePort: number | null;
}

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
};
