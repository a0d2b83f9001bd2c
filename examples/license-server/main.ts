/**
 * The reference license server as a process, configured by environment variables (the compose
 * rig runs it this way):
 *
 *   ENTITLEMENT_URL  the entitlement service (required), e.g. https://entitlement-mock:8443/entitlement
 *   CERT, KEY, CA    PEM files: the client certificate, its key, the CA that issued the service's
 *                    certificate (default /certs/client.crt, /certs/client.key, /certs/ca.crt)
 *   HOST, PORT       where clients ask for licenses (default 0.0.0.0 and 8081)
 *   TIMEOUT_MS       the most one license request waits for the service, retries included (default 2000)
 *   MAX_RETRIES      further attempts after a 5xx, reset or close (default 1)
 *   BUGS             planted bugs, a comma list (default none; see bugs.ts)
 *
 * It prints one line when listening and one per license request, and stops on SIGTERM/SIGINT.
 */
import { parseBugFlags } from './bugs.js';
import { startLicenseServer } from './license-server.js';

function integer(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}=${raw}: expected an integer >= ${min}`);
  return value;
}

async function main(): Promise<void> {
  const entitlementUrl = process.env.ENTITLEMENT_URL;
  if (!entitlementUrl) throw new Error('ENTITLEMENT_URL: expected the entitlement service URL, e.g. https://entitlement-mock:8443/entitlement');
  const bugs = parseBugFlags(process.env.BUGS ?? '');
  const server = await startLicenseServer({
    entitlementUrl,
    cert: process.env.CERT || '/certs/client.crt',
    key: process.env.KEY || '/certs/client.key',
    ca: process.env.CA || '/certs/ca.crt',
    host: process.env.HOST || '0.0.0.0',
    port: integer('PORT', 8081, 0),
    timeoutMs: integer('TIMEOUT_MS', 2000, 1),
    maxRetries: integer('MAX_RETRIES', 1, 0),
    bugs,
    log: (line) => console.log(line),
  });
  console.log(`license server listening on ${server.url} (POST /license), asking ${entitlementUrl}${bugs.length > 0 ? `, planted bugs: ${bugs.join(', ')}` : ''}`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`license server: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
