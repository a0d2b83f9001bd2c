/** Wait for a condition itself instead of sleeping for a time it is hoped to need. */
import { setTimeout as sleep } from 'node:timers/promises';
import { slack } from './slack.js';

export interface EventuallyOptions {
  /** Give up after this long (default: slack(3000), see slack.ts). */
  timeoutMs?: number;
  /** What is waited for, for the failure message (e.g. "the journal holds 3 entries"). */
  what?: string;
}

type Truthy<T> = Exclude<T, null | undefined | false | 0 | ''>;

/**
 * Resolve with the condition's first truthy value, checking every 10 ms; reject after the timeout
 * with what was awaited and the condition's last error. A number as second argument is the timeout.
 */
export async function eventually<T>(condition: () => T | Promise<T>, options: EventuallyOptions | number = {}): Promise<Truthy<T>> {
  const { timeoutMs = slack(3000), what = 'the condition' } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(10);
  }
  throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
