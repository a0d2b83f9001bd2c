/**
 * The serving process's heap policy, set by the process itself: however it was started (the bin,
 * `node bin/entitlement-mock.js`, the image, npx), the same V8 setting applies.
 *
 * Every journal entry lives long enough to reach V8's old generation. By default V8 lets that
 * generation grow to up to 4× what survived its last full collection before it collects again:
 * under load the mock peaked at ~215 MiB RSS with ~30 MiB live. Growing by 1.7× instead keeps
 * the peak under 150 MiB for a few per cent more CPU, without capping the heap (a cap such as
 * --max-old-space-size=512 cost ~10% CPU; bench/README.md).
 *
 * V8 reads this flag each time it sizes the heap after a collection, so setting it when the serve
 * command starts (before the mock has allocated much) works like passing it to node. A value
 * given to node by the user (on its command line or in NODE_OPTIONS) is left alone.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 70;

export function setHeapPolicy(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
