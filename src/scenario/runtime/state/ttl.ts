/** `stateTtl:` parsed once: milliseconds, or "500ms", "30s", "10m", "48h", "7d". */

/** The longest stateTtl: a year (rentals are hours or days). */
export const MAX_STATE_TTL_MS = 366 * 24 * 3_600_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const TTL = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

export function parseTtl(value: number | string): number {
  const parts = typeof value === 'string' ? TTL.exec(value) : null;
  const ms = typeof value === 'number' ? value : parts ? Number(parts[1]) * UNIT_MS[parts[2] ?? 'ms']! : NaN;
  if (typeof value === 'string' && !parts) throw new Error(`invalid stateTtl ${JSON.stringify(value)}: expected milliseconds or "30s", "10m", "48h", "7d"`);
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`invalid stateTtl ${JSON.stringify(value)}: must be above 0`);
  if (ms > MAX_STATE_TTL_MS) throw new Error(`stateTtl ${JSON.stringify(value)} is longer than a year; leave stateTtl out for states that last until reset`);
  return ms;
}
