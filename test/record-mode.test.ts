/**
 * Record mode against a second mock playing the real service (its own PKI, real mTLS):
 * answers pass through unchanged and are journaled with the upstream exchange; the written
 * scenario validates and, served by a plain mock with the upstream gone, answers the same
 * requests the same way (allow, deny, sequences, extra fields, cookies, templated tokens).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadScenarioPath, defaultNameOf } from '../src/scenario/registry/load.js';
import { AdminApiError, AdminClient } from '../src/client/admin-client.js';
import { entitlementRequest, startTestMock, type EntitlementReply, type TestMock } from './helpers/mock.js';
import { startRecorder, startUpstream, type Upstream } from './helpers/upstream.js';
import { slack } from './helpers/slack.js';
import { closeAfter } from './helpers/cleanup.js';

/** Services and recorders a test starts, closed after it whatever happened (tests also close them to read what was written). */
const own = closeAfter(test.after.each);

const SERVICE = `
rules:
  - name: allow
    match: { contentID: movie-allowed }
    respond: { isAllowed: true }
  - name: deny
    match: { contentID: movie-denied }
    respond: { isAllowed: false, error: -2033, errorText: "not entitled to {{contentID}}" }
  - name: steps
    match: { contentID: movie-steps }
    sequence:
      - { isAllowed: false, error: 403, errorText: first }
      - { isAllowed: true, epTokenURL: "https://fp.example.com/rights/?ExpressPlayToken=fixed-1" }
      - { isAllowed: true, epTokenURL: "https://fp.example.com/rights/?ExpressPlayToken=fixed-2" }
  - name: odd-fields
    match: { contentID: movie-odd }
    respond:
      messageID: echo-not
      epTokenURL: plain
      extra: { errorText: "{{not a template}}", hint: { n: 3 } }
      omit: [version]
      headers: { Content-Type: application/json; charset=utf-8 }
  - name: type-two
    match: { contentID: movie-types, requestType: 2 }
    respond: { isAllowed: false, errorText: register first }
  - name: other-types
    match: { contentID: movie-types }
    respond: { isAllowed: true, epTokenURL: "https://fp.example.com/t" }
  - name: cookie-a
    match: { contentID: movie-cookies, customerCookie: cookie-a }
    respond: { isAllowed: true, epTokenURL: "https://fp.example.com/a" }
  - name: cookie-other
    match: { contentID: movie-cookies }
    respond: { isAllowed: false, errorText: unknown cookie }
`;

interface Comparable {
  status: number;
  contentType: unknown;
  body: unknown;
}

function comparable(reply: EntitlementReply): Comparable {
  return { status: reply.status, contentType: reply.headers['content-type'], body: reply.json };
}

/** The answer with its random token left out: what a replay with --template-tokens must reproduce. */
function withoutToken(reply: Comparable): Comparable {
  const body = reply.body as { epTokenURL: string };
  return { ...reply, body: { ...body, epTokenURL: body.epTokenURL.replace(/ExpressPlayToken=[\w-]+/, 'ExpressPlayToken=T') } };
}

async function sendAll(mock: TestMock, requests: Record<string, unknown>[]): Promise<EntitlementReply[]> {
  const replies: EntitlementReply[] = [];
  for (const request of requests) replies.push(await mock.entitle(request));
  return replies;
}

/** Send `requests` one by one through a recorder in front of `upstream`, stop both; the replies and the file written. */
async function recordThrough(upstream: Upstream, options: Parameters<typeof startRecorder>[1], requests: Record<string, unknown>[]) {
  const recorder = own(await startRecorder(upstream.target(), options));
  try {
    return { recorded: await sendAll(recorder, requests), file: recorder.recording!.status().out };
  } finally {
    await recorder.close();
    await upstream.mock.close();
  }
}

/** Served by a plain mock from the file alone (the upstream already stopped): the same answers to the same requests. */
async function replay(file: string, requests: Record<string, unknown>[]): Promise<Comparable[]> {
  const mock = await startTestMock({ scenarios: file, scenario: defaultNameOf(file) });
  try {
    const replies = (await sendAll(mock, requests)).map(comparable);
    // No rule catches everything: what was not recorded is not answered as if it had been.
    const unrecorded = await mock.entitle(entitlementRequest({ contentID: 'never-recorded', requestType: 1 }));
    assert.is(unrecorded.status, 404);
    return replies;
  } finally {
    await mock.close();
  }
}

