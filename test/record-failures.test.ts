/**
 * Record mode when the real service gives no usable answer: it resets or closes the
 * connection, is too slow, answers non-JSON or non-200, refuses our certificate, has a
 * certificate we do not trust, or is not there. The client gets a 502 naming the reason,
 * the journal keeps the upstream failure, and nothing is recorded unless --record-failures.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { defaultNameOf, loadScenarioPath } from '../src/scenario/registry/load.js';
import { entitlementRequest, eventually, startTestMock } from './helpers/mock.js';
import { testPki } from './helpers/pki.js';
import { startRecorder, startUpstream } from './helpers/upstream.js';
import { slack } from './helpers/slack.js';
import { closeAfter } from './helpers/cleanup.js';

/** Services and recorders a test starts, closed after it whatever happened (tests also close them to read what was written). */
const own = closeAfter(test.after.each);

const FLAKY_SERVICE = `
rules:
  - name: reset
    match: { contentID: fault-reset }
    respond: { fault: reset }
  - name: close
    match: { contentID: fault-close }
    respond: { fault: close }
  - name: slow
    match: { contentID: too-slow }
    respond: { delay: 3s }
  - name: html
    match: { contentID: html }
    respond: { body: "<html>oops</html>", headers: { Content-Type: text/html } }
  - name: array
    match: { contentID: array }
    respond: { body: "[1, 2]" }
  - name: unavailable
    match: { contentID: unavailable }
    respond: { status: 503, isAllowed: false, errorText: maintenance }
  - name: ok
    respond: { isAllowed: true, epTokenURL: "https://fp.example.com/ok" }
`;

const TIMEOUT_MS = 400;

const FAILURES: [contentID: string, reason: RegExp, upstreamStatus: number | null][] = [
  ['fault-reset', /^upstream 127\.0\.0\.1:\d+: connection (reset \(TCP RST\)|closed) without a response/, null],
  ['fault-close', /^upstream 127\.0\.0\.1:\d+: connection (reset \(TCP RST\)|closed) without a response/, null],
  ['too-slow', new RegExp(`^upstream did not answer within ${TIMEOUT_MS} ms$`), null],
  ['html', /^upstream answered 200 with a body that is not JSON \(text\/html\): "<html>oops<\/html>"$/, 200],
  ['array', /^upstream answered 200 with JSON that is not an object: "\[1, 2\]"$/, 200],
  ['unavailable', /^upstream answered HTTP 503: "\{.*maintenance.*\}"$/, 503],
];

test('each upstream failure answers 502 with the reason, is journaled, and is not recorded', async () => {
  const upstream = own(await startUpstream(FLAKY_SERVICE));
  const recorder = own(await startRecorder(upstream.target({ timeoutMs: TIMEOUT_MS })));
  try {
    for (const [contentID, reason, upstreamStatus] of FAILURES) {
      const request = entitlementRequest({ contentID, requestType: 1 });
      const startedAt = performance.now();
      const reply = await recorder.entitle(request);
      const ms = performance.now() - startedAt;
      assert.is(reply.status, 502, contentID);
      assert.is(reply.headers['content-type'], 'application/json');
      assert.equal(Object.keys(reply.json), ['messageID', 'version', 'isAllowed', 'epTokenURL', 'error', 'errorText']);
      assert.is(reply.json.messageID, request.messageID);
      assert.is(reply.json.isAllowed, false);
      assert.is(reply.json.error, 502);
      assert.match(reply.json.errorText, reason);
      if (contentID === 'too-slow') assert.ok(ms >= TIMEOUT_MS && ms < TIMEOUT_MS + slack(525), `timed out after ${ms} ms`);

      const [entry] = recorder.journal.query({ contentID });
      assert.ok(entry?.upstream?.outcome === 'failed', contentID);
      assert.is(entry.upstream.reason, reply.json.errorText);
      assert.is(entry.upstream.status, upstreamStatus, `${contentID} status`);
      assert.equal(entry.response.body, reply.json);
    }
    const unavailable = recorder.journal.query({ contentID: 'unavailable' })[0]!;
    assert.equal(unavailable.upstream!.body, {
      messageID: (unavailable.request as { messageID: string }).messageID,
      version: 1,
      isAllowed: false,
      epTokenURL: '',
      errorText: 'maintenance',
    });
    assert.is(recorder.journal.query({ contentID: 'html' })[0]!.upstream!.body, '<html>oops</html>');

    // An invalid request is forwarded too (the service judges it) and never recorded.
    const invalid = await recorder.entitle({ contentID: 'ok-content' });
    assert.is(invalid.status, 502);
    assert.match(invalid.json.errorText, /^upstream answered HTTP 400: /);
    assert.equal(Object.keys(invalid.json), ['isAllowed', 'epTokenURL', 'error', 'errorText']);
    const [invalidEntry] = recorder.journal.query({ valid: false });
    assert.ok(invalidEntry!.problems.some((problem) => problem.includes('messageID')));
    assert.is(invalidEntry!.upstream?.status, 400);
    assert.is(upstream.mock.journal.query({ valid: false }).length, 1, 'the service saw it');

    // The log line of each says why.
    const logged = await eventually(() => recorder.logs.find((line) => line.msg === 'request' && line.contentID === 'too-slow'));
    assert.is(logged.status, 502);
    assert.is(logged.upstreamFailure, `upstream did not answer within ${TIMEOUT_MS} ms`);
    assert.ok(typeof logged.upstreamMs === 'number');

    // Through the admin API too (its answers are checked against the OpenAPI document, `upstream` included).
    const listed = await recorder.admin('GET', '/admin/requests');
    assert.is(listed.json.requests.filter((entry: { upstream?: { outcome: string } }) => entry.upstream?.outcome === 'failed').length, FAILURES.length + 1);

    const ok = await recorder.entitle(entitlementRequest({ contentID: 'fine', requestType: 1 }));
    assert.is(ok.status, 200);
    const status = (await recorder.admin('GET', '/admin/recording')).json;
    assert.is(status.forwarded, FAILURES.length + 2);
    assert.is(status.failed, FAILURES.length + 1);
    assert.is(status.recorded, 1);
  } finally {
    await recorder.close();
    await upstream.mock.close();
  }
  const rules = loadScenarioPath(recorder.recording!.status().out).scenarios[0]!.definition.rules!;
  assert.equal(rules.map((rule) => rule.name), ['fine type 1']);
});

