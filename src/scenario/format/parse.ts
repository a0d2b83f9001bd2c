/**
 * One scenario source (a file's text, or a POST body) → a LoadedScenario, or
 * positioned errors. YAML with positions (JSON is YAML too), defended against
 * hostile input, validated against format.ts with readable messages, and
 * checked for what a schema cannot say (regexes, delays, templates, one of
 * respond/sequence/random, duplicate rule names) and linted, in one pass: those
 * checks run on every part that fits the format even when others do not
 * (checkable-parts.ts), so one report has every problem. Nothing here touches files.
 *
 * Limits (hostile input gets a positioned error, never a hung or crashed process):
 *  - MAX_SCENARIO_BYTES (8 MiB): a larger document is refused before parsing;
 *  - MAX_NESTING_DEPTH (64): deeper collections are refused before they are
 *    built (the YAML composer recurses; 10,000 levels would overflow the stack);
 *  - MAX_ALIAS_COUNT (100): YAML aliases may expand to at most this many nodes
 *    (the `yaml` package's guard against "billion laughs" alias bombs);
 *  - MAX_REPORTED_ERRORS (100): the rest are summarised in one line.
 */
import { Composer, LineCounter, Parser, visit, type CST, type Document } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { MATCH_KEYS, NAME_PATTERN, Response, Scenario } from './format.js';
import { CheckableParts } from './checkable-parts.js';
import { semanticProblems } from './checks.js';
import type { LoadedScenario, PositionedError } from './loaded.js';
import { SourcePositions, type ValuePath } from './positions.js';
import { schemaIssues } from './schema-errors.js';
import { lintScenario } from './lint.js';
import { findDuplicateKeys } from './duplicate-keys.js';
import { ScenarioCompileError } from '../runtime/compile.js';
import type { CompiledScenario } from '../runtime/engine.js';

export const MAX_SCENARIO_BYTES = 8 * 1024 * 1024;
export const MAX_NESTING_DEPTH = 64;
export const MAX_ALIAS_COUNT = 100;
export const MAX_REPORTED_ERRORS = 100;

export interface ParseOptions {
  /** The name when the source has no `name:` (a file's name without extension). */
  defaultName?: string;
  /** Refuse larger sources (bytes of UTF-8); default MAX_SCENARIO_BYTES. */
  maxBytes?: number;
  /**
   * Compile the scenario too (compileScenario with a random source); a problem
   * the compiler finds becomes a positioned error, and the result carries the
   * compiled scenario.
   */
  compile?: (loaded: LoadedScenario) => CompiledScenario;
  /**
   * The definition the whole document must fit instead of Scenario: one that holds a
   * scenario's `rules` and `defaults` plus keys of its own (a session document).
   */
  schema?: TSchema;
  /** Checks of those keys of its own beyond the schema, positioned like the rest (run once the schema fits). */
  check?: (value: unknown, positions: SourcePositions) => PositionedError[];
}

export interface ParseResult {
  scenario: LoadedScenario | null;
  errors: PositionedError[];
  warnings: PositionedError[];
  /** Where `name:` is written (for a "name already used" message), when it is. */
  nameAt?: { line: number; column: number };
  /** With the `compile` option, when there were no errors. */
  compiled?: CompiledScenario;
}

const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>([[Scenario, TypeCompiler.Compile(Scenario)]]);

