/**
 * `serve` options from the command line and EM_* environment variables
 * (command line wins), validated into MockOptions. Errors are one line naming the option.
 */
import { availableParallelism } from 'node:os';
import { MAX_WORKERS } from '../cluster/entry-ids.js';
import { parseFlags, UsageError } from './args.js';
import { DEFAULT_OPTIONS, type MockOptions } from '../server/options.js';
import { LOG_LEVELS, type LogLevel } from '../server/logger.js';
import { parseSan, splitSanList } from '../pki/san.js';
import { tlsOffer, TlsOptionError, TLS_VERSIONS } from '../server/tls-offer.js';
import { parseStoreUrl, StoreUrlError } from '../store/url.js';
import { parsePeers, PeersOptionError } from '../federation/peers-option.js';

export { UsageError };

export interface OptionSpec {
  env: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  help: string;
}

/** The serve options in the order --help lists them. */
export const SERVE_OPTIONS = {
  scenarios: { env: 'EM_SCENARIOS', type: 'string', help: 'folder of *.yaml/*.yml scenario files, or one file' },
  scenario: { env: 'EM_SCENARIO', type: 'string', help: 'the scenario active at start' },
  host: { env: 'EM_HOST', type: 'string', help: 'entitlement listener address' },
  port: { env: 'EM_PORT', type: 'string', help: 'entitlement listener port (HTTPS, mTLS); 0 picks a free port' },
  path: { env: 'EM_PATH', type: 'string', help: "the entitlement endpoint's path" },
  'admin-host': { env: 'EM_ADMIN_HOST', type: 'string', help: 'admin listener address' },
  'admin-port': { env: 'EM_ADMIN_PORT', type: 'string', help: 'admin listener port (plain HTTP); 0 picks a free port' },
  'admin-token': { env: 'EM_ADMIN_TOKEN', type: 'string', help: 'require Authorization: Bearer T on admin routes but /health' },
  certs: { env: 'EM_CERTS', type: 'string', help: 'folder with server.crt, server.key, ca.crt (generated if missing)' },
  'client-ca': { env: 'EM_CLIENT_CA', type: 'string', help: 'another CA bundle to trust for client certificates' },
  'client-auth': { env: 'EM_CLIENT_AUTH', type: 'string', help: 'required | optional' },
  san: { env: 'EM_SAN', type: 'string', multiple: true, help: 'extra DNS name/IP for a generated server certificate (repeatable)' },
  'key-type': { env: 'EM_KEY_TYPE', type: 'string', help: 'ec (ECDSA P-256) | rsa (RSA-2048) for a generated PKI' },
  'no-watch': { env: 'EM_WATCH', type: 'boolean', help: 'do not reload scenario files when they change (EM_WATCH=false)' },
  'journal-size': { env: 'EM_JOURNAL_SIZE', type: 'string', help: 'requests kept in the journal' },
  'log-level': { env: 'EM_LOG_LEVEL', type: 'string', help: LOG_LEVELS.join(' | ') },
  seed: { env: 'EM_SEED', type: 'string', help: 'seed for random: choices and uniform delays' },
  'trouble-port': { env: 'EM_TROUBLE_PORT', type: 'string', help: 'also listen on N..N+4 with bad server certificates and N+5 serving their CRL (0: each on a free port)' },
  'handshake-timeout': { env: 'EM_HANDSHAKE_TIMEOUT', type: 'string', help: 'TLS handshake time limit (10s; 500ms; plain number = ms)' },
  'header-timeout': { env: 'EM_HEADER_TIMEOUT', type: 'string', help: 'time limit for a request\'s headers (10s)' },
  'body-timeout': { env: 'EM_BODY_TIMEOUT', type: 'string', help: 'time limit for a request body after its headers (30s)' },
  'max-connections': { env: 'EM_MAX_CONNECTIONS', type: 'string', help: 'concurrent connections per entitlement listener (1000)' },
  'tls-min-version': { env: 'EM_TLS_MIN_VERSION', type: 'string', help: `lowest TLS version offered: ${TLS_VERSIONS.join(' | ')} (TLSv1.2)` },
  'tls-max-version': { env: 'EM_TLS_MAX_VERSION', type: 'string', help: `highest TLS version offered: ${TLS_VERSIONS.join(' | ')} (TLSv1.3)` },
  ciphers: { env: 'EM_CIPHERS', type: 'string', help: "TLS 1.2 cipher suites offered, an OpenSSL cipher list (Node's default)" },
  'tls13-ciphers': { env: 'EM_TLS13_CIPHERS', type: 'string', help: "TLS 1.3 cipher suites offered, colon-separated (Node's default)" },
  'ready-file': { env: 'EM_READY_FILE', type: 'string', help: 'write {entitlementUrl, adminUrl, pid} as JSON here once both listeners accept' },
  peers: { env: 'EM_PEERS', type: 'string', help: 'admin URLs of the other replicas (a,b,c) or one host name resolving to all: journal questions answer for all' },
  store: { env: 'EM_STORE', type: 'string', help: 'redis://HOST:PORT[/DB]: replicas share scenarios, sessions, counters and states there' },
  workers: { env: 'EM_WORKERS', type: 'string', help: 'processes answering entitlement requests: N, or auto (one per available core) (1)' },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof SERVE_OPTIONS;

export function parseServeOptions(args: string[], env: NodeJS.ProcessEnv): MockOptions {
  const values: Record<string, string | boolean | (string | boolean)[] | undefined> = parseFlags(
    args,
    Object.fromEntries(
      Object.entries(SERVE_OPTIONS).map(([name, spec]) => [name, { type: spec.type, ...('multiple' in spec ? { multiple: true } : {}) }]),
    ),
  );

  /** The raw text of an option: command line first, then its environment variable. */
  const raw = (name: OptionName): string | undefined => {
    const value = values[name];
    if (typeof value === 'string') return value;
    const fromEnv = env[SERVE_OPTIONS[name].env];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const text = (name: OptionName, fallback: string) => raw(name) ?? fallback;

  const sansFromArgs = values.san as string[] | undefined;
  const sanList = sansFromArgs && sansFromArgs.length > 0 ? sansFromArgs : env.EM_SAN ? [env.EM_SAN] : [];

  const options: MockOptions = {
    scenarios: text('scenarios', DEFAULT_OPTIONS.scenarios),
    scenario: text('scenario', DEFAULT_OPTIONS.scenario),
    host: text('host', DEFAULT_OPTIONS.host),
    port: portOption('port', raw('port'), DEFAULT_OPTIONS.port),
    path: pathOption(text('path', DEFAULT_OPTIONS.path)),
    adminHost: text('admin-host', DEFAULT_OPTIONS.adminHost),
    adminPort: portOption('admin-port', raw('admin-port'), DEFAULT_OPTIONS.adminPort),
    adminToken: raw('admin-token') ?? null,
    certs: text('certs', DEFAULT_OPTIONS.certs),
    clientCa: raw('client-ca') ?? null,
    clientAuth: choiceOption('client-auth', text('client-auth', DEFAULT_OPTIONS.clientAuth), ['required', 'optional']),
    sans: sanOption(sanList),
    keyType: choiceOption('key-type', text('key-type', DEFAULT_OPTIONS.keyType), ['ec', 'rsa']),
    watch: values['no-watch'] === true ? false : booleanEnv('EM_WATCH', env.EM_WATCH, DEFAULT_OPTIONS.watch),
    journalSize: integerOption('journal-size', raw('journal-size'), DEFAULT_OPTIONS.journalSize, 1, 10_000_000),
    logLevel: choiceOption('log-level', text('log-level', DEFAULT_OPTIONS.logLevel), LOG_LEVELS) as LogLevel,
    seed: raw('seed') === undefined ? null : integerOption('seed', raw('seed'), 0, 0, 2 ** 32 - 1),
    troublePort: raw('trouble-port') === undefined ? null : integerOption('trouble-port', raw('trouble-port'), 0, 0, 65530),
    handshakeTimeoutMs: durationOption('handshake-timeout', raw('handshake-timeout'), DEFAULT_OPTIONS.handshakeTimeoutMs),
    headerTimeoutMs: durationOption('header-timeout', raw('header-timeout'), DEFAULT_OPTIONS.headerTimeoutMs),
    bodyTimeoutMs: durationOption('body-timeout', raw('body-timeout'), DEFAULT_OPTIONS.bodyTimeoutMs),
    maxConnections: integerOption('max-connections', raw('max-connections'), DEFAULT_OPTIONS.maxConnections, 1, 1_000_000),
    tlsMinVersion: choiceOption('tls-min-version', text('tls-min-version', DEFAULT_OPTIONS.tlsMinVersion), TLS_VERSIONS),
    tlsMaxVersion: choiceOption('tls-max-version', text('tls-max-version', DEFAULT_OPTIONS.tlsMaxVersion), TLS_VERSIONS),
    ciphers: raw('ciphers') ?? null,
    tls13Ciphers: raw('tls13-ciphers') ?? null,
    readyFile: raw('ready-file') ?? null,
    store: storeOption(raw('store')),
    workers: workersOption(raw('workers')),
    peers: null,
  };
  options.peers = peersOption(raw('peers'), options.adminPort);
  tlsOption(options);
  return options;
}

const TLS_FLAGS = { tlsMinVersion: 'tls-min-version', tlsMaxVersion: 'tls-max-version', ciphers: 'ciphers', tls13Ciphers: 'tls13-ciphers' } as const;

/** The TLS versions in order and cipher lists this OpenSSL accepts (server/tls-offer.ts checks them again at start). */
function tlsOption(options: MockOptions): void {
  try {
    tlsOffer(options);
  } catch (error) {
    if (error instanceof TlsOptionError) throw new UsageError(`--${TLS_FLAGS[error.option]}: ${error.problem}`);
    throw error;
  }
}

/** --store: checked here so that a wrong URL is a usage error, not a failure at start. */
function storeOption(value: string | undefined): string | null {
  if (value === undefined) return null;
  try {
    parseStoreUrl(value);
  } catch (error) {
    if (error instanceof StoreUrlError) throw new UsageError(error.message);
    throw error;
  }
  return value;
}

/** --peers: checked here (the admin port is the default port of a host name). */
function peersOption(value: string | undefined, adminPort: number): string | null {
  if (value === undefined) return null;
  try {
    parsePeers(value, adminPort);
  } catch (error) {
    if (error instanceof PeersOptionError) throw new UsageError(error.message);
    throw error;
  }
  return value;
}

/** The longest time limit an option takes (one hour). */
export const MAX_TIMEOUT_MS = 60 * 60 * 1000;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s)?$/;

/** A time limit: `10s`, `1.5s`, `500ms`, or a plain number of milliseconds; from 1 ms to one hour. */
export function durationOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parts = DURATION.exec(value.trim());
  const ms = parts ? Math.round(Number(parts[1]) * (parts[2] === 's' ? 1000 : 1)) : NaN;
  if (!(ms >= 1 && ms <= MAX_TIMEOUT_MS))
    throw new UsageError(`--${name}: expected a duration from 1ms to 3600s (e.g. 10s, 500ms), got "${value}"`);
  return ms;
}