function assertValidates(file: string): void {
  const loaded = loadScenarioPath(file);
  assert.equal(loaded.errors, [], 'no errors');
  assert.equal(loaded.warnings, [], 'no warnings');
  assert.is(loaded.scenarios.length, 1);
}

test('answers pass through unchanged, are journaled with the upstream exchange, and replay identically offline', async () => {
  const upstream = own(await startUpstream(SERVICE));
  const recorder = own(await startRecorder(upstream.target()));
  const requests = [
    entitlementRequest({ contentID: 'movie-allowed', requestType: 1 }),
    entitlementRequest({ contentID: 'movie-allowed', requestType: 1 }),
    entitlementRequest({ contentID: 'movie-denied', requestType: 1 }),
    entitlementRequest({ contentID: 'movie-denied', requestType: 1 }),
    ...[1, 2, 3, 4, 5].map(() => entitlementRequest({ contentID: 'movie-steps' })),
    entitlementRequest({ contentID: 'movie-odd', version: 2 }),
    entitlementRequest({ contentID: 'movie-types', requestType: 2 }),
    entitlementRequest({ contentID: 'movie-types', requestType: 3 }),
    entitlementRequest({ contentID: 'movie-types' }),
  ];
  let recorded: EntitlementReply[];
  try {
    recorded = await sendAll(recorder, requests);
    // Unchanged: the bytes the service sent (its journal has the JSON it serialised).
    const served = upstream.mock.journal.query({});
    assert.is(served.length, requests.length, 'every request reached the service');
    recorded.forEach((reply, index) => {
      assert.is(reply.bodyText, JSON.stringify(served[index]!.response.body), `body of request ${index}`);
      assert.is(reply.status, 200);
    });
    assert.is(recorded[0]!.json.isAllowed, true);
    assert.ok(recorded[0]!.json.epTokenURL !== recorded[1]!.json.epTokenURL, 'two fresh tokens');
    assert.equal(recorded[2]!.json, { messageID: requests[2]!.messageID, version: 1, isAllowed: false, epTokenURL: '', error: -2033, errorText: 'not entitled to movie-denied' });
    assert.is(recorded[9]!.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(recorded[9]!.json, { messageID: 'echo-not', isAllowed: true, epTokenURL: 'plain', errorText: '{{not a template}}', hint: { n: 3 } });

    const journal = recorder.journal.query({});
    assert.is(journal.length, requests.length);
    const first = journal[0]!;
    assert.is(first.valid, true);
    assert.is(first.rule, null);
    assert.equal(first.response.body, recorded[0]!.json);
    assert.ok(first.upstream?.outcome === 'answered');
    assert.is(first.upstream.url, upstream.mock.entitlementUrl);
    assert.is(first.upstream.status, 200);
    assert.equal(first.upstream.body, recorded[0]!.json);
    assert.ok(first.upstream.ms >= 0 && first.upstream.ms < slack(1250), `ms ${first.upstream.ms}`);

    assert.is(recorder.journal.count({ unmatched: true }), 0, 'forwarded requests are not unmatched');
    const listed = await recorder.admin('GET', '/admin/requests?contentID=movie-allowed');
    assert.equal(listed.json.requests[0].upstream, { ...first.upstream });

    const status = await recorder.admin('GET', '/admin/recording');
    assert.is(status.status, 200);
    assert.is(status.json.forwarded, requests.length);
    assert.is(status.json.failed, 0);
    assert.is(status.json.recorded, requests.length);
    assert.is(status.json.rules, 7);
  } finally {
    await recorder.close();
    await upstream.mock.close();
  }

  const file = recorder.recording!.status().out;
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^# Recorded by entitlement-mock \d+\.\d+\.\d+/);
  assert.ok(text.includes(`# from ${upstream.mock.entitlementUrl}`));
  assertValidates(file);
  const [scenario] = loadScenarioPath(file).scenarios;
  const rules = scenario!.definition.rules!;
  assert.equal(
    rules.map((rule) => [rule.name, rule.respond ? 'respond' : `sequence of ${rule.sequence!.length}`]),
    [
      ['movie-allowed type 1', 'sequence of 2'],
      ['movie-denied type 1', 'respond'],
      ['movie-steps no requestType', 'sequence of 3'],
      ['movie-odd no requestType', 'respond'],
      ['movie-types type 2', 'respond'],
      ['movie-types type 3', 'respond'],
      ['movie-types no requestType', 'respond'],
    ],
  );
  assert.equal(rules[2]!.match, { contentID: 'movie-steps', requestType: { exists: false } });
  assert.equal(rules[1]!.respond, { isAllowed: false, epTokenURL: '', error: -2033, errorText: 'not entitled to movie-denied' }, 'messageID and version echo');

  assert.equal(await replay(file, requests), recorded.map(comparable));
});

test('--template-tokens makes repeated allows one rule with fresh tokens; --match-cookie records a rule per cookie', async () => {
  const requests = [
    ...[1, 2, 3].map(() => entitlementRequest({ contentID: 'movie-allowed', requestType: 1 })),
    entitlementRequest({ contentID: 'movie-cookies', requestType: 3, customerCookie: 'cookie-a' }),
    entitlementRequest({ contentID: 'movie-cookies', requestType: 3, customerCookie: 'cookie-b' }),
    entitlementRequest({ contentID: 'movie-cookies', requestType: 3 }),
  ];
  const { recorded, file } = await recordThrough(own(await startUpstream(SERVICE)), { templateTokens: true, matchCookie: true }, requests);
  assertValidates(file);
  const rules = loadScenarioPath(file).scenarios[0]!.definition.rules!;
  assert.is(rules.length, 4);
  assert.equal(rules[0]!.respond, { isAllowed: true, epTokenURL: 'https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken={{token}}' });
  assert.equal(rules[0]!.match, { contentID: 'movie-allowed', requestType: 1, customerCookie: { exists: false } });
  assert.equal(rules[1]!.match, { contentID: 'movie-cookies', requestType: 3, customerCookie: 'cookie-a' });
  assert.equal(rules[2]!.match, { contentID: 'movie-cookies', requestType: 3, customerCookie: 'cookie-b' });

  const replayed = await replay(file, requests);
  assert.equal(replayed.map(withoutToken), recorded.map(comparable).map(withoutToken));
  assert.ok(replayed[0]!.body !== replayed[1]!.body);
  assert.not.equal(replayed[0]!.body, replayed[1]!.body, 'a fresh token per answer');
});

test('concurrent requests go through the kept-alive upstream connections; each cookie gets its own rule', async () => {
  const upstream = own(await startUpstream(SERVICE));
  const recorder = own(await startRecorder(upstream.target(), { matchCookie: true }));
  try {
    const requests = Array.from({ length: 40 }, (_, index) => entitlementRequest({ contentID: 'movie-cookies', requestType: 3, customerCookie: `c-${index}` }));
    const replies = await Promise.all(requests.map((request) => recorder.entitle(request)));
    replies.forEach((reply, index) => {
      assert.is(reply.status, 200);
      assert.equal(reply.json, { messageID: requests[index]!.messageID, version: 1, isAllowed: false, epTokenURL: '', errorText: 'unknown cookie' });
    });
    const status = (await recorder.admin('GET', '/admin/recording')).json;
    assert.equal([status.forwarded, status.failed, status.rules], [40, 0, 40]);
    const connections = new Set(upstream.mock.journal.query({}).map((entry) => entry.tls?.connection));
    assert.ok(connections.size < 40, `${connections.size} upstream connections for 40 requests`);
  } finally {
    await recorder.close();
    await upstream.mock.close();
  }
});

test('the bundled device-binding flow, recorded per cookie with templated tokens, replays step by step', async () => {
  const asked = (requestType: number, customerCookie?: string) =>
    entitlementRequest({ contentID: 'sees-movie', requestType, ...(customerCookie === undefined ? {} : { customerCookie }) });
  const requests = [asked(3, 'cookie-a'), asked(2, 'cookie-a'), asked(3, 'cookie-a'), asked(3, 'cookie-a'), asked(3, 'cookie-b'), asked(1)];
  const upstream = own(await startUpstream({ bundled: 'device-binding' }));
  const { recorded, file } = await recordThrough(upstream, { matchCookie: true, templateTokens: true }, requests);
  assert.equal(recorded.map((reply) => reply.json.isAllowed), [false, true, true, true, false, true]);
  assert.is(recorded[0]!.json.error, -2034);
  assertValidates(file);
  const rules = loadScenarioPath(file).scenarios[0]!.definition.rules!;
  assert.equal(rules.map((rule) => [rule.name, rule.sequence?.length ?? 1]), [
    ['sees-movie type 3 cookie cookie-a', 2],
    ['sees-movie type 2 cookie cookie-a', 1],
    ['sees-movie type 3 cookie cookie-b', 1],
    ['sees-movie type 1 no cookie', 1],
  ]);
  assert.equal((await replay(file, requests)).map(withoutToken), recorded.map(comparable).map(withoutToken));
});

test('recording admin routes: status, the scenario so far, snapshot to --out, clear; 404 when not recording', async () => {
  const upstream = own(await startUpstream(SERVICE));
  const recorder = own(await startRecorder(upstream.target()));
  const plain = await startTestMock();
  try {
    await recorder.entitle(entitlementRequest({ contentID: 'movie-denied', requestType: 1 }));
    const preview = await recorder.admin('GET', '/admin/recording/scenario');
    assert.is(preview.status, 200);
    assert.match(preview.headers.get('content-type') ?? '', /yaml/);
    assert.match(preview.text, /name: movie-denied type 1/);

    const snapshot = await recorder.admin('POST', '/admin/recording/snapshot');
    assert.is(snapshot.status, 200);
    assert.is(snapshot.json.rules, 1);
    assert.is(snapshot.json.file, recorder.recording!.status().out);
    assert.match(readFileSync(snapshot.json.file, 'utf8'), /name: movie-denied type 1/);
    assert.is((await recorder.admin('GET', '/admin/recording')).json.writtenAt, snapshot.json.writtenAt);

    // The typed client has a method per recording route.
    const client = new AdminClient(recorder.adminUrl);
    assert.is((await client.getRecording()).rules, 1);
    assert.match(await client.getRecordingScenario(), /^# Recorded by entitlement-mock/);
    assert.is((await client.snapshotRecording()).file, snapshot.json.file);
    const cleared = await client.clearRecording();
    assert.is(cleared.rules, 0);
    assert.is(cleared.recorded, 0);
    const notRecording = await new AdminClient(plain.adminUrl).getRecording().catch((error: unknown) => error);
    assert.instance(notRecording, AdminApiError);
    assert.is((notRecording as AdminApiError).status, 404);

    for (const [method, path] of [['GET', '/admin/recording'], ['POST', '/admin/recording/snapshot'], ['GET', '/admin/recording/scenario']] as const) {
      const answer = await plain.admin(method, path);
      assert.is(answer.status, 404, `${method} ${path}`);
      assert.match(answer.json.message, /not recording/);
    }
  } finally {
    await Promise.all([recorder.close(), plain.close(), upstream.mock.close()]);
  }
});

test('an --out file that exists is not overwritten without --overwrite', async () => {
  const upstream = own(await startUpstream(SERVICE));
  const first = own(await startRecorder(upstream.target()));
  const out = first.recording!.status().out;
  await first.entitle(entitlementRequest({ contentID: 'movie-denied', requestType: 1 }));
  await first.close();
  const before = readFileSync(out, 'utf8');
  try {
    await startRecorder(upstream.target(), { out }).then(
      async (mock) => {
        await mock.close();
        assert.unreachable('started');
      },
      (error: Error) => assert.match(error.message, /exists; choose another file or pass --overwrite/),
    );
    assert.is(readFileSync(out, 'utf8'), before, 'left alone');
    const empty = own(await startRecorder(upstream.target(), { out, overwrite: true }));
    await empty.close();
    assert.is(readFileSync(out, 'utf8'), before, 'an empty recording is not written at stop');
    assert.ok(empty.logs.some((line) => line.msg === `nothing was recorded; ${out} not written`));
    const second = own(await startRecorder(upstream.target(), { out, overwrite: true }));
    await second.entitle(entitlementRequest({ contentID: 'movie-allowed', requestType: 1 }));
    await second.close();
    assert.match(readFileSync(out, 'utf8'), /name: movie-allowed type 1/);
  } finally {
    await upstream.mock.close();
  }
});

test.run();
