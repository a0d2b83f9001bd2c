/**
 * `openssl s_client` against a mock running in this process (so asynchronous: a spawnSync
 * would block the mock's own event loop): the TLS client of a license server built on OpenSSL.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface SClientOutcome {
  /** 0 when the handshake completed (and, with -verify_return_error, the server certificate verified). */
  status: number | null;
  /** stdout and stderr together (-brief writes the handshake summary to stderr). */
  output: string;
}

/**
 * One handshake with `openssl s_client -brief`, presenting the client certificate of the
 * certs folder `certs` and verifying the server against its ca.crt, plus `extra` arguments.
 * Standard input is closed, so s_client ends right after the handshake.
 */
export function sClient(port: number, certs: string, extra: string[] = []): Promise<SClientOutcome> {
  const child = spawn(
    'openssl',
    [
      's_client',
      '-brief',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost',
      '-CAfile',
      join(certs, 'ca.crt'),
      '-cert',
      join(certs, 'client.crt'),
      '-key',
      join(certs, 'client.key'),
      '-verify_return_error',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill(), 15_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}
