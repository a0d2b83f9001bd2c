/** The problems one compilation finds, collected so that one error reports them all. */
import { problemOf, type FormatProblem } from '../format/checks.js';
import { formatPath } from '../format/positions.js';

export type ValuePath = (string | number)[];

/** Everything in a scenario that could not be compiled, each with its path in the definition. */
export class ScenarioCompileError extends Error {
  readonly problems: readonly { path: ValuePath; message: string }[];
  /** The first problem's path (for callers that position one error). */
  readonly path: ValuePath;
  constructor(scenario: string, problems: { path: ValuePath; message: string }[]) {
    super(`scenario "${scenario}": ${problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join('; ')}`);
    this.name = 'ScenarioCompileError';
    this.problems = problems;
    this.path = problems[0]?.path ?? [];
  }
}

/** Problems in the order found, each once (a problem in defaults: is found again under every rule that inherits it). */
export class CompileProblems {
  private readonly problems: { path: ValuePath; message: string }[] = [];
  private readonly seen = new Set<string>();

  /** What a piece's compiler threw, at `path`. */
  caught(path: ValuePath, error: unknown): void {
    this.add(problemOf(path, error));
  }

  add(problem: FormatProblem): void {
    const key = `${formatPath(problem.path)}\u0000${problem.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.problems.push({ path: [...problem.path], message: problem.message });
  }

  throwIfAny(scenario: string): void {
    if (this.problems.length > 0) throw new ScenarioCompileError(scenario, this.problems);
  }
}
