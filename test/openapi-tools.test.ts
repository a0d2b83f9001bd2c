/**
 * schema/admin-api.openapi.json through tools the project did not write, as a user of
 * another language's generator would use it: Redocly's linter (recommended rules) and
 * openapi-typescript, whose types must let a small client (test/fixtures/openapi-client/,
 * with openapi-fetch) type-check and then talk to a running mock.
 *
 * Redocly's CLI sends usage data home unless REDOCLY_TELEMETRY=off (checked with strace:
 * with it set, and the update notice off, a lint opens no socket); the tests must run offline.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OPENAPI_FILE } from '../scripts/gen-schema.js';
import { startTestMock } from './helpers/mock.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/openapi-client/', import.meta.url));
const GENERATED = `${FIXTURE}generated/admin-api.ts`;
const OFFLINE = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

test("Redocly's linter finds no error and no warning (recommended rules)", async () => {
  const cli = `${REPO}node_modules/@redocly/cli/bin/cli.js`;
  const lint = await run(process.execPath, [cli, 'lint', '--extends=recommended', '--format=json', OPENAPI_FILE], {
    cwd: REPO,
    env: OFFLINE,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((failure: { stdout?: string; stderr?: string }) => ({ stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' }));
  const report = JSON.parse(lint.stdout) as { totals: { errors: number; warnings: number }; problems: LintProblem[] };
  const problems = report.problems.map((problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`);
  assert.equal(problems, [], problems.join('\n'));
  assert.is(report.totals.errors, 0);
  assert.is(report.totals.warnings, 0);
});

test('openapi-typescript types let a client type-check and work against a running mock', async () => {
  mkdirSync(`${FIXTURE}generated`, { recursive: true });
  await run(process.execPath, [`${FIXTURE}node_modules/openapi-typescript/bin/cli.js`, OPENAPI_FILE, '--output', GENERATED], { cwd: FIXTURE, env: OFFLINE });
  const typecheck = await run(process.execPath, [`${REPO}node_modules/typescript/bin/tsc`, '-p', `${FIXTURE}tsconfig.json`], { cwd: REPO }).catch(
    (failure: { stdout?: string; stderr?: string }) => ({ failed: `${failure.stdout ?? ''}${failure.stderr ?? ''}` }),
  );
  assert.not.ok('failed' in typecheck, `the client does not type-check with the generated types:\n${'failed' in typecheck ? typecheck.failed : ''}`);

  const mock = await startTestMock();
  try {
    // Loaded by a path the project's own type-check does not follow: client.ts needs generated/, which only this test writes.
    const clientModule = new URL('./fixtures/openapi-client/client.ts', import.meta.url).href;
    const { exercise } = (await import(clientModule)) as { exercise(adminUrl: string): Promise<Record<string, any>> };
    const outcome = await exercise(`http://127.0.0.1:${mock.adminPort}`);
    assert.is(outcome.health, 'ok');
    assert.is(outcome.sessionId, 'from-openapi');
    assert.equal(outcome.sessionRules, ['refuse']);
    assert.is(outcome.postedJson, 'openapi-json');
    assert.is(outcome.postedYaml, 'openapi-yaml');
    assert.ok(outcome.listedScenarios.includes('openapi-json') && outcome.listedScenarios.includes('openapi-yaml'), outcome.listedScenarios.join());
    assert.equal(outcome.unknownScenario.status, 404);
    assert.is(outcome.unknownScenario.error, 'not found');
    assert.ok(outcome.unknownScenario.known.includes('default'));
    assert.is(outcome.sessionRemoved, 'from-openapi');
    assert.is(outcome.requestsTotal, 0);
    assert.is(outcome.reportFindings, 0);
  } finally {
    await mock.close();
  }
});

test.run();
