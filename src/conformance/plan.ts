/**
 * A conformance plan document (YAML or JSON text) → the plan, or errors positioned in the text.
 * The scenario loader does the work (limits, YAML positions, schema messages); this adds what
 * only a plan has (unique case ids, one way to answer per case) and compiles the cases' rules
 * once, so that whatever the rule compiler refuses is reported at the case that wrote it.
 */
import { basename, extname } from 'node:path';
import type { PositionedError } from '../scenario/format/loaded.js';
import { parseScenarioText } from '../scenario/format/parse.js';
import type { SourcePositions, ValuePath } from '../scenario/format/positions.js';
import { compileScenario, ScenarioCompileError } from '../scenario/runtime/compile.js';
import { parseDelay } from '../scenario/runtime/delay.js';
import type { Rule } from '../scenario/format/format.js';
import type { Scenario } from '../scenario/format/format.js';
import { ConformancePlan, PLAN_KIND, type ConformanceCase } from './format.js';

export type PlanParse = { ok: true; plan: ConformancePlan; name: string; warnings: PositionedError[] } | { ok: false; errors: PositionedError[] };

const ANSWER_KEYS = ['respond', 'sequence', 'random', 'rules'] as const;

/**
 * Whether a document's text says it is a plan, before parsing it: a top-level `kind:
 * conformance-plan` line (YAML), or a `"kind": "conformance-plan"` member (JSON).
 */
export function looksLikePlanText(text: string): boolean {
  return /^kind:[ \t]*(["']?)conformance-plan\1[ \t]*(#.*)?$/m.test(text) || (/^\s*\{/.test(text) && /"kind"\s*:\s*"conformance-plan"/.test(text));
}

/** Whether a parsed document says it is a plan (`kind: conformance-plan`); scenarios have no `kind:`. */
export function isPlanDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === PLAN_KIND;
}

export function parsePlanText(text: string, file: string): PlanParse {
  const defaultName = file.startsWith('(') ? 'plan' : basename(file, extname(file));
  const result = parseScenarioText(text, file, {
    defaultName,
    schema: ConformancePlan,
    check: planErrors,
    compile: (loaded) => {
      const plan = loaded.definition as unknown as ConformancePlan;
      const { rules, sources } = planRules(plan, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);
      try {
        return compileScenario({ name: loaded.name, file, definition: ruleSet(plan, rules) }, Math.random);
      } catch (error) {
        if (!(error instanceof ScenarioCompileError)) throw error;
        throw new ScenarioCompileError(loaded.name, error.problems.map((problem) => ({ ...problem, path: sourcePath(problem.path, sources) })));
      }
    },
  });
  if (!result.scenario) return { ok: false, errors: result.errors.map(namedAsPlan) };
  return { ok: true, plan: result.scenario.definition as unknown as ConformancePlan, name: result.scenario.name, warnings: result.warnings };
}

/** The loader names the whole document `(scenario)`; here it is a plan. */
function namedAsPlan(error: PositionedError): PositionedError {
  return error.message.startsWith('(scenario)') ? { ...error, message: `(plan)${error.message.slice('(scenario)'.length)}` } : error;
}

/** A plan's scenario-shaped part: its defaults and state settings, with the rules made of its cases. */
export function ruleSet(plan: ConformancePlan, rules: Rule[]): Scenario {
  return {
    ...(plan.description !== undefined ? { description: plan.description } : {}),
    ...(plan.defaults !== undefined ? { defaults: plan.defaults } : {}),
    ...(plan.stateKey !== undefined ? { stateKey: plan.stateKey } : {}),
    ...(plan.stateTtl !== undefined ? { stateTtl: plan.stateTtl } : {}),
    rules,
  };
}

/**
 * The rules that answer a plan's cases: each case's answer (or each of its rules) matched on
 * the case's contentID, named after the case. `sources[i]` is where rules[i] was written.
 */
export function planRules(
  plan: ConformancePlan,
  contentIdOf: (testCase: ConformanceCase, index: number) => string | null,
): { rules: Rule[]; sources: ValuePath[] } {
  const rules: Rule[] = [];
  const sources: ValuePath[] = [];
  plan.cases.forEach((testCase, index) => {
    const contentID = contentIdOf(testCase, index);
    if (contentID === null) return;
    if (testCase.rules !== undefined) {
      testCase.rules.forEach((rule, ruleIndex) => {
        rules.push({ ...rule, name: `${testCase.id}/${rule.name ?? ruleIndex + 1}`, match: { ...rule.match, contentID: { equals: contentID } } });
        sources.push(['cases', index, 'rules', ruleIndex]);
      });
      return;
    }
    const { respond, sequence, loop, random, perKey } = testCase;
    rules.push({
      name: testCase.id,
      match: { contentID: { equals: contentID } },
      ...(respond !== undefined ? { respond } : {}),
      ...(sequence !== undefined ? { sequence } : {}),
      ...(loop !== undefined ? { loop } : {}),
      ...(random !== undefined ? { random } : {}),
      ...(perKey !== undefined ? { perKey } : {}),
    });
    sources.push(['cases', index]);
  });
  return { rules, sources };
}

/** A compiler problem's path in the generated rules → where the plan wrote it. */
function sourcePath(path: ValuePath, sources: readonly ValuePath[]): (string | number)[] {
  if (path[0] !== 'rules' || typeof path[1] !== 'number') return [...path];
  const source = sources[path[1]];
  return source === undefined ? [...path] : [...source, ...path.slice(2)];
}

/** What the schema cannot say: unique ids, one way to answer, no contentID of a case's own. */
function planErrors(value: unknown, positions: SourcePositions): PositionedError[] {
  const plan = value as ConformancePlan;
  const errors: PositionedError[] = [];
  const firstAt = new Map<string, number>();
  plan.cases.forEach((testCase, index) => {
    const path: ValuePath = ['cases', index];
    const seen = firstAt.get(testCase.id);
    if (seen !== undefined) {
      errors.push(positions.error([...path, 'id'], `duplicate case id "${testCase.id}" (first used by cases[${seen}], line ${positions.of(['cases', seen, 'id']).line})`));
    } else firstAt.set(testCase.id, index);

    const ways = ANSWER_KEYS.filter((key) => testCase[key] !== undefined);
    if (ways.length === 0) errors.push(positions.error(path, 'a case needs one of respond, sequence, random or rules'));
    else if (ways.length > 1) {
      errors.push(positions.error([...path, ways[1] as string], `${ways.join(' and ')} cannot be combined: a case answers one way`, { key: true }));
    }
    if (testCase.loop !== undefined && testCase.sequence === undefined) {
      errors.push(positions.error([...path, 'loop'], 'loop only applies to a sequence:', { key: true }));
    }
    if (testCase.perKey !== undefined && testCase.rules !== undefined) {
      errors.push(positions.error([...path, 'perKey'], 'with rules:, write perKey: in each rule', { key: true }));
    }
    testCase.rules?.forEach((rule, ruleIndex) => {
      if (rule.match?.contentID !== undefined) {
        errors.push(
          positions.error([...path, 'rules', ruleIndex, 'match', 'contentID'], "the run gives each case its own contentID; match on anything else", { key: true }),
        );
      }
    });
    const within = testCase.expect.givesUpWithin;
    if (within !== undefined && within !== 'timeout') {
      try {
        parseDelay(within);
      } catch (error) {
        errors.push(positions.error([...path, 'expect', 'givesUpWithin'], (error as Error).message));
      }
    }
  });
  return errors;
}
