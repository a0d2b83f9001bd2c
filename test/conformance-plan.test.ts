/**
 * The conformance plan format: the bundled plan has the agreed case ids (the reference
 * license server's tests and docs/conformance.md rely on them), the published JSON Schema is fresh and
 * accepts it, and `validate` tells plans from scenarios and positions a plan's problems.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { run as validate } from '../src/cli/validate.js';
import { looksLikePlanText, parsePlanText } from '../src/conformance/plan.js';
import { PLAN_SCHEMA_FILE, renderPlanJsonSchema } from '../scripts/gen-schema.js';

const AGREED_CASE_IDS = [
  'granted-with-token-url', 'refused-with-error-and-text', 'refused-without-error', 'message-id-mismatched',
  'message-id-missing', 'message-id-empty', 'message-id-not-string', 'version-above-request', 'version-missing',
  'version-string', 'is-allowed-missing', 'is-allowed-string-true', 'is-allowed-number-one',
  'token-url-missing-on-allow', 'unknown-fields-tolerated', 'body-not-json', 'body-json-array', 'body-empty',
  'http-500', 'http-503', 'http-404', 'reset-before-answer', 'close-before-answer', 'partial-body',
  'slow-within-timeout', 'hang-gives-up', 'server-cert-expired', 'server-cert-wrong-host', 'server-cert-untrusted',
  'device-bound-before-registration', 'device-registration', 'device-bound-after-registration',
  'retries-bounded-on-503',
];
const BUNDLED = 'conformance/entitlement-v1.yaml';

async function validateOutput(...paths: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await validate(paths, { write: (text: string) => (out += text) }, { write: () => true });
  return { code, out };
}

test('the bundled plan: the agreed case ids, each saying what it checks; the device cases in order on one cookie', () => {
  const parsed = parsePlanText(readFileSync(BUNDLED, 'utf8'), BUNDLED);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  assert.equal(parsed.warnings, []);
  const ids = parsed.plan.cases.map((testCase) => testCase.id);
  assert.equal([...ids].sort(), [...AGREED_CASE_IDS].sort());
  for (const testCase of parsed.plan.cases) assert.ok(testCase.checks.rule.length > 20, testCase.id);
  const device = ['device-bound-before-registration', 'device-registration', 'device-bound-after-registration'];
  assert.equal(ids.filter((id) => device.includes(id)), device);
  assert.equal(new Set(parsed.plan.cases.filter((testCase) => device.includes(testCase.id)).map((testCase) => testCase.request?.customerCookie)).size, 1);
  assert.equal(parsed.plan.cases.find((testCase) => testCase.id === 'hang-gives-up')?.expect.givesUpWithin, 'timeout');
  assert.equal(
    parsed.plan.cases.filter((testCase) => testCase.listener !== undefined).map((testCase) => testCase.listener),
    ['expired', 'wrong-host', 'untrusted'],
  );
});

test('docs/conformance.md explains every case of the bundled plan', () => {
  const docs = readFileSync('docs/conformance.md', 'utf8');
  for (const id of AGREED_CASE_IDS) assert.ok(docs.includes(`| \`${id}\` |`), `docs/conformance.md has a row for ${id}`);
});

test('schema/conformance-plan.schema.json is what src/conformance/format.ts produces now, and accepts the bundled plan', () => {
  const text = readFileSync(PLAN_SCHEMA_FILE, 'utf8');
  assert.fixture(text, renderPlanJsonSchema());
  const ajv = new Ajv({ strict: false, allErrors: true });
  const check = ajv.compile(JSON.parse(text));
  const parsed = parsePlanText(readFileSync(BUNDLED, 'utf8'), BUNDLED);
  assert.ok(parsed.ok && check(parsed.plan), JSON.stringify(check.errors));
  assert.not.ok(check({ kind: 'conformance-plan', cases: [{ id: 'x', title: 't', checks: { basis: 'maybe', rule: 'r' }, respond: {}, expect: { license: 'granted' } }] }));
});

test('validate: a plan is told by kind: conformance-plan; its problems have line and column; scenarios beside it still load', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'em-plan-'));
  try {
    const plan = join(folder, 'mine.yaml');
    writeFileSync(
      plan,
      [
        'kind: conformance-plan',
        'cases:',
        '  - id: one',
        '    title: first',
        '    checks: {basis: documented, rule: a rule}',
        '    respond: {isAllowed: false}',
        '    sequence: [{isAllowed: true}]',
        '    expect: {license: refused}',
        '  - id: one',
        '    title: again',
        '    checks: {basis: recommended, rule: a rule}',
        '    rules: [{match: {contentID: x}, respond: {}}]',
        '    expect: {license: granted, givesUpWithin: 2s}',
      ].join('\n'),
    );
    writeFileSync(join(folder, 'scenario.yaml'), 'rules:\n  - respond: {isAllowed: true}\n');
    const { code, out } = await validateOutput(folder);
    assert.is(code, 1);
    assert.equal(out.trim().split('\n'), [
      `${plan}:7:5: cases[0].sequence: respond and sequence cannot be combined: a case answers one way`,
      `${plan}:9:9: cases[1].id: duplicate case id "one" (first used by cases[0], line 3)`,
      `${plan}:12:22: cases[1].rules[0].match.contentID: the run gives each case its own contentID; match on anything else`,
      `ok: ${join(folder, 'scenario.yaml')} (scenario scenario)`,
      '3 errors, 0 warnings; 1 scenario loaded',
    ]);
    assert.equal(await validateOutput(BUNDLED), { code: 0, out: `ok: ${BUNDLED} (conformance plan entitlement-v1, 33 cases)\n` });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a plan from JSON text too; a scenario is never taken for a plan', () => {
  assert.ok(looksLikePlanText('{"kind": "conformance-plan", "cases": []}'));
  assert.ok(looksLikePlanText('# mine\nkind: "conformance-plan"\ncases: []\n'));
  assert.not.ok(looksLikePlanText('rules:\n  - respond: {errorText: "kind: conformance-plan"}\n'));
  const json = parsePlanText(JSON.stringify({ kind: 'conformance-plan', name: 'j', cases: [{ id: 'a', title: 't', checks: { basis: 'documented', rule: 'r' }, respond: { isAllowed: true }, expect: { license: 'granted' } }] }), '(plan)');
  assert.ok(json.ok);
});

test.run();
