#!/usr/bin/env node
// Runs the bundled CLI (dist/bundle/ is built by `npm run build`, which `npm ci` runs through `prepare`;
// scripts/bundle.mjs says why it is one bundle). No node flags here: the serve command sets the
// mock's heap policy itself (src/cli/heap-policy.ts), so `node bin/entitlement-mock.js` behaves the same.
import '../dist/bundle/entitlement-mock.mjs';
