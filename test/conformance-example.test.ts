/**
 * The TypeScript conformance example (examples/typescript/conformance.test.ts) passes: its suite
 * runs in this process, through the package's public exports (dist/, built by npm ci / npm test).
 */
import '../examples/typescript/conformance.test.js';
