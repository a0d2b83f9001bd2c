#!/usr/bin/env -S node --max-old-space-size=512 --max-semi-space-size=8
// Runs the compiled CLI (dist/ is built by `npm run build`, which `npm ci` runs through `prepare`).
//
// The V8 flags above are the one place the mock's heap limits are set (npm start, the image and
// npx all run this file). Without them V8 sizes its heap for the machine's memory and lets the old
// generation grow to ~4× what is live between full collections: the mock peaked at ~250 MiB RSS
// under load with ~40 MiB live. Capped at 512 MiB (above the journal's 256 MiB budget), V8 grows
// the heap by ~1.3× instead and young objects get an 8 MiB semi-space: ~135–140 MiB peak for ~5%
// more CPU per request (bench/README.md). `node bin/entitlement-mock.js` runs without them.
import '../dist/cli/entry.js';
