/**
 * Stop when the shell npm started us from is gone. `npm start` and `npx entitlement-mock`
 * run the bin through `sh -c`; on SIGTERM npm signals that shell, which dies without
 * passing the signal on, and the mock would be left running, re-parented. So when npm
 * launched us (it sets npm_lifecycle_event) and our parent process changes, we treat it
 * as SIGTERM. Not done otherwise: a mock started with `nohup … &` must outlive its shell.
 */

/** How often the parent is checked: the longest a mock outlives its npm. */
export const PARENT_CHECK_MS = 250;

/** Calls `onGone` once if the parent changes; returns a function that stops watching. No-op unless run by npm. */
export function whenNpmParentGone(onGone: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  if (env.npm_lifecycle_event === undefined) return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, PARENT_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
