/**
 * `entitlement-mock health [--url URL] [--timeout MS]`: exit 0 when the admin /health
 * answers 200 with `status: "ok"`, 1 otherwise (saying why), 2 on bad usage. The
 * container HEALTHCHECK: it needs no curl in the image.
 */
import http from 'node:http';
import https from 'node:https';
import { parseFlags } from './args.js';
import { urlHost } from '../server/url-host.js';

const DEFAULT_TIMEOUT_MS = 3000;

export const HEALTH_HELP = `Usage: entitlement-mock health [--url URL] [--timeout MS]

Exit 0 when the mock's admin /health answers ok, 1 otherwise.

Options:
  --url URL      default http://127.0.0.1:\${EM_ADMIN_PORT:-8080}/health
                 (the host is EM_ADMIN_HOST when that is a specific address)
  --timeout MS   give up after MS milliseconds (default ${DEFAULT_TIMEOUT_MS})`;

/** Where the mock's own /health is, from the same EM_* variables `serve` reads. */
export function defaultHealthUrl(env: NodeJS.ProcessEnv): string {
  return `${defaultAdminUrl(env)}/health`;
}

/** Where the mock's admin API is, from the same EM_* variables `serve` reads. */
export function defaultAdminUrl(env: NodeJS.ProcessEnv): string {
  const port = env.EM_ADMIN_PORT && env.EM_ADMIN_PORT !== '' ? env.EM_ADMIN_PORT : '8080';
  const configuredHost = env.EM_ADMIN_HOST ?? '';
  return `http://${urlHost(configuredHost, '127.0.0.1')}:${port}`;
}

export type HealthOutcome = { healthy: true; summary: string } | { healthy: false; reason: string };

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${HEALTH_HELP}\n`);
    return 0;
  }
  let url: URL;
  let timeoutMs: number;
  try {
    const values = parseFlags(args, { url: { type: 'string' }, timeout: { type: 'string' } });
    const rawUrl = values.url ?? defaultHealthUrl(process.env);
    try {
      url = new URL(rawUrl);
    } catch {
      throw new Error(`--url: not a URL: "${rawUrl}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--url: expected http:// or https://, got "${rawUrl}"`);
    const rawTimeout = values.timeout ?? String(DEFAULT_TIMEOUT_MS);
    if (!/^\d+$/.test(rawTimeout) || Number(rawTimeout) === 0)
      throw new Error(`--timeout: expected a positive number of milliseconds, got "${rawTimeout}"`);
    timeoutMs = Number(rawTimeout);
  } catch (error) {
    process.stderr.write(`entitlement-mock health: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }

  const outcome = await checkHealth(url, timeoutMs);
  if (outcome.healthy) {
    process.stdout.write(`healthy: ${outcome.summary}\n`);
    return 0;
  }
  process.stderr.write(`unhealthy: ${url.href}: ${outcome.reason}\n`);
  return 1;
}

/** GET the URL; healthy when it answers 200 with a JSON body whose status is "ok". Never rejects. */
export function checkHealth(url: URL, timeoutMs: number): Promise<HealthOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: HealthOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve(outcome);
    };
    const request = (url.protocol === 'https:' ? https : http).get(url, { agent: false, headers: { Accept: 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => finish({ healthy: false, reason: `response cut short (${error.message})` }));
      response.on('end', () => finish(judge(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'ECONNREFUSED' ? 'connection refused (is the mock running, on this port?)' : `${error.code ?? 'error'}: ${error.message}`;
      finish({ healthy: false, reason });
    });
    const deadline = setTimeout(() => finish({ healthy: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
}

function judge(status: number, bodyText: string): HealthOutcome {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const fields = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
  if (status !== 200) return { healthy: false, reason: `HTTP ${status}${bodyText ? `: ${bodyText.slice(0, 200)}` : ''}` };
  if (!fields) return { healthy: false, reason: `HTTP 200 but the body is not a JSON object: ${bodyText.slice(0, 200)}` };
  if (fields.status !== 'ok') return { healthy: false, reason: `status is ${JSON.stringify(fields.status)}, not "ok"` };
  const scenario = typeof fields.scenario === 'string' ? `scenario ${fields.scenario}` : 'ok';
  const uptime = typeof fields.uptimeSeconds === 'number' ? `, up ${Math.round(fields.uptimeSeconds)} s` : '';
  return { healthy: true, summary: `${scenario}${uptime}` };
}
