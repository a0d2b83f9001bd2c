// A license-server integration test with entitlement-mock, in uvu (the Jest shape is the same:
// beforeAll/afterAll instead of test.before/test.after). npm test runs this file
// (test/readme-examples.test.ts), and the README shows the part between the markers.
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMock, type StartedMock } from 'entitlement-mock';

// README example start
let mock: StartedMock;
test.before(async () => {
  mock = await startMock(); // free ports, a fresh PKI, the bundled scenarios, no log output
});
test.after(() => mock.stop());

test('a contentID the user is not entitled to is refused', async () => {
  // This test's own rules, for its own contentIDs: tests running in parallel never see them.
  await mock.client.createSession({
    id: 'refusal-test',
    key: { contentID: 'refusal-test-*' },
    ttl: '60s',
    rules: [{ name: 'deny', match: { contentID: 'refusal-test-movie' }, respond: { isAllowed: false, error: 403 } }],
  });

  // Your license server, configured with mock.entitlementUrl, mock.ca and mock.clientCert/clientKey,
  // would send this request; here a stand-in does (below).
  const answer = await entitle(mock, { messageID: randomUUID(), version: 1, contentID: 'refusal-test-movie' });
  assert.is(answer.isAllowed, false);

  // Wait for what reached the mock instead of polling.
  const { requests, waited } = await mock.client.waitForRequests({ session: 'refusal-test' }, { count: 1, timeout: 5000 });
  assert.ok(waited.satisfied);
  assert.is(requests[0]?.rule, 'deny');
  await mock.client.deleteSession('refusal-test');
});
// README example end

/** The stand-in license server: one Entitlement Request over mutual TLS with the mock's client certificate. */
function entitle(target: StartedMock, body: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      target.entitlementUrl,
      {
        method: 'POST',
        ca: target.ca.pem,
        cert: target.clientCert.pem,
        key: target.clientKey.pem,
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve(JSON.parse(text)));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

test.run();
