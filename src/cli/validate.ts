/**
 * `entitlement-mock validate PATH…`: check scenario folders or files the way
 * the mock loads them. Prints `file:line:column: message` per problem
 * (warnings as `file:line:column: warning: message`), then a summary.
 * Exit 0 when there is no problem at all, 1 when there is any error or
 * warning, 2 for a usage error.
 */
import { loadScenarioPath } from '../scenario/load.js';
import type { PositionedError } from '../scenario/loaded.js';

export const VALIDATE_USAGE = `Usage: entitlement-mock validate PATH...

Check scenario files: each PATH is a folder (every *.yaml and *.yml in it) or one file.
Prints file:line:column: message for each problem; warnings (a rule that can never
answer, a pattern that can never match, a key that has no effect) start with "warning:".
Exit status: 0 no problems, 1 errors or warnings, 2 usage error.`;

interface Output {
  write(text: string): unknown;
}

export async function run(args: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const paths: string[] = [];
  let optionsEnded = false;
  for (const arg of args) {
    if (!optionsEnded && arg === '--') optionsEnded = true;
    else if (!optionsEnded && (arg === '--help' || arg === '-h')) {
      out.write(`${VALIDATE_USAGE}\n`);
      return 0;
    } else if (!optionsEnded && arg.startsWith('-') && arg !== '-') {
      err.write(`entitlement-mock validate: unknown option ${arg}\n${VALIDATE_USAGE}\n`);
      return 2;
    } else paths.push(arg);
  }
  if (paths.length === 0) {
    err.write(`entitlement-mock validate: give at least one PATH\n${VALIDATE_USAGE}\n`);
    return 2;
  }

  const names: string[] = [];
  const problems: { problem: PositionedError; warning: boolean }[] = [];
  for (const path of paths) {
    const loaded = loadScenarioPath(path);
    names.push(...loaded.scenarios.map((scenario) => scenario.name));
    problems.push(...loaded.errors.map((problem) => ({ problem, warning: false })));
    problems.push(...loaded.warnings.map((problem) => ({ problem, warning: true })));
  }
  problems.sort(
    (a, b) =>
      compareText(a.problem.file, b.problem.file) || a.problem.line - b.problem.line || a.problem.column - b.problem.column,
  );
  for (const { problem, warning } of problems) {
    out.write(`${problem.file}:${problem.line}:${problem.column}: ${warning ? 'warning: ' : ''}${problem.message}\n`);
  }

  const errorCount = problems.filter((entry) => !entry.warning).length;
  const warningCount = problems.length - errorCount;
  if (problems.length === 0) {
    out.write(`ok: ${plural(names.length, 'scenario')} (${names.join(', ')})\n`);
    return 0;
  }
  out.write(`${plural(errorCount, 'error')}, ${plural(warningCount, 'warning')}; ${plural(names.length, 'scenario')} loaded\n`);
  return 1;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
