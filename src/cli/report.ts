/**
 * `entitlement-mock report [--admin-url URL] [--fail-on warn|error] [--accept ID]… [--accept-file FILE] [--json]`:
 * prints the report card on the license server under test. Exit 0, or 1 when --fail-on finds a
 * finding at least that severe that is not accepted, 2 on bad usage, 3 when the report could not be fetched.
 */
import { parseFlags, UsageError } from './args.js';
import { adminClientFrom, adminUnreachable } from './admin-connection.js';
import type { AdminClient } from '../client/admin-client.js';
import { failsAt, reportAsText } from '../report/text.js';
import { readAcceptFile } from '../report/accept-file.js';
import { parseAccepted, unknownFindingMessage } from '../report/scope.js';
import type { FindingId, Report, Severity } from '../report/types.js';

export const REPORT_HELP = `Usage: entitlement-mock report [--admin-url URL] [--fail-on warn|error] [--accept ID]... [--accept-file FILE] [--json] [--token T]

Print what the license server under test did wrong since the mock's last reset.

Options:
  --admin-url URL     default http://127.0.0.1:\${EM_ADMIN_PORT:-8080}
                      (the host is EM_ADMIN_HOST when that is a specific address)
  --fail-on LEVEL     exit 1 when a finding is at least this severe: error, or warn
                      (warnings and errors); without it the exit code is 0
  --accept ID         a finding id the team accepts (repeatable, or comma-separated;
                      default: EM_REPORT_ACCEPT): shown as accepted, ignored by --fail-on
  --accept-file FILE  a YAML file with an accept: list of finding ids
                      (default: EM_REPORT_ACCEPT_FILE)
  --json              print the report as JSON (GET /admin/report's answer)
  --token T           the admin token (default: EM_ADMIN_TOKEN)

Finding ids: docs/report.md. Exit codes: 0 ok, 1 findings at --fail-on (not accepted),
2 bad usage (an unknown finding id, an accept file that does not read), 3 the report could not be fetched.`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${REPORT_HELP}\n`);
    return 0;
  }
  let client: AdminClient;
  let failOn: Severity | null;
  let json: boolean;
  let accept: FindingId[];
  try {
    const values = parseFlags(args, {
      'admin-url': { type: 'string' },
      'fail-on': { type: 'string' },
      accept: { type: 'string', multiple: true },
      'accept-file': { type: 'string' },
      json: { type: 'boolean' },
      token: { type: 'string' },
    });
    client = adminClientFrom(values);
    const level = values['fail-on'];
    if (level !== undefined && level !== 'warn' && level !== 'error') throw new UsageError(`--fail-on: expected warn or error, got "${level}"`);
    failOn = level ?? null;
    json = values.json ?? false;
    accept = await acceptedIds(values.accept ?? (process.env.EM_REPORT_ACCEPT ? [process.env.EM_REPORT_ACCEPT] : []), values['accept-file'] ?? (process.env.EM_REPORT_ACCEPT_FILE || undefined));
  } catch (error) {
    process.stderr.write(`entitlement-mock report: ${(error as Error).message}\n`);
    return 2;
  }

  let report: Report;
  try {
    report = await client.report({ accept });
  } catch (error) {
    return adminUnreachable('report', error);
  }
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : reportAsText(report));
  return failOn !== null && failsAt(report, failOn) ? 1 : 0;
}

/** The ids of --accept (each possibly a comma-separated list) and of the accept file, checked. */
async function acceptedIds(lists: string[], file: string | undefined): Promise<FindingId[]> {
  const given = parseAccepted(lists);
  if (!given.ok) throw new UsageError(`--accept: ${unknownFindingMessage(given.unknown)}`);
  if (file === undefined) return given.ids;
  const fromFile = await readAcceptFile(file);
  if (!fromFile.ok) throw new UsageError(`--accept-file: ${fromFile.message}`);
  return [...new Set([...given.ids, ...fromFile.ids])];
}
