/**
 * `entitlement-mock conformance start|report|end`: drive a conformance run from a shell or CI.
 * `start` prints the run (its id and the cases to ask) as JSON; the harness asks its license
 * server and posts each outcome (POST /admin/conformance/runs/ID/cases/CASE); `report` prints
 * the verdicts, writes JUnit XML, and exits 1 on a failing verdict.
 * Exit codes: 0 ok, 1 a verdict at --fail-on, 2 bad usage (or a plan/case the mock refused),
 * 3 the admin API could not be reached or answered with an error.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseFlags, UsageError } from './args.js';
import { adminClientFrom, adminUnreachable } from './admin-connection.js';
import { AdminApiError, type ConformanceRunOptions } from '../client/admin-client.js';
import { POSTED_PLAN, type RunReport } from '../conformance/types.js';


export const CONFORMANCE_HELP = `Usage: entitlement-mock conformance start [--plan P] [--cases a,b] [--timeout T] [--host H]
       entitlement-mock conformance report ID [--junit FILE] [--json] [--fail-on fail|inconclusive]
       entitlement-mock conformance end ID

Grade how a license server acts on its entitlement service's answers (docs/conformance.md).

start     start a run and print it as JSON: its id and, per case, the contentID (and
          requestType, customerCookie, entitlementUrl) to ask the license server for
  --plan P        a bundled plan name (default entitlement-v1) or a plan file
  --cases a,b     only these cases (in plan order)
  --timeout T     the license server's timeout, e.g. 2s (default 2s)
  --host H        host name in the trouble-listener cases' entitlementUrl
report    print the verdicts of run ID
  --junit FILE    also write them as JUnit XML to FILE
  --json          print the report as JSON (GET /admin/conformance/runs/ID's answer)
  --fail-on V     exit 1 when a case is fail (default), or fail or inconclusive
end       end run ID

Common options:
  --admin-url URL   default http://127.0.0.1:\${EM_ADMIN_PORT:-8080}
                    (the host is EM_ADMIN_HOST when that is a specific address)
  --token T         the admin token (default: EM_ADMIN_TOKEN)

Exit codes: 0 ok, 1 a verdict at --fail-on, 2 bad usage or a plan or case the mock
refused, 3 the admin API could not be reached or answered with an error.`;

const COMMON = { 'admin-url': { type: 'string' }, token: { type: 'string' } } as const;

type Outcome = { code: number };

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${CONFORMANCE_HELP}\n`);
    return subcommand === undefined ? 2 : 0;
  }
  try {
    switch (subcommand) {
      case 'start':
        return (await start(rest)).code;
      case 'report':
        return (await report(rest)).code;
      case 'end':
        return (await end(rest)).code;
      default:
        throw new UsageError(`unknown subcommand "${subcommand}": start, report or end`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`entitlement-mock conformance: ${error.message}\n`);
      return 2;
    }
    return adminUnreachable('conformance', error);
  }
}

async function start(args: string[]): Promise<Outcome> {
  const values = parseFlags(args, { ...COMMON, plan: { type: 'string' }, cases: { type: 'string' }, timeout: { type: 'string' }, host: { type: 'string' } });
  const client = adminClientFrom(values);
  const options: ConformanceRunOptions = {};
  const plan = values.plan === undefined ? null : planOption(values.plan);
  if (plan !== null) options.plan = plan.plan;
  if (values.cases !== undefined) options.cases = values.cases.split(',').map((id) => id.trim()).filter((id) => id !== '');
  if (values.timeout !== undefined) options.timeout = /^\d+$/.test(values.timeout) ? Number(values.timeout) : values.timeout;
  if (values.host !== undefined) options.host = values.host;
  try {
    const started = await client.startConformanceRun(options);
    process.stdout.write(`${JSON.stringify(started, null, 2)}\n`);
    for (const testCase of started.cases) if (testCase.notRun) process.stderr.write(`not run: ${testCase.id}: ${testCase.notRun}\n`);
    return { code: 0 };
  } catch (error) {
    if (error instanceof AdminApiError && error.status === 400) {
      process.stderr.write(`entitlement-mock conformance: ${error.serverMessage}\n`);
      for (const problem of (error.body as { errors?: { file: string; line: number; column: number; message: string }[] }).errors ?? []) {
        // The mock saw posted text; the user gave a file: name it, as validate does.
        const file = plan?.file !== undefined && problem.file === POSTED_PLAN ? plan.file : problem.file;
        process.stderr.write(`${file}:${problem.line}:${problem.column}: ${problem.message}\n`);
      }
      return { code: 2 };
    }
    throw error;
  }
}

async function report(args: string[]): Promise<Outcome> {
  const [id, ...rest] = args;
  if (id === undefined || id.startsWith('-')) throw new UsageError('report: give the run ID');
  const values = parseFlags(rest, { ...COMMON, junit: { type: 'string' }, json: { type: 'boolean' }, 'fail-on': { type: 'string' } });
  const failOn = values['fail-on'] ?? 'fail';
  if (failOn !== 'fail' && failOn !== 'inconclusive') throw new UsageError(`--fail-on: expected fail or inconclusive, got "${failOn}"`);
  const client = adminClientFrom(values);
  const answer = await client.getConformanceRun(id);
  if (values.junit !== undefined) await writeFile(values.junit, await client.getConformanceRunJunit(id));
  process.stdout.write(values.json ? `${JSON.stringify(answer, null, 2)}\n` : reportAsText(answer));
  const failing = answer.counts.fail > 0 || (failOn === 'inconclusive' && answer.counts.inconclusive > 0);
  return { code: failing ? 1 : 0 };
}

async function end(args: string[]): Promise<Outcome> {
  const [id, ...rest] = args;
  if (id === undefined || id.startsWith('-')) throw new UsageError('end: give the run ID');
  const client = adminClientFrom(parseFlags(rest, COMMON));
  await client.deleteConformanceRun(id);
  process.stdout.write(`ended run ${id}\n`);
  return { code: 0 };
}

/** One line per case, failures first with their reasons; a summary line on top. */
export function reportAsText(report: RunReport): string {
  const { counts } = report;
  const order = { fail: 0, inconclusive: 1, 'not-run': 2, pass: 3 } as const;
  const cases = [...report.cases].sort((a, b) => order[a.verdict] - order[b.verdict]);
  const lines = [
    `conformance run ${report.id} (${report.plan}): ${report.verdict}: ${counts.pass} pass, ${counts.fail} fail, ${counts.inconclusive} inconclusive, ${counts.notRun} not run, of ${counts.total}`,
    ...cases.map((testCase) => {
      const label = testCase.verdict.toUpperCase().padEnd(12);
      const basis = testCase.checks.basis === 'documented' ? 'D' : 'I';
      return testCase.verdict === 'pass' ? `  ${label} [${basis}] ${testCase.id}` : `  ${label} [${basis}] ${testCase.id}: ${testCase.reason}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/** A plan file's text (with the file, for the positions of its problems), or the name of a bundled plan. */
function planOption(plan: string): { plan: string; file?: string } {
  if (existsSync(plan) && statSync(plan).isFile()) return { plan: readFileSync(plan, 'utf8'), file: plan };
  if (/[/\\]|\.ya?ml$|\.json$/.test(plan)) throw new UsageError(`--plan: no such file "${plan}"`);
  return { plan };
}

