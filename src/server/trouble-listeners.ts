/**
 * --trouble-port N: the same scenarios behind deliberately bad server certificates, so a test rig
 * can check that the license server verifies its peer. N expired, N+1 wrong host name, N+2
 * untrusted CA, N+3 self-signed, N+4 revoked (by the dev CA, in the CRL that N+5 publishes over
 * plain HTTP). 0: each on a free port. Loaded only when asked for.
 */
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { ensureTroublePki, troubleCa, TROUBLE_KINDS } from '../pki/trouble.js';
import { CRL_PATH, CrlPublisher, issueRevokedCertificate } from '../pki/revocation.js';
import { serverSans, splitSanList } from '../pki/san.js';
import type { ListenerName } from '../journal/entry.js';
import type { RunningListener } from './entitlement-listener.js';
import { startCrlListener } from './crl-listener.js';
import type { MockOptions } from './options.js';
import { listening, writingCerts, type ListenerRole } from './startup-errors.js';

/** The trouble listeners in port order (N, N+1, …); the CRL listener comes after them. */
export const TROUBLE_LISTENERS: readonly ListenerName[] = Object.freeze([...TROUBLE_KINDS, 'revoked']);

export interface TroubleListenerSetup {
  options: MockOptions;
  /** Starts one trouble listener: an entitlement listener (the caller's handler, client CA and limits) with this certificate. */
  startListener: (name: ListenerName, material: { cert: Buffer; key: Buffer }, port: number) => Promise<RunningListener>;
  /** Each listener as it starts, so a failed start can close those already open. */
  listeners: RunningListener[];
  /** The CRL listener, once it starts (likewise). */
  servers: Server[];
  onCrlFetch: (fetch: { remote: string; method: string }) => void;
  onCrlError: (error: unknown) => void;
}

/** Starts them all; resolves to the CRL's URL (the revoked certificate's CRL distribution point). */
export async function startTroubleListeners(setup: TroubleListenerSetup): Promise<{ crlUrl: string }> {
  const { options } = setup;
  const first = options.troublePort ?? 0;
  const portOf = (index: number) => (first === 0 ? 0 : first + index);
  const role = (name: string): ListenerRole => ({
    name,
    portOption: 'troublePort',
    hostOption: 'host',
    portAdvice: `the trouble listeners take ${first} to ${first + TROUBLE_LISTENERS.length}: choose another first port`,
  });
  const listenerRole = (index: number) => role(`trouble listener ${index + 1} of ${TROUBLE_LISTENERS.length} (${TROUBLE_LISTENERS[index]})`);
  const pki = { outDir: options.certs, sans: options.sans, keyType: options.keyType };

  const troubleCerts = await writingCerts(options.certs, () => ensureTroublePki(pki));
  for (const [index, kind] of TROUBLE_KINDS.entries()) {
    setup.listeners.push(await listening(listenerRole(index), options.host, portOf(index), setup.startListener(kind, troubleCerts[kind], portOf(index))));
  }

  // The CRL listener first: the revoked certificate names its address, port included.
  const ca = await writingCerts(options.certs, () => troubleCa(pki));
  const crlIndex = TROUBLE_LISTENERS.length;
  const crlListener = await listening(
    role(`the CRL listener (trouble port ${crlIndex + 1})`),
    options.host,
    portOf(crlIndex),
    startCrlListener({
      host: options.host,
      port: portOf(crlIndex),
      crl: new CrlPublisher(ca),
      headerTimeoutMs: options.headerTimeoutMs,
      onFetch: setup.onCrlFetch,
      onError: setup.onCrlError,
    }),
  );
  setup.servers.push(crlListener.server);
  const crlUrl = `http://${crlHost(options)}:${crlListener.port}${CRL_PATH}`;
  const revoked = await issueRevokedCertificate({ ca, sans: serverSans(splitSanList(options.sans)), keyType: options.keyType, crlUrl });
  const revokedIndex = TROUBLE_LISTENERS.indexOf('revoked');
  setup.listeners.push(
    await listening(
      listenerRole(revokedIndex),
      options.host,
      portOf(revokedIndex),
      setup.startListener('revoked', { cert: Buffer.from(revoked.certPem), key: Buffer.from(revoked.keyPem) }, portOf(revokedIndex)),
    ),
  );
  return { crlUrl };
}

/**
 * The CRL's host as a license server reaches the mock: the first --san (in a rig, the name
 * the license server uses for the mock), else the listen address when it is a specific one,
 * else 127.0.0.1 (not `localhost`, which may resolve to ::1 while the mock listens on IPv4 only).
 */
export function crlHost(options: Pick<MockOptions, 'sans' | 'host'>): string {
  const chosen = splitSanList(options.sans)[0]?.replace(/^\[(.*)\]$/, '$1') ?? (isWildcard(options.host) ? '127.0.0.1' : options.host);
  return isIP(chosen) === 6 ? `[${chosen}]` : chosen;
}

function isWildcard(address: string): boolean {
  return address === '' || address === '0.0.0.0' || address === '::';
}
