/** The README's TypeScript example is examples/typescript/license-server.test.ts, and it passes (it runs here). */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// The example's own suite runs in this process too.
import '../examples/typescript/license-server.test.js';

const EXAMPLE = new URL('../examples/typescript/license-server.test.ts', import.meta.url);

test('the README shows the example test as it is in examples/typescript/', () => {
  const example = readFileSync(EXAMPLE, 'utf8');
  const shown = /\/\/ README example start\n([\s\S]*?)\/\/ README example end\n/.exec(example)?.[1];
  assert.ok(shown, 'the example file has its README markers');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes(`\`\`\`ts\n${shown}\`\`\``), 'README.md holds the marked part of the example verbatim');
});

test.run();
