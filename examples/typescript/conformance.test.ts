// A conformance run in a test: the mock grades a license server against the bundled plan of
// entitlement cases, and the verdicts go to a JUnit XML file for CI. npm test runs this file
// (test/conformance-example.test.ts).
//
// The license server here is the reference one (examples/license-server/). For yours: start it
// pointed at mock.entitlementUrl, presenting mock.clientCert/clientKey and trusting mock.ca, and
// have ask() request the case's license from it the way your players do.
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMock, type StartedMock } from 'entitlement-mock';
import { runConformance, type CaseTicket } from 'entitlement-mock/client';
import { startLicenseServer, type StartedLicenseServer } from '../license-server/license-server.js';
import { askForLicense } from '../license-server/license-client.js';

/** The license server's timeout: the run checks that it gives up on a silent service within it. */
const TIMEOUT_MS = 1500;
const JUNIT_FILE = process.env.CONFORMANCE_JUNIT ?? join(tmpdir(), 'entitlement-mock-conformance.xml');

let mock: StartedMock | undefined;
let licenseServer: StartedLicenseServer | undefined;
test.before(async () => {
  mock = await startMock({ troublePort: 0 }); // trouble listeners on: the bad-certificate cases run too
  licenseServer = await startLicenseServer({
    entitlementUrl: mock.entitlementUrl,
    cert: mock.clientCert.pem,
    key: mock.clientKey.pem,
    ca: mock.ca.pem,
    timeoutMs: TIMEOUT_MS,
  });
});
test.after(async () => {
  await licenseServer?.stop();
  await mock?.stop();
});

test('the license server honours the entitlement contract (every case of the bundled plan)', async () => {
  const { client } = mock!;
  // One case: ask the license server for the ticket's license, say what its client got.
  const ask = (testCase: CaseTicket) => askForLicense(licenseServer!.url, testCase, TIMEOUT_MS + 2000);
  const report = await runConformance(client, { timeout: TIMEOUT_MS }, ask);

  const junit = await client.getConformanceRunJunit(report.id);
  await writeFile(JUNIT_FILE, junit);
  await client.deleteConformanceRun(report.id);

  const notPassed = report.cases.filter((testCase) => testCase.verdict !== 'pass');
  assert.equal(notPassed.map((testCase) => `${testCase.id}: ${testCase.verdict}: ${testCase.reason}`), []);
  assert.is(report.verdict, 'pass');
  assert.match(await readFile(JUNIT_FILE, 'utf8'), `<testsuite name="entitlement-mock conformance: entitlement-v1 (run ${report.id})"`);
});

test.run();
