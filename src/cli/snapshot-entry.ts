/**
 * The entry of the start-up snapshot (dist/snapshot/, built by scripts/bundle.mjs and run by
 * bin/entitlement-mock when this node built it): `node --build-snapshot` evaluates this file, with
 * the serve command and everything it needs before its first answer, and saves the heap; a start
 * from the snapshot skips reading, compiling and evaluating that code and goes straight to main().
 *
 * What must not be evaluated into the snapshot is kept out by the build: node:http, node:https,
 * node:tls and node:cluster are required on first use (the first three cannot be in a snapshot;
 * node:cluster picks its primary or worker half when it is loaded), and the packages that only
 * the admin API, --store, the PKI generator and the reports use are loaded from a file next to
 * the snapshot when they are first needed.
 */
import { startupSnapshot } from 'node:v8';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from './main.js';
// Evaluated now, into the snapshot: main() would load it only when called.
import './serve.js';
import { parseServeOptions } from './serve-options.js';
import { parseScenarioText } from '../scenario/format/parse.js';
import { compileScenario } from '../scenario/runtime/compile.js';
import { seededRandom } from '../scenario/runtime/random.js';
import { parseEntitlementRequest } from '../protocol/validate.js';

declare global {
  /** What `import.meta.url` is in the snapshot's bundle: set when the snapshot starts (scripts/bundle.mjs). */
  var __entitlementMockUrl: string | undefined;
}

/*
 * A warm-up, run while the snapshot is built: V8 compiles a function when it is first called,
 * and node loads some of its own modules when first used, so what a start calls before its first
 * answer would otherwise be compiled and loaded then (bench/README.md has what this bought).
 * Only what reads no environment, clock or randomness and keeps nothing (the option parser on an
 * empty command line, a scenario parsed, checked and compiled with a fixed random source, a
 * request checked). The scenario has no regular expression: compiling one sets a V8 flag, and
 * node refuses a snapshot built with other flags. The global `performance`, which loads
 * node:perf_hooks when first read, counts from the process that runs the snapshot.
 */
void globalThis.performance;
parseServeOptions([], {});
parseScenarioText('description: warm-up\nrules:\n  - name: allow-all\n    # a comment\n    match: { contentID: "a-*" }\n    respond:\n      isAllowed: true\n', 'warm-up.yaml', {
  defaultName: 'warm-up',
  compile: (loaded) => compileScenario(loaded, seededRandom(0)),
});
parseEntitlementRequest('{"messageID":"00000000-0000-4000-8000-000000000000","version":1,"contentID":"00000000-0000-4000-8000-000000000001"}');

startupSnapshot.setDeserializeMainFunction(() => {
  // The bin passes itself as argv[1], like a script (cluster workers fork it the same way); the
  // bundle's paths (the dashboard, the bundled scenarios and plans) are found from where it is now.
  process.argv[1] = resolve(process.argv[1] ?? '');
  globalThis.__entitlementMockUrl = pathToFileURL(resolve(process.argv[1], '../../dist/snapshot/entitlement-mock.cjs')).href;
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
});
