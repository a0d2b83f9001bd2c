/**
 * The reference license server (examples/license-server/) against a real mock over mutual TLS:
 * the correct one grants only on an answer that keeps every rule, passes error/errorText on as
 * code/text, retries within bounds and verifies the service's certificate; each planted bug
 * changes exactly the answers that rule decides (the table at the end).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMock, type StartedMock } from '../src/index.js';
import { BUG_FLAGS, parseBugFlags, type BugFlag } from '../examples/license-server/bugs.js';
import { startLicenseServer, type StartedLicenseServer } from '../examples/license-server/license-server.js';
import { pooled } from './helpers/pool.js';
import { slack } from './helpers/slack.js';

/** The scripted answers, one rule each, matched on the contentID's last part (`<prefix>-<case>`). */
const ANSWERS: Record<string, object> = {
  allow: { respond: { isAllowed: true } },
  deny: { respond: { isAllowed: false, error: 7001, errorText: 'not entitled to this title' } },
  'deny-bare': { respond: { isAllowed: false } },
  'message-id-mismatch': { respond: { messageID: 'mismatch' } },
  'message-id-empty': { respond: { messageID: '' } },
  'message-id-missing': { respond: { omit: ['messageID'] } },
  'message-id-number': { respond: { messageID: 42 } },
  'version-above': { respond: { version: 2 } },
  'version-below': { respond: { version: 0 } },
  'version-string': { respond: { version: '1' } },
  'version-missing': { respond: { omit: ['version'] } },
  'is-allowed-string': { respond: { isAllowed: 'true' } },
  'is-allowed-one': { respond: { isAllowed: 1 } },
  'is-allowed-missing': { respond: { omit: ['isAllowed'] } },
  'token-url-missing': { respond: { isAllowed: true, omit: ['epTokenURL'] } },
  'token-url-empty': { respond: { isAllowed: true, epTokenURL: '' } },
  'unknown-fields': { respond: { extra: { policy: 'cG9saWN5', future: { nested: [1, 2] } } } },
  'not-json': { respond: { body: '<html>busy</html>' } },
  'json-array': { respond: { body: '[]', headers: { 'Content-Type': 'application/json' } } },
  'empty-body': { respond: { body: '' } },
  'http-500': { respond: { status: 500, body: 'oops' } },
  'http-503': { respond: { status: 503, headers: { 'Retry-After': '1' }, body: 'busy' } },
  'http-404': { respond: { status: 404, body: 'no such path' } },
  reset: { respond: { fault: 'reset' } },
  close: { respond: { fault: 'close' } },
  partial: { respond: { fault: 'partial' } },
  slow: { respond: { fault: 'slow', delay: '150ms' } },
  hang: { respond: { fault: 'hang' } },
  flaky: { sequence: [{ status: 503, body: 'busy' }, { isAllowed: true }] },
};
/** Cases asked of another entitlement URL: the trouble listeners (bad server certificates), answering `allow`. */
const TROUBLE = ['expired', 'wrong-host', 'untrusted-ca', 'self-signed'] as const;
const CASES = [...Object.keys(ANSWERS), ...TROUBLE.map((listener) => `trouble-${listener}`)];

const TIMEOUT_MS = 1000;

let mock: StartedMock;
let sessions = 0;
test.before(async () => {
  mock = await startMock({ troublePort: 0 });
});
test.after(async () => {
  await mock.stop();
});

interface Asked {
  status: number | 'no answer';
  body: Record<string, unknown> | null;
  elapsedMs: number;
}

/** A license server with these bugs, its own session of ANSWERS (own counters), and a way to ask it. */
async function rig(bugs: BugFlag[] = [], timeoutMs = TIMEOUT_MS) {
  const prefix = `ref${++sessions}`;
  await mock.client.createSession({
    id: prefix,
    key: { contentID: `${prefix}-*` },
    ttl: '120s',
    rules: Object.entries(ANSWERS).map(([name, answer]) => ({ name, match: { contentID: `${prefix}-${name}` }, ...answer })),
  });
  const log: string[] = [];
  const server = await startLicenseServer({
    entitlementUrl: mock.entitlementUrl,
    cert: mock.clientCert.pem,
    key: mock.clientKey.pem,
    ca: mock.ca.path, // a path works as well as PEM text
    timeoutMs,
    maxRetries: 1,
    bugs,
    log: (line) => log.push(line),
  });
  /** Asks for a license for a case; gives up after `patienceMs` (a license server that never answers). */
  const ask = async (name: string, patienceMs = timeoutMs * 2.5): Promise<Asked> => {
    const trouble = TROUBLE.find((listener) => name === `trouble-${listener}`);
    const request = trouble
      ? { contentID: `${prefix}-allow`, entitlementUrl: mock.troubleUrls[trouble] }
      : { contentID: `${prefix}-${name}`, requestType: 1, customerCookie: 'cookie-1' };
    return askLicense(server, request, patienceMs);
  };
  const journal = (name: string) => mock.client.listRequests({ contentID: `${prefix}-${name}` }).then(({ requests }) => requests);
  const stop = async () => {
    await server.stop();
    await mock.client.deleteSession(prefix);
  };
  return { server, ask, journal, log, stop };
}

