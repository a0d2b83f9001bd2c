/**
 * A license client for the compose rig: asks the reference license server for one license and
 * prints what it sent and got. Exit 0 granted, 1 refused, 2 no answer or bad usage.
 *
 *   node dist/examples/license-ask.mjs [CONTENT_ID] [--entitlement-url URL]
 *
 * LICENSE_SERVER_URL says where the license server is (default http://license-server:8081).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { 'entitlement-url': { type: 'string' }, 'request-type': { type: 'string' }, cookie: { type: 'string' } },
    allowPositionals: true,
  });
  const licenseServer = process.env.LICENSE_SERVER_URL || 'http://license-server:8081';
  const request = {
    contentID: positionals[0] ?? randomUUID(),
    ...(values['request-type'] === undefined ? {} : { requestType: Number(values['request-type']) }),
    ...(values.cookie === undefined ? {} : { customerCookie: values.cookie }),
    ...(values['entitlement-url'] === undefined ? {} : { entitlementUrl: values['entitlement-url'] }),
  };
  const url = new URL('/license', licenseServer);
  console.log(`POST ${url.href} ${JSON.stringify(request)}`);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(30_000),
  });
  const answer = (await response.json()) as { license?: string };
  console.log(`${response.status} ${JSON.stringify(answer)}`);
  return answer.license === 'granted' ? 0 : response.status === 400 ? 2 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`license client: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
