/**
 * dist/bundle/: the CLI with its dependencies inside a few ES modules, which is what
 * bin/entitlement-mock.js runs (npm start, npx, the image). Built from src/ by esbuild
 * (`npm run build` runs it after tsc).
 *
 * Why: a start otherwise reads, resolves and compiles ~450 small module files (TypeBox alone
 * ships 266), which was over half of the time from process start to the first answered
 * Entitlement Request (bench/README.md). Lazily loaded parts (the admin API, the PKI
 * generator, the other subcommands) stay separate chunks, loaded when first needed.
 *
 * The chunks sit two folders below the package root, like dist/cli/*.js, so paths that
 * modules compute from import.meta.url (../../ui/, ../../scenarios) mean the same thing.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { 'entitlement-mock': 'src/cli/entry.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // CommonJS dependencies call require() for Node's own modules; ES modules have no require.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});

// The reference license server and its one-shot client (examples/license-server/), one file each
// with no dependencies: the compose rig runs them in the image, the Java example from the host.
await build({
  absWorkingDir: root,
  entryPoints: { 'license-server': 'examples/license-server/main.ts', 'license-ask': 'examples/license-server/ask.ts' },
  outdir: `${root}dist/examples`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
