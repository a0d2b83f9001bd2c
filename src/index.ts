/**
 * `entitlement-mock`: start a mock inside a Node test process.
 *
 *   const mock = await startMock();
 *   // mock.entitlementUrl, mock.clientCert.pem, mock.client.waitForRequests(...)
 *   await mock.stop();
 *
 * Free ports, a development PKI in a temporary folder and no log output by default;
 * stop() closes both listeners and removes the temporary folder.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMock as startRunningMock } from './server/mock.js';
import { DEFAULT_OPTIONS, type MockOptions } from './server/options.js';
import { createLogger, type LogLevel } from './server/logger.js';
import type { TlsVersion } from './server/tls-offer.js';
import { AdminClient } from './client/admin-client.js';

export { AdminClient, AdminApiError, runConformance } from './client/index.js';
export type * from './client/index.js';
export type { TlsVersion } from './server/tls-offer.js';

/** The scenarios bundled with the package (default, showcase, …). */
export const BUNDLED_SCENARIOS = fileURLToPath(new URL('../scenarios/', import.meta.url));

export interface StartMockOptions {
  /**
   * Where the scenarios come from: a folder of `*.yaml` files or one file (a path), or inline
   * scenarios by name: YAML text, or a scenario as an object. Default: the bundled scenarios.
   */
  scenarios?: string | Record<string, string | object>;
  /** The scenario active at start. Default `default`. */
  scenario?: string;
  /**
   * A folder with ca.crt, server.crt/key and client.crt/key (what is missing is generated there).
   * Default: a development PKI generated in a temporary folder that stop() removes.
   */
  certs?: string;
  /** Entitlement port; default 0 (a free port). */
  port?: number;
  /** Admin port; default 0 (a free port). */
  adminPort?: number;
  /** Address of both listeners; default 127.0.0.1. */
  host?: string;
  /** When set, admin routes but /health need `Authorization: Bearer <token>` (the client sends it). */
  adminToken?: string;
  /** Default `silent`. Log lines go to standard output. */
  logLevel?: LogLevel;
  /** Seed for random choices and uniform delays; default random. */
  seed?: number;
  /** How many requests the journal keeps; default 10,000. */
  journalSize?: number;
  /**
   * Also start the trouble listeners (bad server certificates: expired, wrong host, untrusted CA,
   * self-signed, revoked) and the CRL listener on this first port and the next ones, or on free
   * ports with 0. Default: none.
   */
  troublePort?: number;
  /** The lowest TLS version the entitlement listener offers; default `TLSv1.2`. */
  tlsMinVersion?: TlsVersion;
  /** The highest TLS version it offers; default `TLSv1.3`. */
  tlsMaxVersion?: TlsVersion;
  /** Its TLS 1.2 cipher suites, an OpenSSL cipher list (`ECDHE-ECDSA-AES256-GCM-SHA384:…`); default Node's. */
  ciphers?: string;
  /** Its TLS 1.3 cipher suites, colon-separated (`TLS_AES_256_GCM_SHA384:…`); default Node's. */
  tls13Ciphers?: string;
  /** `redis://HOST:PORT[/DB]`: share scenarios, sessions, counters and states with other mocks there (docs/scaling.md). Default: none. */
  store?: string;
  /** Admin URLs of the other replicas (comma list), or one host name resolving to all: journal questions answer for all of them (docs/scaling.md). Default: none. */
  peers?: string;
}

/** A file the mock uses, as a path and as PEM text. */
export interface PemFile {
  path: string;
  pem: string;
}

