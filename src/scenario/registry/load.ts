/**
 * Scenario sources on disk: `--scenarios PATH` is a folder (every `*.yaml` and
 * `*.yml` in it, sorted by name, not recursive, hidden files skipped: editors
 * leave `.#x.yaml` locks and similar there) or one file. One file is one
 * scenario; a name used by an earlier file is an error on the later one.
 *
 * The synchronous loadScenarioPath serves `validate` and tests; the registry
 * uses the asynchronous pieces (listScenarioFiles, readScenarioFile) so that a
 * reload never blocks the event loop on the disk.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { LoadedScenario, PositionedError } from '../format/loaded.js';
import { MAX_SCENARIO_BYTES, parseScenarioText, type ParseResult } from '../format/parse.js';
import { compileScenario } from '../runtime/compile.js';

export interface LoadResult {
  scenarios: LoadedScenario[];
  errors: PositionedError[];
  warnings: PositionedError[];
}

/** The files of a scenario path, or why there are none. */
export type ScenarioFiles = { kind: 'folder' | 'file'; files: string[] } | { kind: 'error'; error: PositionedError };

/** A file's parse result, named by the file. */
export interface FileResult {
  file: string;
  result: ParseResult;
}

export function isScenarioFileName(name: string): boolean {
  const extension = extname(name).toLowerCase();
  return !name.startsWith('.') && (extension === '.yaml' || extension === '.yml');
}

/** The scenario name a file gives when it has no `name:`: its name without extension. */
export function defaultNameOf(file: string): string {
  return basename(file, extname(file));
}

/**
 * Load a folder or one file, synchronously. Each scenario is also compiled
 * once (and the result dropped) so that everything the compiler would refuse
 * is reported here, positioned.
 */
export function loadScenarioPath(path: string): LoadResult {
  const listed = filesOf(path, statSync, (folder) => readdirSync(folder), (file) => statSync(file));
  if (listed.kind === 'error') return { scenarios: [], errors: [listed.error], warnings: [] };
  const results = listed.files.map((file) => ({ file, result: readAndParse(file, () => statSync(file), () => readFileSync(file, 'utf8')) }));
  return combineFileResults(results);
}

const compileForChecking = (loaded: LoadedScenario) => compileScenario(loaded, Math.random);

/** The scenario files a path stands for, without blocking. */
export async function listScenarioFiles(path: string): Promise<ScenarioFiles> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    return { kind: 'error', error: fileError(path, error) };
  }
  if (!stats.isDirectory()) return { kind: 'file', files: [path] };
  let names: string[];
  try {
    names = await readdir(path);
  } catch (error) {
    return { kind: 'error', error: fileError(path, error) };
  }
  const files: string[] = [];
  for (const name of names.filter(isScenarioFileName).sort()) {
    const file = join(path, name);
    // Regular files, and symlinks to them (a Kubernetes ConfigMap volume is symlinks).
    if (await stat(file).then((entry) => entry.isFile(), () => false)) files.push(file);
  }
  return { kind: 'folder', files };
}

/** Read one scenario file's text without blocking; unreadable and oversized files give their error instead. */
export async function readScenarioText(file: string): Promise<{ text: string } | { error: PositionedError }> {
  try {
    const stats = await stat(file);
    if (stats.size > MAX_SCENARIO_BYTES) return { error: tooLarge(file, stats.size).errors[0] as PositionedError };
    return { text: await readFile(file, 'utf8') };
  } catch (error) {
    return { error: fileError(file, error) };
  }
}

/**
 * Scenarios from several files in order: a name already used by an earlier
 * file is an error on the later file, which then contributes no scenario.
 */
export function combineFileResults(results: readonly FileResult[]): LoadResult {
  const scenarios: LoadedScenario[] = [];
  const errors: PositionedError[] = [];
  const warnings: PositionedError[] = [];
  const fileOfName = new Map<string, string>();
  for (const { file, result } of results) {
    errors.push(...result.errors);
    warnings.push(...result.warnings);
    const scenario = result.scenario;
    if (!scenario) continue;
    const earlier = fileOfName.get(scenario.name);
    if (earlier !== undefined) {
      errors.push(duplicateNameError(file, scenario.name, earlier, result));
      continue;
    }
    fileOfName.set(scenario.name, file);
    scenarios.push(scenario);
  }
  return { scenarios, errors, warnings };
}

export function duplicateNameError(file: string, name: string, earlierFile: string, result: ParseResult): PositionedError {
  const where = result.nameAt ?? { line: 1, column: 1 };
  const origin = result.nameAt ? '' : ' (from the file name)';
  return { file, ...where, message: `scenario name "${name}"${origin} is already used by ${earlierFile}; set a different name:` };
}

function filesOf(
  path: string,
  statPath: (path: string) => Stats,
  list: (folder: string) => string[],
  statFile: (file: string) => Stats,
): ScenarioFiles {
  let stats: Stats;
  try {
    stats = statPath(path);
  } catch (error) {
    return { kind: 'error', error: fileError(path, error) };
  }
  if (!stats.isDirectory()) return { kind: 'file', files: [path] };
  try {
    const files = list(path)
      .filter(isScenarioFileName)
      .sort()
      .map((name) => join(path, name))
      .filter((file) => {
        try {
          return statFile(file).isFile();
        } catch {
          return false;
        }
      });
    if (files.length === 0) return { kind: 'error', error: noFilesError(path) };
    return { kind: 'folder', files };
  } catch (error) {
    return { kind: 'error', error: fileError(path, error) };
  }
}

export function noFilesError(folder: string): PositionedError {
  return { file: folder, line: 1, column: 1, message: 'no scenario files (*.yaml, *.yml) in this folder' };
}

/** A scenario file's text, parsed and compiled once for checking, as loading does. */
export function parseScenarioFile(file: string, text: string): ParseResult {
  return parseScenarioText(text, file, { defaultName: defaultNameOf(file), compile: compileForChecking });
}

function readAndParse(file: string, statFile: () => Stats, read: () => string): ParseResult {
  try {
    const size = statFile().size;
    if (size > MAX_SCENARIO_BYTES) return tooLarge(file, size);
    return parseScenarioFile(file, read());
  } catch (error) {
    return { scenario: null, errors: [fileError(file, error)], warnings: [] };
  }
}

function tooLarge(file: string, size: number): ParseResult {
  const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  return {
    scenario: null,
    errors: [{ file, line: 1, column: 1, message: `the file is ${mib(size)}; scenarios are limited to ${mib(MAX_SCENARIO_BYTES)}` }],
    warnings: [],
  };
}

export function fileError(file: string, error: unknown): PositionedError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reason =
    code === 'ENOENT'
      ? 'no such file or folder'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a folder'
          : error instanceof Error
            ? error.message
            : String(error);
  return { file, line: 1, column: 1, message: `cannot read: ${reason}` };
}
