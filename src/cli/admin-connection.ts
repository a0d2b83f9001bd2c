/**
 * How a CLI command that talks to a running mock's admin API reaches it: the admin URL
 * (--admin-url, else the one EM_ADMIN_HOST/EM_ADMIN_PORT describe) and the token (--token, else
 * EM_ADMIN_TOKEN) as a typed client with a time limit per call, and the words for "could not
 * reach it" (those commands exit 3 then).
 */
import { UsageError } from './args.js';
import { defaultAdminUrl } from './health.js';
import { AdminApiError, AdminClient } from '../client/admin-client.js';

const TIMEOUT_MS = 10_000;

export interface AdminConnectionFlags {
  'admin-url'?: string;
  token?: string;
}

/** The typed client for the admin API the flags name; a UsageError when --admin-url is not a URL. */
export function adminClientFrom(values: AdminConnectionFlags): AdminClient {
  const base = values['admin-url'] ?? defaultAdminUrl(process.env);
  try {
    new URL(base);
  } catch {
    throw new UsageError(`--admin-url: not a URL: "${base}"`);
  }
  const token = values.token ?? (process.env.EM_ADMIN_TOKEN || undefined);
  return new AdminClient(base, {
    ...(token !== undefined ? { token } : {}),
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) }),
  });
}

/** Says on stderr why `command` could not get its answer from the admin API; the exit code, 3. */
export function adminUnreachable(command: string, error: unknown): number {
  if (error instanceof AdminApiError) {
    process.stderr.write(`entitlement-mock ${command}: ${error.message}\n`);
    return 3;
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code === 'ECONNREFUSED' ? 'connection refused (is the mock running, on this port?)' : [(error as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
  process.stderr.write(`entitlement-mock ${command}: cannot reach the admin API: ${reason}\n`);
  return 3;
}
