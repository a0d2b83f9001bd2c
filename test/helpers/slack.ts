/**
 * How much longer than on an idle machine a test lets something take before it fails.
 *
 * Every wall-clock upper bound in the tests is written as `slack(ms)`: `ms` is what the step
 * needs on an idle machine, and SLACK is how much a busy one may stretch it (CI runs on two
 * shared cores; a process there can lose the CPU for hundreds of milliseconds). Lower bounds (an
 * answer delayed by 500 ms must not come sooner) never need slack: load only makes things later.
 * EM_TEST_SLACK overrides the factor (e.g. 10 on a very loaded machine). docs/testing.md
 * ("The project's own tests") says the same for contributors.
 */
const fromEnv = Number(process.env.EM_TEST_SLACK);
export const SLACK = Number.isFinite(fromEnv) && fromEnv >= 1 ? fromEnv : 4;

/** An upper bound for a step that takes `ms` on an idle machine. */
export const slack = (ms: number): number => Math.round(ms * SLACK);

/**
 * Run a step that only computes and return the CPU time it used (user + system, every thread of this
 * process) in ms. Bound that, not the wall clock: other processes on a busy machine stretch the wall
 * clock of a step, not the CPU time it needs.
 */
export async function cpuTimeOf<T>(step: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const before = process.cpuUsage();
  const value = await step();
  const { user, system } = process.cpuUsage(before);
  return { value, ms: Math.round((user + system) / 1000) };
}