test('--record-failures records the 502 answers the client got, and they replay the same', async () => {
  const upstream = own(await startUpstream(FLAKY_SERVICE));
  const recorder = own(await startRecorder(upstream.target({ timeoutMs: TIMEOUT_MS }), { recordFailures: true }));
  const requests = [...FAILURES.map(([contentID]) => entitlementRequest({ contentID })), entitlementRequest({ contentID: 'fine' })];
  const recorded = [];
  try {
    for (const request of requests) recorded.push(await recorder.entitle(request));
  } finally {
    await recorder.close();
    await upstream.mock.close();
  }
  const file = recorder.recording!.status().out;
  const loaded = loadScenarioPath(file);
  assert.equal([loaded.errors, loaded.warnings], [[], []]);
  const rules = loaded.scenarios[0]!.definition.rules!;
  assert.is(rules.length, FAILURES.length + 1);
  assert.equal(rules[0]!.respond, { isAllowed: false, epTokenURL: '', error: 502, errorText: recorded[0]!.json.errorText, status: 502 });
  assert.match(readFileSync(file, 'utf8'), /recorded as the 502 answer the client got/);

  const replay = await startTestMock({ scenarios: file, scenario: defaultNameOf(file) });
  try {
    for (const [index, request] of requests.entries()) {
      const reply = await replay.entitle(request);
      assert.equal([reply.status, reply.json], [recorded[index]!.status, recorded[index]!.json], String(request.contentID));
    }
  } finally {
    await replay.close();
  }
});

test('a client that leaves while the service is asked: journaled with a warning, still recorded, nothing sent', async () => {
  const upstream = own(await startUpstream(`rules:\n  - respond: { isAllowed: true, epTokenURL: "https://fp.example.com/late", delay: 600ms }\n`));
  const recorder = own(await startRecorder(upstream.target()));
  try {
    const request = entitlementRequest({ contentID: 'late', requestType: 1 });
    const gaveUp = await recorder.entitle(request, { timeoutMs: 150 }).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    assert.is(gaveUp, 'ETIMEDOUT');
    const entry = await eventually(() => recorder.journal.query({ contentID: 'late' })[0]);
    assert.ok(entry.warnings.includes('client closed the connection before the upstream answered'));
    assert.is(entry.upstream?.outcome, 'answered');
    assert.is((await recorder.admin('GET', '/admin/recording')).json.recorded, 1);
  } finally {
    await recorder.close();
    await upstream.mock.close();
  }
});

test('TLS and connection failures: an untrusted service certificate, our certificate refused, nobody listening', async () => {
  const upstream = own(await startUpstream(FLAKY_SERVICE));
  const pki = await testPki();
  const closedPort = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const cases = [
    { what: 'untrusted service certificate', target: upstream.target({ caPem: pki.caPem }), reason: /^upstream 127\.0\.0\.1:\d+: TLS: the server's certificate was refused by this client \(\w+: .*certificate/ },
    {
      what: 'our certificate refused',
      target: upstream.target({ certPem: pki.client.certPem, keyPem: pki.client.keyPem }),
      reason: /^upstream 127\.0\.0\.1:\d+: (TLS refused by the server, most likely because of the client certificate \(--upstream-cert\)|connection (reset|closed) .*the client certificate \(--upstream-cert\))/,
    },
    { what: 'nobody listening', target: upstream.target({ url: new URL(`https://127.0.0.1:${closedPort}/entitlement`) }), reason: /^upstream 127\.0\.0\.1:\d+: connection refused: nothing listens on 127\.0\.0\.1:\d+$/ },
  ];
  try {
    for (const { what, target, reason } of cases) {
      const recorder = own(await startRecorder(target, { recordFailures: false }));
      try {
        const reply = await recorder.entitle(entitlementRequest({ contentID: 'fine' }));
        assert.is(reply.status, 502, what);
        assert.match(reply.json.errorText, reason, `${what}: ${reply.json.errorText}`);
        assert.is(recorder.journal.query({})[0]!.upstream?.outcome, 'failed');
      } finally {
        await recorder.close();
      }
    }
    assert.is(upstream.mock.journal.query({}).length, 0, 'no request got through');
  } finally {
    await upstream.mock.close();
  }
});

test.run();
