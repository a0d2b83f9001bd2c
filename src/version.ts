/** The package version, as package.json says (for --version and what record mode writes). */
import { readFileSync } from 'node:fs';

export function version(): string {
  // The nearest package.json above this module: one folder up from src/ and dist/, two from dist/bundle/.
  for (let folder = new URL('..', import.meta.url); ; folder = new URL('..', folder)) {
    try {
      return (JSON.parse(readFileSync(new URL('package.json', folder), 'utf8')) as { version: string }).version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || folder.pathname === '/') throw error;
    }
  }
}
