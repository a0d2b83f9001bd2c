/**
 * Runs the start-up snapshot's CommonJS bundle (dist/snapshot/entitlement-mock.cjs) as a plain
 * script, without the snapshot: the same code as the bin on the snapshot, loaded and compiled the
 * ordinary way. It tells what the snapshot itself costs from what its bundle costs:
 *
 *   BENCH_BASELINE_NODE_FLAGS=--no-warnings BENCH_NODE_FLAGS=bench/cjs-bundle.cjs \
 *     node bench/run.mjs --baseline . --pairs 5 keepalive
 *
 * (node runs `bench/cjs-bundle.cjs bin/entitlement-mock.js serve …`: the bin's path is taken as the
 * script's, as the snapshot's main function takes it.)
 */
'use strict';
const { startupSnapshot } = require('node:v8');
const { resolve } = require('node:path');

process.argv.splice(1, 1);
// Outside `--build-snapshot` node refuses setDeserializeMainFunction: the bundle's main runs at once instead.
startupSnapshot.setDeserializeMainFunction = (main) => main();
require(resolve(process.argv[1], '../../dist/snapshot/entitlement-mock.cjs'));