export function parseScenarioText(text: string, file: string, options: ParseOptions = {}): ParseResult {
  const fail = (errors: PositionedError[], warnings: PositionedError[] = []): ParseResult => ({
    scenario: null,
    errors: capErrors(sortByPosition(errors), file),
    warnings: sortByPosition(warnings),
  });
  const at = (line: number, column: number, message: string): PositionedError => ({ file, line, column, message });

  const maxBytes = options.maxBytes ?? MAX_SCENARIO_BYTES;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return fail([at(1, 1, `the document is ${formatBytes(bytes)}; scenarios are limited to ${formatBytes(maxBytes)}`)]);
  }

  if (/^\s*\{/.test(text)) {
    const quick = parseJsonQuickly(text, file, options);
    if (quick) return quick;
  }

  const lineCounter = new LineCounter();
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  const tooDeep = findExcessiveNesting(tokens, MAX_NESTING_DEPTH);
  const positionsOfText = new SourcePositions(file, null, lineCounter);
  if (tooDeep !== null) {
    const { line, column } = positionsOfText.ofOffset(tooDeep);
    return fail([at(line, column, `nesting deeper than ${MAX_NESTING_DEPTH} levels`)]);
  }

  // Duplicate keys are found by findDuplicateKeys: the composer's own check is quadratic.
  const composer = new Composer({ prettyErrors: false, merge: true, uniqueKeys: false });
  let document: Document.Parsed | null = null;
  const extraDocuments: number[] = [];
  for (const composed of composer.compose(tokens, true, text.length)) {
    if (!document) document = composed;
    else extraDocuments.push(composed.range[0]);
  }
  if (!document) return fail([at(1, 1, 'empty document')]);
  const positions = new SourcePositions(file, document, lineCounter);
  const yamlProblem = (problem: { code: string; message: string; pos: [number, number] }): PositionedError => {
    const { line, column } = positions.ofOffset(problem.pos[0]);
    // Duplicate keys are not among these: the Composer runs with uniqueKeys: false and duplicate-keys.ts finds them in one pass.
    return at(line, column, problem.message.split('\n')[0] as string);
  };
  const warnings = document.warnings.map(yamlProblem);
  const syntaxErrors = document.errors.map(yamlProblem);
  for (const { offset, key } of findDuplicateKeys(document, MAX_REPORTED_ERRORS + 1)) {
    const { line, column } = positions.ofOffset(offset);
    syntaxErrors.push(at(line, column, `duplicate key ${key}: a mapping has each key once`));
  }
  if (extraDocuments.length > 0) {
    const { line, column } = positions.ofOffset(extraDocuments[0] as number);
    syntaxErrors.push(at(line, column, 'more than one YAML document (---): a file holds one scenario'));
  }
  if (syntaxErrors.length > 0) return fail(syntaxErrors, warnings);

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError || error instanceof RangeError) {
      const { line, column } = firstAliasPosition(document, positions);
      return fail(
        [at(line, column, `YAML aliases expand to too many nodes (at most ${MAX_ALIAS_COUNT}); is this an alias bomb? (${error.message})`)],
        warnings,
      );
    }
    throw error;
  }
  if (value === null || value === undefined) {
    return fail([at(1, 1, 'the document is empty: a scenario is a mapping, e.g. "rules: [{respond: {isAllowed: true}}]"')], warnings);
  }
  return checkDefinition(value, positions, file, options, warnings);
}

/**
 * From a parsed value on: schema, semantic checks, compilation, lint. The
 * semantic checks and the lint run on every part that fits the format even
 * when other parts do not, so one pass reports every problem.
 */
function checkDefinition(
  value: unknown,
  positions: SourcePositions,
  file: string,
  options: ParseOptions,
  warnings: PositionedError[],
): ParseResult {
  const fail = (errors: PositionedError[], warnings: PositionedError[] = []): ParseResult => ({
    scenario: null,
    errors: capErrors(sortByPosition(errors), file),
    warnings: sortByPosition(warnings),
  });
  const at = (line: number, column: number, message: string): PositionedError => ({ file, line, column, message });

  const schemaErrors = validateAgainstSchema(value, positions, options.schema ?? Scenario);
  const parts = new CheckableParts(value, schemaErrors.length === 0);
  const errors = [
    ...schemaErrors,
    ...semanticProblems(parts, (path) => positions.of(path).line).map((p) => positions.error(p.path, p.message, { key: p.atKey === true })),
  ];
  if (options.check && schemaErrors.length === 0) errors.push(...options.check(value, positions));
  const written = parts.fields?.name;
  const name = typeof written === 'string' ? written : options.defaultName;
  // (A document that is not a mapping has its schema error and no name: to look for.)
  const nameless = parts.fields !== null && written === undefined;
  if (nameless && name === undefined) {
    errors.push(at(1, 1, 'name: required here (there is no file name to take it from)'));
  } else if (nameless && !new RegExp(NAME_PATTERN).test(name as string)) {
    errors.push(at(1, 1, `the file name "${name}" is not a usable scenario name; set name:`));
  }
  warnings.push(...lintScenario(parts, positions, { rulesAnswerAlone: options.schema === undefined }));
  if (errors.length > 0) return fail(errors, warnings);

  const definition = value as Scenario;
  const scenario: LoadedScenario = { name: name as string, file, definition };
  let compiled: CompiledScenario | undefined;
  if (options.compile) {
    try {
      compiled = options.compile(scenario);
    } catch (error) {
      if (!(error instanceof ScenarioCompileError)) throw error;
      return fail(
        error.problems.map((problem) => positions.error(problem.path, problem.message)),
        warnings,
      );
    }
  }

  return {
    scenario,
    errors: [],
    warnings: sortByPosition(warnings),
    ...(definition.name !== undefined ? { nameAt: positions.of(['name']) } : {}),
    ...(compiled ? { compiled } : {}),
  };
}

/**
 * JSON (a POST body, a generated scenario) parses far faster with JSON.parse than
 * with the YAML parser (which keeps positions). Positions are only needed when
 * there is something to report, so: JSON.parse, check everything, and if any
 * error or warning turns up, return null to have the YAML path redo it with
 * positions. (One difference: JSON.parse lets the last of duplicate keys win
 * where YAML refuses them; a file that is valid either way loads the same.)
 */
