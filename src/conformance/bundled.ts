/** The plans shipped in conformance/ at the package root, by name (`entitlement-v1`). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** conformance/ at the package root: this module sits two folders below it as source, compiled and bundled. */
export const BUNDLED_PLANS_FOLDER = fileURLToPath(new URL('../../conformance/', import.meta.url));

/** The plan a run takes when none is given. */
export const DEFAULT_PLAN = 'entitlement-v1';

const PLAN_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Whether a `plan` value names a bundled plan rather than holding a plan's text. */
export const isPlanName = (value: string): boolean => PLAN_NAME.test(value);

export function bundledPlanNames(folder = BUNDLED_PLANS_FOLDER): string[] {
  try {
    return readdirSync(folder)
      .filter((file) => /\.ya?ml$/.test(file))
      .map((file) => file.replace(/\.ya?ml$/, ''))
      .sort();
  } catch {
    return [];
  }
}

/** The text and file of a bundled plan, or null when there is none of that name. */
export function readBundledPlan(name: string, folder = BUNDLED_PLANS_FOLDER): { file: string; text: string } | null {
  if (!isPlanName(name) || !bundledPlanNames(folder).includes(name)) return null;
  for (const extension of ['.yaml', '.yml']) {
    const file = join(folder, `${name}${extension}`);
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch {
      // try the other extension
    }
  }
  return null;
}
