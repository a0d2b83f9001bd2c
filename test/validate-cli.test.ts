/** `entitlement-mock validate PATH…`: output format and exit codes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/validate.js';

async function validate(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { write: (text: string) => (out += text) }, { write: (text: string) => (err += text) });
  return { code, out, err };
}

let folder = '';
test.before.each(() => {
  folder = mkdtempSync(join(tmpdir(), 'em-validate-'));
});
test.after.each(() => rmSync(folder, { recursive: true, force: true }));

test('the bundled scenarios validate: exit 0 and a one-line summary', async () => {
  const { code, out, err } = await validate('scenarios');
  assert.is(code, 0);
  assert.is(out, 'ok: 7 scenarios (default, device-binding-expiring, device-binding, flaky-backend, protocol-violations, showcase, token-formats)\n');
  assert.is(err, '');
});

test('each problem is printed as file:line:column: message, warnings marked; exit 1', async () => {
  const bad = join(folder, 'bad.yaml');
  const warned = join(folder, 'warned.yaml');
  writeFileSync(bad, 'rules:\n  - match: {contentId: x}\n    respond: {delay: soon}\n');
  writeFileSync(warned, 'rules:\n  - respond: {}\n  - name: never\n    respond: {}\n');
  const { code, out } = await validate(bad, warned);
  assert.is(code, 1);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines, [
    `${bad}:2:13: rules[0].match.contentId: unknown key (did you mean contentID?)`,
    `${bad}:3:22: rules[0].respond.delay: expected a number of ms, a string like "250ms" or "2s", or {min, max}, got the string "soon"`,
    `${warned}:3:5: warning: rules[1]: unreachable: rules[0] at line 2 matches every request and has no times: limit, so this rule never answers`,
    '2 errors, 1 warning; 1 scenario loaded',
  ]);
});

test('warnings alone also fail (exit 1)', async () => {
  const file = join(folder, 'cookie.yaml');
  writeFileSync(file, `rules:\n  - match: {customerCookie: "${'x'.repeat(33)}"}\n    respond: {}\n`);
  const { code, out } = await validate(file);
  assert.is(code, 1);
  assert.match(out, new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}:2:29: warning: rules\\[0\\]\\.match\\.customerCookie: never matches`));
});

test('a folder: duplicate scenario names and a missing path are reported', async () => {
  writeFileSync(join(folder, 'a.yaml'), 'rules: []\n');
  writeFileSync(join(folder, 'b.yaml'), 'name: a\nrules: []\n');
  const { code, out } = await validate(folder, join(folder, 'missing.yaml'));
  assert.is(code, 1);
  assert.match(out, `${join(folder, 'b.yaml')}:1:7: scenario name "a" is already used by ${join(folder, 'a.yaml')}`);
  assert.match(out, `${join(folder, 'missing.yaml')}:1:1: cannot read: no such file or folder`);
});

test('usage errors exit 2; --help exits 0', async () => {
  const none = await validate();
  assert.is(none.code, 2);
  assert.match(none.err, /give at least one PATH/);
  const unknown = await validate('--strict', 'scenarios');
  assert.is(unknown.code, 2);
  assert.match(unknown.err, /unknown option --strict/);
  const help = await validate('--help');
  assert.is(help.code, 0);
  assert.match(help.out, /^Usage: entitlement-mock validate PATH/);
});

test.run();