function parseJsonQuickly(text: string, file: string, options: ParseOptions): ParseResult | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || nestingDepth(value, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH) return null;
  const unpositioned = new SourcePositions(file, null, new LineCounter());
  const result = checkDefinition(value, unpositioned, file, options, []);
  if (result.errors.length > 0 || result.warnings.length > 0) return null;
  const { nameAt: _unknownPosition, ...positionless } = result;
  return positionless;
}

/** The nesting depth of a JSON value, counted with an explicit stack; stops counting past `limit`. */
function nestingDepth(root: object, limit: number): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value !== 'object' || value === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const item of Object.values(value)) if (typeof item === 'object' && item !== null) stack.push({ value: item, depth: depth + 1 });
  }
  return deepest;
}

/** The schema check: readable messages from the walker; TypeBox has the last word. */
function validateAgainstSchema(value: unknown, positions: SourcePositions, schema: TSchema): PositionedError[] {
  let checker = checkers.get(schema);
  if (checker === undefined) checkers.set(schema, (checker = TypeCompiler.Compile(schema)));
  if (checker.Check(value)) return [];
  const issues = schemaIssues(schema, value, { unknownKeyHint });
  if (issues.length > 0) return issues.map((issue) => positions.error(issue.path, issue.message, { key: issue.atKey }));
  // The walker found nothing TypeBox objects to: report TypeBox's own words rather than let it through.
  return [...Value.Errors(schema, value)].slice(0, MAX_REPORTED_ERRORS).map((error) => {
    const path = error.path.split('/').slice(1).map(decodePointer);
    return positions.error(path, error.message);
  });
}

function decodePointer(segment: string): string | number {
  const text = segment.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^\d+$/.test(text) ? Number(text) : text;
}

const RESPONSE_KEYS: readonly string[] = Object.keys(Response.properties);
const MATCH_KEY_LIST: readonly string[] = MATCH_KEYS;

/** Keys written one level off: `isAllowed` directly on a rule, `contentID` in respond. */
function unknownKeyHint(key: string, path: ValuePath): string | undefined {
  if (path.length === 0 && ['match', 'respond', 'sequence', 'random', 'times', 'loop'].includes(key)) {
    return 'a rule goes in the list under rules: (rules: [{match: ..., respond: ...}])';
  }
  const inRule = path.length === 2 && path[0] === 'rules';
  if (inRule && RESPONSE_KEYS.includes(key)) return `response fields go under respond: (or sequence:/random:)`;
  if (inRule && MATCH_KEY_LIST.includes(key)) return `request fields to match go under match:`;
  const last = String(path[path.length - 1]);
  const inResponse =
    ['respond', 'defaults', 'invalid', 'unmatched'].includes(last) ||
    (typeof path[path.length - 1] === 'number' && ['sequence', 'random'].includes(String(path[path.length - 2])));
  if (inResponse && key === 'state') return 'to change the state after answering write setState: NAME (or clearState: true); to match on it use match:';
  if (inResponse && MATCH_KEY_LIST.includes(key) && !RESPONSE_KEYS.includes(key)) {
    return `to send an additional field write extra: {${key}: ...}; to match on it use match:`;
  }
  return undefined;
}

/**
 * The offset of the first collection nested deeper than `limit`, walking the
 * CST with an explicit stack (recursion is exactly what deep input would break).
 */
function findExcessiveNesting(tokens: CST.Token[], limit: number): number | null {
  const stack: { token: CST.Token | null | undefined; depth: number }[] = [];
  for (const token of tokens) if (token.type === 'document') stack.push({ token: token.value, depth: 0 });
  while (stack.length > 0) {
    const { token, depth } = stack.pop() as { token: CST.Token | null | undefined; depth: number };
    if (!token) continue;
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth + 1 > limit) return token.offset;
    for (const item of token.items as CST.CollectionItem[]) {
      stack.push({ token: item.key, depth: depth + 1 });
      stack.push({ token: item.value, depth: depth + 1 });
    }
  }
  return null;
}

function firstAliasPosition(document: Document.Parsed, positions: SourcePositions): { line: number; column: number } {
  let offset: number | null = null;
  visit(document, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? null;
      return visit.BREAK;
    },
  });
  return offset === null ? { line: 1, column: 1 } : positions.ofOffset(offset);
}

export function sortByPosition(errors: PositionedError[]): PositionedError[] {
  return [...errors].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

function capErrors(errors: PositionedError[], file: string): PositionedError[] {
  if (errors.length <= MAX_REPORTED_ERRORS) return errors;
  const rest = errors.length - MAX_REPORTED_ERRORS;
  const next = errors[MAX_REPORTED_ERRORS] as PositionedError;
  return [
    ...errors.slice(0, MAX_REPORTED_ERRORS),
    { file, line: next.line, column: next.column, message: `... and ${rest} more error${rest === 1 ? '' : 's'}` },
  ];
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
