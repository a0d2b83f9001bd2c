/** The package version, as package.json says (for --version and what record mode writes). */
import { readFileSync } from 'node:fs';

export function version(): string {
  const packageJson = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}
