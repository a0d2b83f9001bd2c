/**
 * The conformance run from a harness's side: the typed client's runConformance (start, ask each
 * case in order, post, report) and `entitlement-mock conformance start|report|end` with its
 * exit codes, against a real mock over mutual TLS with the reference license server asking it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { startTestMock, type TestMock } from './helpers/mock.js';
import { closeAfter } from './helpers/cleanup.js';
import { runCaptured } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { freePortBlock } from './helpers/ports.js';
import { checkedFetch } from './helpers/openapi.js';
import { licenseServers, type LicenseServers } from './helpers/license-server.js';
import { slack } from './helpers/slack.js';
import type { BugFlag } from '../examples/license-server/bugs.js';
import { AdminClient, runConformance } from '../src/client/admin-client.js';
import { run as conformance } from '../src/cli/conformance.js';
import type { CaseTicket, RunStarted } from '../src/conformance/types.js';
import { MIN_TIMEOUT_MS } from '../src/conformance/runs.js';

/** The runs' timeout and the license server's budget per license request (a TLS exchange on a busy machine can take a second). */
const TIMEOUT_MS = Math.max(MIN_TIMEOUT_MS, slack(500));
const ownForFile = closeAfter(test.after);
let mock: TestMock;
let client: AdminClient;
let servers: LicenseServers;
test.before(async () => {
  mock = ownForFile(await startTestMock({ troublePort: 0 }));
  client = new AdminClient(mock.adminUrl, { fetch: checkedFetch });
  servers = ownForFile(licenseServers(mock, TIMEOUT_MS));
});

/** Asks the reference license server with these bugs (none: the correct one) for a case's license. */
const ask = (bugs: readonly BugFlag[] = []) => (ticket: CaseTicket) => servers.ask(ticket, bugs);

const cli = (...args: string[]) => runCaptured(conformance, [...args, '--admin-url', mock.adminUrl]);

test('runConformance asks every case in plan order, posts what the client got, and resolves with the report', async () => {
  const asked: string[] = [];
  const report = await runConformance(
    client,
    { timeout: TIMEOUT_MS, cases: ['device-bound-after-registration', 'device-registration', 'device-bound-before-registration', 'message-id-mismatched', 'server-cert-expired'] },
    async (ticket) => {
      asked.push(ticket.id);
      return ask()(ticket);
    },
  );
  assert.equal(asked, ['message-id-mismatched', 'server-cert-expired', 'device-bound-before-registration', 'device-registration', 'device-bound-after-registration']);
  assert.equal(report.counts, { total: 5, pass: 5, fail: 0, inconclusive: 0, notRun: 0 });
  const xml = await client.getConformanceRunJunit(report.id);
  const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml).testsuites.testsuite;
  assert.equal([suite.tests, suite.failures, suite.errors, suite.skipped], ['5', '0', '0', '0']);
  assert.equal(await client.deleteConformanceRun(report.id), { removed: report.id });
});

test('conformance start prints the run; report prints verdicts, writes JUnit and exits 1 on a fail; --fail-on inconclusive', async () => {
  const started = await cli('start', '--cases', 'granted-with-token-url,is-allowed-number-one,http-404', '--timeout', String(TIMEOUT_MS));
  assert.is(started.code, 0, started.stderr);
  const run = JSON.parse(started.stdout) as RunStarted;
  assert.equal(run.cases.map((ticket) => ticket.id), ['granted-with-token-url', 'is-allowed-number-one', 'http-404']);

  const [granted, numberOne] = run.cases as [CaseTicket, CaseTicket];
  await client.postConformanceOutcome(run.id, granted.id, await ask()(granted));
  await client.postConformanceOutcome(run.id, numberOne.id, await ask(['truthy-is-allowed'])(numberOne));
  const dir = tempDir('conformance-cli');
  const junit = join(dir, 'conformance.xml');
  const failing = await cli('report', run.id, '--junit', junit);
  assert.is(failing.code, 1, failing.stderr);
  const lines = failing.stdout.trim().split('\n');
  assert.is(lines[0], `conformance run ${run.id} (entitlement-v1): fail: 1 pass, 1 fail, 1 inconclusive, 0 not run, of 3`);
  assert.match(lines[1] ?? '', /^ {2}FAIL {9}\[I\] is-allowed-number-one: Recommended \(the protocol leaves it open\): isAllowed is a boolean; only true grants, a truthy number does not; seen: the client got granted, where it must be refused$/);
  assert.match(lines[2] ?? '', /^ {2}INCONCLUSIVE \[I\] http-404: no outcome posted/);
  assert.is(lines[3], '  PASS         [D] granted-with-token-url');
  const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(junit, 'utf8')).testsuites.testsuite;
  assert.equal([suite.tests, suite.failures, suite.errors], ['3', '1', '1']);

  // Without the fail: only an inconclusive case left, which fails only with --fail-on inconclusive.
  await client.postConformanceOutcome(run.id, numberOne.id, await ask()(numberOne));
  assert.is((await cli('report', run.id)).code, 0);
  assert.is((await cli('report', run.id, '--fail-on', 'inconclusive')).code, 1);
  const json = await cli('report', run.id, '--json');
  assert.equal(JSON.parse(json.stdout).counts, { total: 3, pass: 2, fail: 0, inconclusive: 1, notRun: 0 });
  assert.equal((await cli('end', run.id)).stdout, `ended run ${run.id}\n`);
  assert.is((await cli('report', run.id)).code, 3, 'an ended run is gone');
});

test('conformance: --plan takes a file; usage errors and refused plans exit 2; an unreachable admin API exits 3', async () => {
  const dir = tempDir('conformance-plan');
  const planFile = join(dir, 'mine.yaml');
  writeFileSync(planFile, 'kind: conformance-plan\ncases:\n  - id: deny\n    title: t\n    checks: {basis: documented, rule: r}\n    respond: {isAllowed: false}\n    expect: {license: refused}\n');
  const fromFile = await cli('start', '--plan', planFile);
  assert.is(fromFile.code, 0, fromFile.stderr);
  assert.is(JSON.parse(fromFile.stdout).plan, 'plan', 'a posted plan without name: is called plan');

  writeFileSync(planFile, 'kind: conformance-plan\ncases:\n  - id: deny\n    title: t\n    checks: {basis: documented, rule: r}\n    respond: {isAllowed: false}\n    expect: {license: never}\n');
  const refusedPlan = await cli('start', '--plan', planFile);
  assert.is(refusedPlan.code, 2);
  assert.match(refusedPlan.stderr, `${planFile}:7:23: cases[0].expect.license: expected granted or refused`, 'the positions name the file given to --plan');
  assert.is((await cli('start', '--cases', 'no-such-case')).code, 2);
  assert.is((await cli('start', '--plan', './missing.yaml')).code, 2);
  assert.is((await cli('report')).code, 2);
  assert.is((await cli('report', '0badc0de', '--fail-on', 'warn')).code, 2);
  assert.is((await cli('launch')).code, 2);
  assert.is((await cli('report', '0badc0de')).code, 3);
  const closedPort = await freePortBlock(1);
  const unreachable = await runCaptured(conformance, ['report', '0badc0de', '--admin-url', `http://127.0.0.1:${closedPort}`]);
  assert.is(unreachable.code, 3);
  assert.match(unreachable.stderr, 'cannot reach the admin API: connection refused');
  const help = await runCaptured(conformance, ['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, 'entitlement-mock conformance report ID [--junit FILE]');
});

test.run();