async function askLicense(server: StartedLicenseServer, request: object, patienceMs: number): Promise<Asked> {
  const startedAt = performance.now();
  try {
    const response = await fetch(`${server.url}/license`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(patienceMs),
    });
    const body = (await response.json()) as Record<string, unknown>;
    return { status: response.status, body, elapsedMs: performance.now() - startedAt };
  } catch (error) {
    if ((error as Error).name !== 'TimeoutError') throw error;
    return { status: 'no answer', body: null, elapsedMs: performance.now() - startedAt };
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('grants on an allow with the token URL; sends a fresh GUID messageID, version 1, JSON, the client certificate', async () => {
  const { ask, journal, stop } = await rig();
  try {
    const answer = await ask('allow');
    assert.is(answer.status, 200);
    assert.is(answer.body?.license, 'granted');
    assert.match(String(answer.body?.epTokenURL), /^https:\/\/fp\.service\.expressplay\.com:80\/hms\/fp\/rights\/\?ExpressPlayToken=/);
    const [entry, ...more] = await journal('allow');
    assert.is(more.length, 0);
    const sent = entry?.request as Record<string, unknown>;
    assert.match(String(sent.messageID), GUID);
    assert.is(sent.version, 1);
    assert.is(sent.requestType, 1);
    assert.is(sent.customerCookie, 'cookie-1');
    assert.is(entry?.headers['content-type'], 'application/json');
    assert.is(entry?.clientCN, 'license-server');
    assert.is(entry?.valid, true);
  } finally {
    await stop();
  }
});

test("refuses on a deny, with the service's error and errorText as code and text (403); without them, refuses bare", async () => {
  const { ask, stop } = await rig();
  try {
    assert.equal(await ask('deny').then(({ status, body }) => ({ status, body })), {
      status: 403,
      body: { license: 'refused', code: 7001, text: 'not entitled to this title' },
    });
    assert.equal(await ask('deny-bare').then(({ status, body }) => ({ status, body })), { status: 403, body: { license: 'refused' } });
  } finally {
    await stop();
  }
});

test('refuses (502, its own code 0 and the rule in the text) on every answer that breaks the protocol, tolerates unknown fields and a lower version', async () => {
  const { ask, journal, stop } = await rig();
  const broken: Record<string, RegExp> = {
    'message-id-mismatch': /messageID "[0-9a-f-]{36}" is not the request's "[0-9a-f-]{36}"/,
    'message-id-empty': /messageID "" is not the request's/,
    'message-id-missing': /messageID is missing/,
    'message-id-number': /messageID is number 42/,
    'version-above': /version 2 is above the request's 1/,
    'version-string': /version is the string "1", not an integer/,
    'version-missing': /version is missing/,
    'is-allowed-string': /isAllowed is the string "true", not a boolean/,
    'is-allowed-one': /isAllowed is number 1, not a boolean/,
    'is-allowed-missing': /isAllowed is missing/,
    'token-url-missing': /epTokenURL is missing/,
    'token-url-empty': /epTokenURL is an empty string/,
    'not-json': /the body is not JSON/,
    'json-array': /the body is an array, not a JSON object/,
    'empty-body': /the body is empty/,
  };
  try {
    for (const [name, text] of Object.entries(broken)) {
      const answer = await ask(name);
      assert.is(answer.status, 502, name);
      assert.is(answer.body?.license, 'refused', name);
      assert.is(answer.body?.code, 0, name);
      assert.match(String(answer.body?.text), /^the entitlement service's answer breaks the protocol: /, name);
      assert.match(String(answer.body?.text), text, name);
      assert.is((await journal(name)).length, 1, `${name}: a protocol-invalid 200 is never retried`);
    }
    for (const name of ['unknown-fields', 'version-below', 'slow']) assert.is((await ask(name)).body?.license, 'granted', name);
  } finally {
    await stop();
  }
});

test('5xx, reset, close and a cut body: one retry (maxRetries 1) with a fresh messageID, then refused; a 404 is not retried; a 503 then an allow grants', async () => {
  const { ask, journal, stop } = await rig();
  try {
    for (const [name, code, text] of [
      ['http-500', 500, /answered HTTP 500$/],
      ['http-503', 503, /answered HTTP 503$/],
      ['http-404', 404, /answered HTTP 404$/],
      ['reset', 0, /gave no usable answer: the connection was reset before any answer$/],
      ['close', 0, /gave no usable answer: the connection closed before any answer$/],
      ['partial', 0, /gave no usable answer: the answer \(HTTP 200\) was cut short after \d+ bytes of its body$/],
    ] as const) {
      const answer = await ask(name);
      assert.equal([answer.status, answer.body?.license, answer.body?.code], [502, 'refused', code], name);
      assert.match(String(answer.body?.text), text, name);
      const attempts = await journal(name);
      assert.is(attempts.length, name === 'http-404' ? 1 : 2, name);
      const messageIDs = attempts.map((entry) => String((entry.request as { messageID?: unknown }).messageID));
      assert.ok(messageIDs.every((id) => GUID.test(id)) && new Set(messageIDs).size === messageIDs.length, `${name}: fresh GUIDs ${messageIDs}`);
    }
    const flaky = await ask('flaky');
    assert.is(flaky.body?.license, 'granted');
    assert.equal((await journal('flaky')).map((entry) => entry.response?.status), [503, 200]);
  } finally {
    await stop();
  }
});

test('a hang: refused (502) within its timeout, after one attempt', async () => {
  const { ask, journal, stop } = await rig();
  try {
    const answer = await ask('hang');
    assert.equal([answer.status, answer.body?.code, answer.body?.text], [502, 0, `the entitlement service gave no usable answer: no answer within ${TIMEOUT_MS} ms`]);
    assert.ok(answer.elapsedMs >= TIMEOUT_MS - 5 && answer.elapsedMs < TIMEOUT_MS + slack(250), `answered after ${answer.elapsedMs} ms`);
    assert.is((await journal('hang')).length, 1);
  } finally {
    await stop();
  }
});

test("bad server certificates (expired, wrong host, another CA, self-signed): refused without sending a request", async () => {
  const { ask, stop } = await rig();
  const reasons = { expired: 'CERT_HAS_EXPIRED', 'wrong-host': 'ERR_TLS_CERT_ALTNAME_INVALID', 'untrusted-ca': 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'self-signed': 'DEPTH_ZERO_SELF_SIGNED_CERT' };
  try {
    for (const listener of TROUBLE) {
      const answer = await ask(`trouble-${listener}`);
      assert.equal([answer.status, answer.body?.code], [502, 0], listener);
      assert.match(String(answer.body?.text), `gave no usable answer: TLS: ${reasons[listener]}`, listener);
      assert.is((await mock.client.countRequests({ listener })).count, 0, `nothing reached ${listener}`);
    }
  } finally {
    await stop();
  }
});

test('a bad license request gets 400 naming the field; other paths 404, other methods 405; /health', async () => {
  const { server, stop } = await rig();
  try {
    const post = (body: string) => fetch(`${server.url}/license`, { method: 'POST', body });
    const answers = await Promise.all(
      ['{', '[]', '{}', '{"contentID":"x","requestType":4}', `{"contentID":"x","customerCookie":"${'c'.repeat(33)}"}`, '{"contentID":"x","entitlementUrl":"http://a"}'].map(async (body) => {
        const response = await post(body);
        return [response.status, ((await response.json()) as { error: string }).error.split(':')[0]];
      }),
    );
    assert.equal(answers, [
      [400, 'the body must be a JSON object'],
      [400, 'the body must be a JSON object'],
      [400, 'contentID'],
      [400, 'requestType'],
      [400, 'customerCookie'],
      [400, 'entitlementUrl'],
    ]);
    assert.is((await fetch(`${server.url}/nothing`)).status, 404);
    assert.is((await fetch(`${server.url}/license`)).status, 405);
    assert.equal(await (await fetch(`${server.url}/health`)).json(), { status: 'ok' });
  } finally {
    await stop();
  }
});

test('a bad configuration is an error naming the option: entitlementUrl not https, an unreadable certificate file', async () => {
  const options = { entitlementUrl: mock.entitlementUrl, cert: mock.clientCert.pem, key: mock.clientKey.pem, ca: mock.ca.pem };
  const failure = (started: Promise<StartedLicenseServer>) =>
    started.then(
      async (server) => {
        await server.stop();
        return 'started';
      },
      (error: Error) => error.message,
    );
  assert.is(await failure(startLicenseServer({ ...options, entitlementUrl: 'http://127.0.0.1:1/entitlement' })), 'entitlementUrl: expected an https:// URL, got "http://127.0.0.1:1/entitlement"');
  assert.match(await failure(startLicenseServer({ ...options, ca: '/nowhere/ca.crt' })), /^ca: cannot read \/nowhere\/ca\.crt: ENOENT/);
});

test('BUGS: a comma list of known flags; an unknown one is an error naming the known ones', () => {
  assert.equal(parseBugFlags(' no-timeout, ignore-version ,'), ['no-timeout', 'ignore-version']);
  assert.equal(parseBugFlags(''), []);
  assert.throws(() => parseBugFlags('no-timeout,grant-everything'), /unknown bug flag "grant-everything"; known: grant-on-mismatched-message-id, /);
});

/** Which cases' answers each planted bug changes, compared with the correct server's answers. */
const CHANGED_BY: Record<BugFlag, string[]> = {
  'grant-on-mismatched-message-id': ['message-id-mismatch', 'message-id-empty'],
  'ignore-version': ['version-above', 'version-string', 'version-missing'],
  'drop-error-text': ['deny'],
  'fail-open-on-5xx': ['http-500', 'http-503'],
  'retry-without-bound': ['http-500', 'http-503', 'reset', 'close', 'partial'],
  'reuse-message-id-on-retry': ['http-500', 'http-503', 'reset', 'close', 'partial', 'flaky'],
  'no-timeout': ['hang'],
  'trust-any-certificate': ['trouble-expired', 'trouble-wrong-host', 'trouble-untrusted-ca', 'trouble-self-signed'],
  'truthy-is-allowed': ['is-allowed-string', 'is-allowed-one', 'is-allowed-missing'],
  'skip-host-check': ['trouble-wrong-host'],
  'no-token-url-check': ['token-url-missing', 'token-url-empty'],
};

/** The table's budget: roomy, since several license servers and the mock share this process on a busy machine. */
const TABLE_TIMEOUT_MS = slack(500);

/** What each case's answer is, for comparing: the client's answer, and how many attempts the journal saw. */
async function outcomes(bugs: BugFlag[]): Promise<Record<string, string>> {
  const { ask, journal, stop } = await rig(bugs, TABLE_TIMEOUT_MS);
  const outcome = async (name: string) => {
    const { status, body } = await ask(name, TABLE_TIMEOUT_MS * 2.5);
    const entries = name.startsWith('trouble-') || name === 'hang' ? null : await journal(name);
    const messageIDs = new Set(entries?.map((entry) => (entry.request as { messageID?: unknown }).messageID));
    const attempts = entries === null ? '' : ` x${entries.length}${messageIDs.size < entries.length ? ' (a messageID sent again)' : ''}`;
    // Token URLs and messageIDs are fresh per answer: compare their shape.
    const shown = JSON.stringify(body).replace(/Token=[^"]*/, 'Token=…').replace(new RegExp(GUID.source.slice(1, -1), 'g'), '<guid>');
    return `${status} ${shown}${attempts}`;
  };
  try {
    const seen: Record<string, string> = {};
    const hang = outcome('hang'); // waits out its budget while the others are asked one by one
    for (const name of CASES) if (name !== 'hang') seen[name] = await outcome(name);
    seen.hang = await hang;
    return seen;
  } finally {
    await stop();
  }
}

test('each planted bug changes exactly the answers its rule decides (four variants at a time, each in its own session)', async () => {
  assert.equal(Object.keys(CHANGED_BY).sort(), Object.keys(BUG_FLAGS).sort(), 'the table covers every flag');
  const flags = Object.keys(CHANGED_BY) as BugFlag[];
  const [correct, ...variants] = await pooled([() => outcomes([]), ...flags.map((flag) => () => outcomes([flag]))], 4);
  flags.forEach((flag, index) => {
    const variant = variants[index]!;
    const changed = CASES.filter((name) => variant[name] !== correct![name]);
    assert.equal(changed, CHANGED_BY[flag], `${flag}: ${changed.map((name) => `\n  ${name}: ${correct![name]} -> ${variant[name]}`).join('')}`);
  });
  // What the changes are, in words.
  const [noTimeout, failOpen, runaway, trustAny] = ['no-timeout', 'fail-open-on-5xx', 'retry-without-bound', 'trust-any-certificate'].map((flag) => variants[flags.indexOf(flag as BugFlag)]!);
  assert.match(noTimeout!.hang!, /^no answer/);
  assert.match(failOpen!['http-503']!, /^200 \{"license":"granted"/);
  assert.match(runaway!['http-503']!, / x20$/);
  assert.match(trustAny!['trouble-expired']!, /^200 \{"license":"granted"/);
});

test.run();
