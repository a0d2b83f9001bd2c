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