export interface StartedMock {
  /** `https://127.0.0.1:PORT/entitlement`: where a license server sends Entitlement Requests (with clientCert/clientKey). */
  readonly entitlementUrl: string;
  /** `http://127.0.0.1:PORT`: the admin API. */
  readonly adminUrl: string;
  /** The CA that issued the server's and the client's certificates: trust it to reach entitlementUrl. */
  readonly ca: PemFile;
  /** The license server's client certificate and key, issued by `ca`. */
  readonly clientCert: PemFile;
  readonly clientKey: PemFile;
  /** The trouble listeners' entitlement URLs by name (`expired`, `wrong-host`, …); empty without troublePort. */
  readonly troubleUrls: Readonly<Record<string, string>>;
  /** With troublePort: where the CRL revoking the `revoked` listener's certificate is published (its CRL distribution point); else null. */
  readonly crlUrl: string | null;
  /** The typed admin client, bound to adminUrl (and the admin token). */
  readonly client: AdminClient;
  /** Closes both listeners (freeing the ports) and removes the temporary folder. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startMock(options: StartMockOptions = {}): Promise<StartedMock> {
  const temp = await mkdtemp(join(tmpdir(), 'entitlement-mock-'));
  try {
    const certs = options.certs ?? join(temp, 'certs');
    const host = options.host ?? '127.0.0.1';
    const mockOptions: MockOptions = {
      ...DEFAULT_OPTIONS,
      scenarios: await scenarioSource(options.scenarios, temp),
      scenario: options.scenario ?? DEFAULT_OPTIONS.scenario,
      host,
      port: options.port ?? 0,
      adminHost: host,
      adminPort: options.adminPort ?? 0,
      adminToken: options.adminToken ?? null,
      certs,
      watch: false,
      logLevel: options.logLevel ?? 'silent',
      seed: options.seed ?? null,
      journalSize: options.journalSize ?? DEFAULT_OPTIONS.journalSize,
      troublePort: options.troublePort ?? null,
      tlsMinVersion: options.tlsMinVersion ?? DEFAULT_OPTIONS.tlsMinVersion,
      tlsMaxVersion: options.tlsMaxVersion ?? DEFAULT_OPTIONS.tlsMaxVersion,
      ciphers: options.ciphers ?? null,
      tls13Ciphers: options.tls13Ciphers ?? null,
      store: options.store ?? null,
      peers: options.peers ?? null,
    };
    const running = await startRunningMock(mockOptions, createLogger(mockOptions.logLevel));
    const pem = async (name: string): Promise<PemFile> => {
      const path = join(certs, name);
      return { path, pem: await readFile(path, 'utf8') };
    };
    const [ca, clientCert, clientKey] = await Promise.all([pem('ca.crt'), pem('client.crt'), pem('client.key')]);
    let stopped: Promise<void> | null = null;
    return {
      entitlementUrl: running.entitlementUrl,
      adminUrl: running.adminUrl,
      crlUrl: running.crlUrl,
      troubleUrls: Object.fromEntries(Object.entries(running.troublePorts).map(([name, port]) => [name, withPort(running.entitlementUrl, port)])),
      ca,
      clientCert,
      clientKey,
      client: new AdminClient(running.adminUrl, options.adminToken === undefined ? {} : { token: options.adminToken }),
      stop: () => (stopped ??= running.close().finally(() => rm(temp, { recursive: true, force: true }))),
    };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.href;
}

/** The scenarios option as a path: as given, the bundled folder, or inline scenarios written into the temporary folder. */
async function scenarioSource(scenarios: StartMockOptions['scenarios'], temp: string): Promise<string> {
  if (scenarios === undefined) return BUNDLED_SCENARIOS;
  if (typeof scenarios === 'string') return scenarios;
  const folder = join(temp, 'scenarios');
  await mkdir(folder);
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (!/^[\w.-]+$/.test(name)) throw new TypeError(`scenario name "${name}": use letters, digits, ".", "_" and "-" only`);
    // A scenario's name defaults to its file's name; JSON is YAML, so objects are written as JSON.
    await writeFile(join(folder, `${name}.yaml`), typeof scenario === 'string' ? scenario : JSON.stringify(scenario, null, 2));
  }
  return folder;
}
