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
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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

/*
 * dist/snapshot/: the serve command as a V8 start-up snapshot, which bin/entitlement-mock starts
 * (`node --snapshot-blob …`) when the node that built it runs it. A start from the snapshot finds
 * the code that answers the first Entitlement Request compiled and evaluated (TypeBox's validators,
 * yaml, pino, the mock itself) instead of reading, compiling and evaluating it (bench/README.md
 * has what that buys). A snapshot is built from one CommonJS file that requires only node's own
 * modules, and it is tied to the node binary that built it: node.stamp says which (size and
 * modification time), and the bin falls back to bin/entitlement-mock.js when it does not match.
 *
 * Kept out of the snapshot's heap, so that it stays small (deserialising costs ~5 ms per MB):
 * - node:http, node:https and node:tls (they cannot be in a snapshot) and node:cluster (it picks
 *   its primary or worker half when loaded) are required when first used;
 * - the packages the first answer does not need (Koa and the admin API's, prom-client, ioredis,
 *   the PKI generator's, xmlbuilder2) are bundled beside it, one file per part that needs them
 *   (vendor-admin.cjs, vendor-store.cjs, …), and required from there when first used; a serving
 *   process reads only the admin API's (a source loaded stays in memory: with one file of them
 *   all the bin peaked ~10 MiB higher under load, bench/README.md).
 */
const snapshotDir = `${root}dist/snapshot`;
/** Packages the first answer needs: evaluated into the snapshot. Every other package goes to a vendor file. */
const SNAPSHOT_PACKAGES = new Set(['@sinclair/typebox', 'yaml', 'pino']);
/** Which vendor file holds a package: the part of the mock that loads it ('other' for any package not named here). */
const VENDOR_FILES = {
  admin: ['koa', '@koa/router', 'koa-bodyparser', 'prom-client'],
  store: ['ioredis'],
  pki: ['@peculiar/x509', '@peculiar/asn1-x509', '@peculiar/asn1-schema', 'reflect-metadata'],
  report: ['xmlbuilder2'],
};
const vendorFileOf = (specifier) => Object.keys(VENDOR_FILES).find((file) => VENDOR_FILES[file].includes(packageOf(specifier))) ?? 'other';
const LATE_BUILTINS = /^(node:)?(http|https|tls|cluster)$/;
const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
/** Each vendor file's packages, as the mock's modules import them. */
const vendored = new Map();

const lateLoading = {
  name: 'late-loading',
  setup(on) {
    on.onResolve({ filter: LATE_BUILTINS }, (args) => (args.namespace === 'late-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'late-builtin' }));
    on.onLoad({ filter: /.*/, namespace: 'late-builtin' }, (args) => ({
      // Property reads reach the real module, loaded on the first one (at run time, not while the snapshot is built).
      contents: `let loaded; const real = () => (loaded ??= require(${JSON.stringify(`node:${args.path}`)}));
module.exports = new Proxy({}, { get: (_, key) => real()[key], has: (_, key) => key in real() });`,
      loader: 'js',
    }));
    on.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.namespace !== 'file' || args.importer.includes('/node_modules/') || args.path.startsWith('node:') || SNAPSHOT_PACKAGES.has(packageOf(args.path))) return undefined;
      const file = vendorFileOf(args.path);
      vendored.set(file, new Set([...(vendored.get(file) ?? []), args.path]));
      return { path: args.path, namespace: 'vendor' };
    });
    on.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({
      contents: `module.exports = require('vendor-loader')(${JSON.stringify(vendorFileOf(args.path))}, ${JSON.stringify(args.path)});`,
      loader: 'js',
      resolveDir: root,
    }));
    on.onResolve({ filter: /^vendor-loader$/ }, () => ({ path: 'vendor-loader', namespace: 'vendor-loader' }));
    on.onLoad({ filter: /.*/, namespace: 'vendor-loader' }, () => ({
      contents: `const { startupSnapshot } = require('node:v8');
const files = {};
module.exports = (file, name) => {
  if (startupSnapshot.isBuildingSnapshot()) throw new Error(name + ' is loaded while the start-up snapshot is built: load it later, or add it to SNAPSHOT_PACKAGES in scripts/bundle.mjs');
  files[file] ??= require('node:module').createRequire(globalThis.__entitlementMockUrl)('./vendor-' + file + '.cjs');
  return files[file][name]();
};`,
      loader: 'js',
    }));
  },
};

/** What the snapshot's bundle and its vendor files are built with. */
const snapshotCjs = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // The source stays in the snapshot's heap (functions not yet run compile from it): smaller is faster to start.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};

rmSync(snapshotDir, { recursive: true, force: true });
await build({
  ...snapshotCjs,
  entryPoints: { 'entitlement-mock': 'src/cli/snapshot-entry.ts' },
  outdir: snapshotDir,
  outExtension: { '.js': '.cjs' },
  // Set when the snapshot starts (src/cli/snapshot-entry.ts); undefined while it is built, so a
  // module that computes a path from it at load time fails the build instead of keeping this folder.
  define: { 'import.meta.url': 'globalThis.__entitlementMockUrl' },
  plugins: [lateLoading],
  legalComments: 'none',
});
for (const [file, names] of vendored)
  await build({
    ...snapshotCjs,
    stdin: {
      contents: [...names].sort().map((name) => `exports[${JSON.stringify(name)}] = () => require(${JSON.stringify(name)});`).join('\n'),
      resolveDir: root,
      sourcefile: `vendor-${file}.cjs`,
    },
    outfile: `${snapshotDir}/vendor-${file}.cjs`,
    legalComments: 'eof',
  });
buildSnapshot();

/** Runs `node --build-snapshot` on the bundle. A node that cannot build it gets a warning, and the bin starts without it. */
function buildSnapshot() {
  const blob = `${snapshotDir}/entitlement-mock.blob`;
  const built = spawnSync(process.execPath, ['--no-warnings', '--snapshot-blob', blob, '--build-snapshot', `${snapshotDir}/entitlement-mock.cjs`], { encoding: 'utf8' });
  // node refuses a snapshot whose V8 flags differ from its own (exit 14): one that changed a flag while it was built would never start.
  const tried = built.status === 0 ? spawnSync(process.execPath, ['--snapshot-blob', blob, `${root}bin/entitlement-mock.js`, '--version'], { encoding: 'utf8' }) : built;
  if (tried.status !== 0) {
    rmSync(blob, { force: true });
    process.stderr.write(`scripts/bundle.mjs: no start-up snapshot (node ${process.version} could not build or start it; the bin starts without it):\n${tried.stderr}\n`);
    return;
  }
  // What bin/entitlement-mock compares with the node it finds: node refuses a snapshot another node built.
  const node = statSync(process.execPath);
  writeFileSync(`${snapshotDir}/node.stamp`, `${node.size} ${Math.floor(node.mtimeMs / 1000)}\n`);
}
