/**
 * `entitlement-mock validate PATH…`: check scenario and conformance plan files the way the
 * mock loads them, every problem in one pass. A file is a conformance plan when it says
 * `kind: conformance-plan`; every other file is a scenario. Prints, file by file,
 * `file:line:column: message` per problem (warnings as `file:line:column: warning: message`)
 * or `ok: file (scenario NAME)` / `ok: file (conformance plan NAME, N cases)` for a file
 * without any, then a summary when there were problems.
 * Exit 0 when there is no problem at all, 1 when there is any error or warning, 2 for a
 * usage error.
 */
import { combineFileResults, listScenarioFiles, noFilesError, parseScenarioFile, readScenarioText, type FileResult } from '../scenario/registry/load.js';
import type { PositionedError } from '../scenario/format/loaded.js';
import { looksLikePlanText, parsePlanText } from '../conformance/plan.js';

export const VALIDATE_USAGE = `Usage: entitlement-mock validate PATH...

Check scenario files and conformance plans: each PATH is a folder (every *.yaml and *.yml
in it) or one file. A file with "kind: conformance-plan" is a conformance plan, any other
a scenario. Every problem of every file is reported in one pass, in file, line and column
order: file:line:column: message for each; warnings (a rule that can never answer, a
pattern that can never match, a key that has no effect, no rules at all) start with
"warning:". A file without problems gets "ok: FILE (scenario NAME)" or
"ok: FILE (conformance plan NAME, N cases)".
Exit status: 0 no problems, 1 errors or warnings, 2 usage error.`;

interface Output {
  write(text: string): unknown;
}

interface Problem {
  problem: PositionedError;
  warning: boolean;
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

  const loadedFiles: { file: string; what: string }[] = [];
  const problems: Problem[] = [];
  const add = (errors: readonly PositionedError[], warnings: readonly PositionedError[]) => {
    problems.push(...errors.map((problem) => ({ problem, warning: false })));
    problems.push(...warnings.map((problem) => ({ problem, warning: true })));
  };
  let scenarioCount = 0;
  for (const path of paths) {
    const listed = await listScenarioFiles(path);
    if (listed.kind === 'error') {
      add([listed.error], []);
      continue;
    }
    if (listed.files.length === 0) {
      add([noFilesError(path)], []);
      continue;
    }
    const scenarioResults: FileResult[] = [];
    for (const file of listed.files) {
      const read = await readScenarioText(file);
      if ('error' in read) {
        add([read.error], []);
        continue;
      }
      if (looksLikePlanText(read.text)) {
        const plan = parsePlanText(read.text, file);
        if (plan.ok) {
          add([], plan.warnings);
          loadedFiles.push({ file, what: `conformance plan ${plan.name}, ${plan.plan.cases.length} cases` });
        } else add(plan.errors, []);
      } else scenarioResults.push({ file, result: parseScenarioFile(file, read.text) });
    }
    // Scenario names must be unique within a folder (as the mock loads it).
    const combined = combineFileResults(scenarioResults);
    add(combined.errors, combined.warnings);
    scenarioCount += combined.scenarios.length;
    for (const { file, name } of combined.scenarios) loadedFiles.push({ file, what: `scenario ${name}` });
  }

  const filesWithProblems = new Set(problems.map(({ problem }) => problem.file));
  const lines: { file: string; line: number; column: number; text: string }[] = problems.map(({ problem, warning }) => ({
    ...problem,
    text: `${problem.file}:${problem.line}:${problem.column}: ${warning ? 'warning: ' : ''}${problem.message}`,
  }));
  for (const { file, what } of loadedFiles) {
    if (!filesWithProblems.has(file)) lines.push({ file, line: 0, column: 0, text: `ok: ${file} (${what})` });
  }
  lines.sort((a, b) => compareText(a.file, b.file) || a.line - b.line || a.column - b.column);
  for (const { text } of lines) out.write(`${text}\n`);

  if (problems.length === 0) return 0;
  const errorCount = problems.filter((entry) => !entry.warning).length;
  const warningCount = problems.length - errorCount;
  out.write(`${plural(errorCount, 'error')}, ${plural(warningCount, 'warning')}; ${plural(scenarioCount, 'scenario')} loaded\n`);
  return 1;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
