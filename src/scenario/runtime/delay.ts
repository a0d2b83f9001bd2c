/**
 * `delay:` values parsed once at load: `250` (ms), `"250ms"`, `"2s"`, `"1.5s"`, or
 * `{min, max}` (each a number or such a string) for a uniform pick per request.
 */
import { MAX_DELAY_MS, type Delay } from '../format/format.js';
import type { RandomSource } from './engine.js';

export type DelaySpec = { kind: 'fixed'; ms: number } | { kind: 'uniform'; minMs: number; maxMs: number };

export class DelayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DelayError';
  }
}

// MAX_DELAY_MS (one hour) bounds numbers in the schema; strings such as "99999s" pass the
// schema's pattern, so the limit is enforced here too. `fault: hang` is the way never to answer.
// (Timers could not go past 2^31-1 ms anyway: they fire at once.)
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/;

export function parseDelay(d: Delay): DelaySpec {
  if (typeof d === 'number' || typeof d === 'string') return { kind: 'fixed', ms: parseDuration(d) };
  const minMs = parseDuration(d.min);
  const maxMs = parseDuration(d.max);
  if (minMs > maxMs) {
    throw new DelayError(`delay min ${describe(d.min)} is greater than max ${describe(d.max)}`);
  }
  return { kind: 'uniform', minMs, maxMs };
}

/** The delay for one request. Uniform delays between whole-millisecond bounds are whole milliseconds, both ends included. */
export function pickDelayMs(spec: DelaySpec, random: RandomSource): number {
  if (spec.kind === 'fixed') return spec.ms;
  const { minMs, maxMs } = spec;
  if (Number.isInteger(minMs) && Number.isInteger(maxMs)) {
    return Math.min(maxMs, minMs + Math.floor(random() * (maxMs - minMs + 1)));
  }
  return minMs + random() * (maxMs - minMs);
}

function parseDuration(value: number | string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else {
    const parts = DURATION.exec(value);
    if (!parts) {
      throw new DelayError(
        `invalid delay ${JSON.stringify(value)}: expected milliseconds (250), "250ms", "2s" or {min, max}`,
      );
    }
    ms = Number(parts[1]) * (parts[2] === 's' ? 1000 : 1);
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new DelayError(`invalid delay ${describe(value)}: must be a finite number of milliseconds, 0 or more`);
  }
  if (ms > MAX_DELAY_MS) {
    throw new DelayError(`delay ${describe(value)} is longer than the longest allowed, 1 hour (${MAX_DELAY_MS} ms); fault: hang never answers`);
  }
  return ms;
}

function describe(value: number | string): string {
  return typeof value === 'number' ? `${value} ms` : JSON.stringify(value);
}
