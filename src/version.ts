/** The package version and licence, as package.json says (for --version, what record mode writes, the OpenAPI document). */
import { readFileSync } from 'node:fs';

export const version = (): string => packageJson().version;

/** The SPDX licence identifier. */
export const license = (): string => packageJson().license;

function packageJson(): { version: string; license: string } {
  // The nearest package.json above this module: one folder up from src/ and dist/, two from dist/bundle/.
  for (let folder = new URL('..', import.meta.url); ; folder = new URL('..', folder)) {
    try {
      return JSON.parse(readFileSync(new URL('package.json', folder), 'utf8')) as { version: string; license: string };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || folder.pathname === '/') throw error;
    }
  }
}