/** --san entries (repeated or comma lists), each checked to be a DNS name or an IP address. */
function sanOption(values: string[]): string[] {
  const entries = splitSanList(values);
  for (const entry of entries) {
    try {
      parseSan(entry);
    } catch (error) {
      throw new UsageError(`--san: ${(error as Error).message}`);
    }
  }
  return entries;
}

function integerOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < min || number > max)
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got "${value}"`);
  return number;
}

/** `--workers N|auto`: auto is one per core this process may use. */
function workersOption(value: string | undefined): number {
  if (value?.trim() === 'auto') return Math.min(availableParallelism(), MAX_WORKERS - 1);
  return integerOption('workers', value, DEFAULT_OPTIONS.workers, 1, MAX_WORKERS - 1);
}

function portOption(name: string, value: string | undefined, fallback: number): number {
  return integerOption(name, value, fallback, 0, 65535);
}

function pathOption(value: string): string {
  if (!value.startsWith('/')) throw new UsageError(`--path: expected a path starting with "/", got "${value}"`);
  return value;
}

function choiceOption<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value))
    throw new UsageError(`--${name}: expected one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

export function booleanEnv(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new UsageError(`${name}: expected true or false, got "${value}"`);
}

export function serveHelp(): string {
  return optionsHelp(SERVE_OPTIONS);
}

/** One line per option: flag, environment variable, help. */
export function optionsHelp(options: Record<string, OptionSpec>): string {
  const envWidth = Math.max(21, ...Object.values(options).map((spec) => spec.env.length + 1));
  const lines = Object.entries(options).map(([name, spec]) => {
    const flag = `--${name}${spec.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag.padEnd(28)} ${spec.env.padEnd(envWidth)} ${spec.help}`;
  });
  return lines.join('\n');
}
