#!/usr/bin/env -S node --heap-growing-percent=70
// Runs the bundled CLI (dist/bundle/ is built by `npm run build`, which `npm ci` runs through `prepare`;
// scripts/bundle.mjs says why it is one bundle).
//
// The V8 flag above is the one place the mock's heap policy is set (npm start, the image and npx
// all run this file). By default V8 lets the old generation grow to up to 4× what survived the
// last full collection before collecting again; every journal entry survives for a while, so the
// mock peaked at ~215 MiB RSS under keep-alive load with ~30 MiB live. Growing by 1.7× instead
// keeps the peak at ~145 MiB for a few per cent more CPU, without capping the heap (a heap limit
// such as --max-old-space-size=512 got lower still but cost ~10% CPU, and --max-semi-space-size=8
// ~10 MiB less for ~9% CPU; bench/README.md).
// `node bin/entitlement-mock.js` runs without it.
import '../dist/bundle/entitlement-mock.mjs';
