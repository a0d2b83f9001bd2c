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

test('the bundled scenarios validate: exit 0 and "ok: FILE" for each', async () => {
  const { code, out, err } = await validate('scenarios');
  assert.is(code, 0);
  assert.is(
    out,
    ['default', 'device-binding-expiring', 'device-binding', 'flaky-backend', 'protocol-violations', 'showcase', 'token-formats']
      .map((name) => `ok: ${join('scenarios', `${name}.yaml`)} (scenario ${name})\n`)
      .join(''),
  );
  assert.is(err, '');
});

test('a clean file: "ok: FILE (scenario NAME)", exit 0; next to a broken one it still gets its line', async () => {
  const clean = join(folder, 'clean.yaml');
  writeFileSync(clean, 'name: tidy\nrules:\n  - respond: {isAllowed: true}\n');
  assert.equal(await validate(clean), { code: 0, out: `ok: ${clean} (scenario tidy)\n`, err: '' });
  const broken = join(folder, 'broken.yaml');
  writeFileSync(broken, 'rules:\n  - respond: {status: 700}\n');
  const both = await validate(clean, broken);
  assert.is(both.code, 1);
  assert.equal(both.out.trimEnd().split('\n'), [
    `${broken}:2:23: rules[0].respond.status: expected an HTTP status: a whole number from 100 to 599, got 700`,
    `ok: ${clean} (scenario tidy)`,
    '1 error, 0 warnings; 1 scenario loaded',
  ]);
});

test('one pass: a type error, a bad regex, duplicate rule names and respond+sequence, in position order', async () => {
  const file = join(folder, 'many.yaml');
  writeFileSync(
    file,
    [
      'rules:',
      '  - name: twice',
      '    times: many',
      '    respond: {}',
      '  - name: twice',
      '    match: {contentID: {regex: "(x"}}',
      '    respond: {}',
      '    sequence: [{}]',
      '',
    ].join('\n'),
  );
  const { code, out } = await validate(file);
  assert.is(code, 1);
  assert.equal(out.trimEnd().split('\n'), [
    `${file}:3:12: rules[0].times: expected a whole number of at least 1, got the string "many"`,
    `${file}:5:11: rules[1].name: duplicate rule name "twice" (first used by rules[0], line 2)`,
    `${file}:6:32: rules[1].match.contentID.regex: invalid regex "(x": Unterminated group`,
    `${file}:8:5: rules[1].sequence: respond and sequence cannot be combined: a rule has exactly one of respond, sequence or random`,
    '4 errors, 0 warnings; 0 scenarios loaded',
  ]);
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
