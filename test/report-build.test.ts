/** The report card's rules, on journals built entry by entry: each finding, its evidence, and the clean case. */
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { buildReport, LONG_WAIT_MS, problemFinding, refusalFinding } from '../src/report/build.js';
import { failsAt, reportAsText } from '../src/report/text.js';
import { FINDING_IDS, TROUBLE_LISTENER_IDS } from '../src/report/types.js';
import { inScope, parseAccepted, parseSince } from '../src/report/scope.js';
import { parseAcceptFile } from '../src/report/accept-file.js';
import type { JournalEntry } from '../src/journal/entry.js';
import { journalEntry } from './helpers/journal-entry.js';

const T0 = Date.parse('2026-12-04T10:00:00.000Z');
let nextId = 1;

/** A clean request at T0 + atMs: GUIDs, version 1, JSON Content-Type, answered 200 in `durationMs`. */
function request(atMs: number, fields: Record<string, unknown> = {}, overrides: Partial<JournalEntry> = {}): JournalEntry {
  return journalEntry({
    id: nextId++,
    time: new Date(T0 + atMs).toISOString(),
    headers: { 'content-type': 'application/json' },
    request: { messageID: randomUUID(), version: 1, contentID: '0f8fad5b-d9cb-469f-a165-70867728950e', ...fields },
    durationMs: 5,
    tls: { connection: nextId, version: 'TLSv1.3', resumed: false },
    ...overrides,
  });
}

function report(entries: JournalEntry[], refusedHandshakes: Record<string, number> = {}, nowMs = 120_000) {
  return buildReport({ entries, dropped: 0, refusedHandshakes, now: new Date(T0 + nowMs) });
}

function finding(entries: JournalEntry[], id: string, refused: Record<string, number> = {}) {
  const found = report(entries, refused).findings.find((candidate) => candidate.id === id);
  assert.ok(found, `finding ${id} expected in ${JSON.stringify(report(entries, refused).findings.map((f) => f.id))}`);
  return found;
}

test('a clean license server gets no findings, and a profile of its traffic', () => {
  const entries = [request(0), request(10), request(20, { requestType: 2, customerCookie: 'device-1' })];
  const result = report(entries);
  assert.equal(result.findings, []);
  assert.is(result.requests, 3);
  assert.is(result.profile.connections, 3);
  assert.equal(result.profile.tlsVersions, { 'TLSv1.3': 3 });
  assert.is(result.profile.peakConcurrency, 1);
  assert.equal(result.profile.faultReactions, []);
  assert.not.ok(failsAt(result, 'warn'));
  assert.match(reportAsText(result), /No findings/);
});

test('requests through a trouble listener are an error, one finding per listener, with the entry ids', () => {
  const entries = [request(0), request(1, {}, { listener: 'expired' }), request(2, {}, { listener: 'expired' }), request(3, {}, { listener: 'self-signed' })];
  const expired = finding(entries, 'trouble-listener-expired');
  assert.is(expired.severity, 'error');
  assert.is(expired.count, 2);
  assert.equal(expired.examples, [entries[1]!.id, entries[2]!.id]);
  assert.match(expired.title, /expired/);
  assert.match(expired.advice, /verifies the entitlement service's certificate/);
  assert.is(finding(entries, 'trouble-listener-self-signed').count, 1);
  assert.ok(failsAt(report(entries), 'error'));
});

test('duplicate, non-GUID messageIDs and non-GUID contentIDs are warnings', () => {
  const entries = [request(0, { messageID: 'same' }), request(1, { messageID: 'same' }), request(2, { contentID: 'movie-1' })];
  const duplicate = finding(entries, 'duplicate-message-id');
  assert.is(duplicate.count, 1);
  assert.equal(duplicate.examples, [entries[1]!.id]);
  assert.is(finding(entries, 'message-id-not-guid').count, 2);
  assert.is(finding(entries, 'content-id-not-guid').count, 1);
  assert.ok(report(entries).findings.every((found) => found.severity === 'warn'));
  assert.ok(failsAt(report(entries), 'warn'));
  assert.not.ok(failsAt(report(entries), 'error'));
});

test('a missing or wrong Content-Type, a string version, another version and unknown fields are warnings', () => {
  const entries = [
    request(0, {}, { headers: {} }),
    request(1, {}, { headers: { 'content-type': 'text/plain' } }),
    request(2, { version: 1 }, { warnings: ['version: sent as the string "1"; treated as the number 1'] }),
    request(3, { version: 2 }),
    request(4, { deviceId: 'x', extra: 1 }),
  ];
  assert.is(finding(entries, 'content-type-missing').count, 1);
  const wrongType = finding(entries, 'content-type-wrong');
  assert.is(wrongType.count, 1);
  assert.match(wrongType.title, /other than application\/json \(text\/plain\)/);
  assert.is(finding(entries, 'version-as-string').count, 1);
  const version = finding(entries, 'version-not-1');
  assert.match(version.title, /\(2\)/);
  const unknown = finding(entries, 'unknown-fields');
  assert.match(unknown.title, /deviceId, extra/);
});

test('invalid requests are errors, one finding per kind (the field, the body, the path or method), the problems in the title', () => {
  const invalid = (atMs: number, problems: string[], fields: Record<string, unknown> = {}) => request(atMs, fields, { valid: false, problems, rule: null, response: { status: 400, body: {}, fault: null, delayMs: 0 } });
  const entries = [
    invalid(0, ['customerCookie: at most 32 characters, got 40'], { customerCookie: 'x'.repeat(40) }),
    invalid(1, ['messageID: required field missing']),
    invalid(2, ['messageID: required field missing']),
    invalid(3, ['requestType: expected 1, 2 or 3, got 7']),
    invalid(4, ['requestType: expected 1, 2 or 3, got 9']),
    invalid(5, ['path /wrong is not the entitlement endpoint']),
    invalid(6, ['messageID: expected a string, got a number']),
    invalid(7, ['body is not valid JSON: Unexpected token']),
    invalid(8, ['method GET not allowed']),
    invalid(9, ['deviceName: something new']),
  ];
  assert.is(finding(entries, 'cookie-too-long').severity, 'error');
  const messageId = finding(entries, 'message-id-invalid');
  assert.is(messageId.count, 3);
  assert.is(messageId.title, 'sent 3 requests the protocol forbids: messageID: required field missing ×2; messageID: expected a string ×1');
  const requestType = finding(entries, 'request-type-invalid');
  assert.is(requestType.count, 2);
  assert.is(requestType.title, 'sent 2 requests the protocol forbids: requestType: expected 1, 2 or 3');
  assert.is(finding(entries, 'wrong-path').count, 1);
  assert.is(finding(entries, 'body-not-json').count, 1);
  assert.is(finding(entries, 'wrong-method').count, 1);
  assert.is(finding(entries, 'invalid-request').count, 1, 'a problem of no known kind');
});

test('every finding id is a slug, documented in docs/report.md; a report gives no other id', () => {
  const docs = readFileSync(new URL('../docs/report.md', import.meta.url), 'utf8');
  // The trouble listeners' ids come from their names (a new listener has one at once): the docs must list it too.
  assert.ok(TROUBLE_LISTENER_IDS.length >= 5 && TROUBLE_LISTENER_IDS.every((id) => FINDING_IDS.includes(id)));
  for (const id of FINDING_IDS) {
    assert.match(id, /^[a-z0-9]+(-[a-z0-9]+)*$/, id);
    assert.ok(docs.includes(`\`${id}\``), `${id} is not in docs/report.md`);
  }
  // Every kind of problem and refusal the mock words today lands on a listed id.
  const problems = ['body must be a JSON object, got an array', 'body is JSON nested deeper than 64 levels', 'body larger than 65536 bytes', 'customerCookie: expected a string, got a number'];
  for (const problem of problems) assert.ok(FINDING_IDS.includes(problemFinding(problem).id), problem);
  const refusals: [string, string][] = [
    ['no certificate', 'client-cert-missing'],
    ['expired certificate', 'client-cert-expired'],
    ['certificate not yet valid', 'client-cert-expired'],
    ['unknown CA (self-signed certificate)', 'client-cert-untrusted'],
    ['revoked certificate', 'client-cert-revoked'],
    ['certificate not usable for client authentication', 'client-cert-wrong-purpose'],
    ['not TLS (plain HTTP)', 'not-tls'],
    ['no shared cipher', 'tls-mismatch'],
    ['connection limit reached', 'connection-limit'],
    ['HTTP request malformed', 'http-malformed'],
    ['client refused the server certificate (TLS alert: bad certificate)', 'server-cert-refused'],
    ['handshake timed out', 'handshake-failed'],
  ];
  assert.equal(refusals.map(([reason]) => [reason, refusalFinding(reason)]), refusals);
});

test('accepted findings: shown as accepted, listed after the others, ignored by --fail-on', () => {
  const entries = [request(0, {}, { listener: 'expired' }), request(1, { messageID: 'not-a-guid' }), request(2, {}, { headers: { 'content-type': 'text/json' } })];
  const plain = buildReport({ entries, dropped: 0, refusedHandshakes: {}, now: new Date(T0 + 1000) });
  assert.ok(failsAt(plain, 'error'));
  assert.ok(plain.findings.every((found) => !found.accepted));
  const accepted = buildReport({ entries, dropped: 0, refusedHandshakes: {}, now: new Date(T0 + 1000), accept: ['trouble-listener-expired', 'content-type-wrong'] });
  assert.equal(
    accepted.findings.map((found) => [found.id, found.accepted]),
    [
      ['message-id-not-guid', false],
      ['trouble-listener-expired', true],
      ['content-type-wrong', true],
    ],
  );
  assert.not.ok(failsAt(accepted, 'error'), 'the only error is accepted');
  assert.ok(failsAt(accepted, 'warn'), 'a warning is not accepted');
  const text = reportAsText(accepted);
  assert.match(text, /✓ accepted {2}sent 1 request over a server certificate that has expired .*\[trouble-listener-expired, error\]/);
  assert.match(text, /! warn {3}sent a messageID that is not a GUID in 1 request {2}\[message-id-not-guid\]/);
});

test('a report scoped to a session or to entries since an id or a time: inScope and parseSince', () => {
  const entries = [request(0, {}, { session: 'a' }), request(1000, {}, { session: 'b' }), request(2000, {}, { session: 'a' })];
  const pick = (session: string | null, since: string | null) =>
    entries.filter((entry) => inScope(entry, session, since === null ? null : parseSince(since))).map((entry) => entry.id);
  assert.equal(pick('a', null), [entries[0]!.id, entries[2]!.id]);
  assert.equal(pick(null, String(entries[0]!.id)), [entries[1]!.id, entries[2]!.id]);
  assert.equal(pick(null, new Date(T0 + 1000).toISOString()), [entries[1]!.id, entries[2]!.id]);
  assert.equal(pick('a', new Date(T0 + 1000).toISOString()), [entries[2]!.id]);
  assert.is(parseSince('yesterday'), null);
  assert.is(parseSince('12abc'), null);
  assert.equal(parseAccepted(['content-type-wrong, version-as-string', 'long-wait']), { ok: true, ids: ['content-type-wrong', 'version-as-string', 'long-wait'] });
  assert.equal(parseAccepted(['content-type:with a Content-Type other than application/json']), {
    ok: false,
    unknown: 'content-type:with a Content-Type other than application/json',
  });
});

test('an accept file: a YAML accept: list; problems named with file:line:column', () => {
  assert.equal(parseAcceptFile('# we live with these\naccept:\n  - content-type-wrong   # our gateway\n  - version-as-string\n', 'accept.yaml'), {
    ok: true,
    ids: ['content-type-wrong', 'version-as-string'],
  });
  assert.equal(parseAcceptFile('accept:\n', 'accept.yaml'), { ok: true, ids: [] });
  const cases: [string, string][] = [
    ['accept:\n  - content-type-wrong\n  - content-type\n', 'accept.yaml:3:5: accept: unknown finding id "content-type"'],
    ['accepted: [long-wait]\n', 'accept.yaml:1:1: unknown key "accepted"'],
    ['accept: long-wait\n', 'accept.yaml:1:9: accept: expected a list of finding ids'],
    ['- long-wait\n', 'accept.yaml:1:1: expected a mapping with an accept: list'],
    ['accept: [long-wait\n', 'accept.yaml:'],
    ['accept:\n  - {id: long-wait}\n', 'accept.yaml:2:5: accept: expected a finding id'],
  ];
  for (const [text, message] of cases) {
    const outcome = parseAcceptFile(text, 'accept.yaml');
    assert.not.ok(outcome.ok, text);
    if (!outcome.ok) assert.ok(outcome.message.startsWith(message), `${JSON.stringify(text)}: ${outcome.message}`);
  }
});

test('refused handshakes are errors by kind of reason, counted from the TLS failure counts', () => {
  const result = report([], { 'no certificate': 3, 'unknown CA': 1, 'unknown CA (self-signed certificate)': 1 });
  assert.is(result.refusedHandshakes, 5);
  assert.equal(
    result.findings.map((found) => [found.id, found.count, found.severity]),
    [
      ['client-cert-missing', 3, 'error'],
      ['client-cert-untrusted', 2, 'error'],
    ],
  );
  assert.is(result.findings[1]!.title, '2 TLS connections refused: unknown CA ×1; unknown CA (self-signed certificate) ×1');
  assert.is(result.findings[0]!.advice, 'A license server presents its client certificate on every connection to the entitlement service.');
  assert.is(result.findings[1]!.advice, 'A license server presents a client certificate issued by the CA the entitlement service trusts.');
});

test('fault reactions: retries after reset, close and 5xx are counted per failure; a hang measures the timeout', () => {
  const cookie = { customerCookie: 'c1' };
  const entries = [
    request(0, cookie, { response: { status: null, body: null, fault: 'reset', delayMs: 0 }, durationMs: 1 }),
    request(500, cookie, { response: { status: 503, body: 'busy', fault: null, delayMs: 0 } }),
    request(1500, cookie),
    request(2000, { customerCookie: 'c2' }, { response: { status: null, body: null, fault: 'hang', delayMs: 0 }, durationMs: 2000 }),
    request(4100, { customerCookie: 'c2' }),
    request(5000, { customerCookie: 'c3' }, { response: { status: null, body: null, fault: 'close', delayMs: 0 }, durationMs: 1 }),
    // not retried: the next request for c3 comes after the window
    request(90_000, { customerCookie: 'c3' }),
  ];
  const result = report(entries);
  const byFailure = Object.fromEntries(result.profile.faultReactions.map((reaction) => [reaction.failure, reaction]));
  assert.equal(byFailure.reset, { failure: 'reset', count: 1, retried: 1, retries: 1, maxRetries: 2 });
  assert.equal(byFailure['5xx'], { failure: '5xx', count: 1, retried: 1, retries: 1, maxRetries: 0 });
  assert.equal(byFailure.hang, { failure: 'hang', count: 1, retried: 1, retries: 1, maxRetries: 1, gaveUpAfterMs: { min: 2000, median: 2000, max: 2000 } });
  assert.equal(byFailure.close, { failure: 'close', count: 1, retried: 0, retries: 0, maxRetries: 0 });
  assert.equal(result.findings, [], 'sensible retries are not findings');
  assert.match(reportAsText(result), /After hang: retried 1 of 1, gave up after 2000 ms/);
});

test('more than three retries in a row is a retry storm; a held answer waited on for over a minute is a long wait', () => {
  const reset = { status: null, body: null, fault: 'reset', delayMs: 0 } as const;
  const storm = [0, 10, 20, 30, 40].map((at) => request(at, { customerCookie: 's' }, { response: reset, durationMs: 1 }));
  const stormFinding = finding(storm, 'retry-storm');
  assert.is(stormFinding.count, 1);
  assert.equal(stormFinding.examples, [storm[4]!.id]);
  const hang = { status: null, body: null, fault: 'hang', delayMs: 0 } as const;
  const waits = [request(0, {}, { response: hang, durationMs: LONG_WAIT_MS + 1 }), request(1, {}, { response: hang, durationMs: null })];
  const longWait = buildReport({ entries: waits, dropped: 0, refusedHandshakes: {}, now: new Date(T0 + 2 * LONG_WAIT_MS) }).findings;
  assert.equal(longWait.map((found) => [found.id, found.count]), [['long-wait', 2]]);
});

test('the profile counts connections by TLS version, resumed sessions and the peak of concurrent requests', () => {
  const tls = (connection: number, version: string, resumed: boolean) => ({ connection, version, resumed });
  const entries = [
    request(0, {}, { durationMs: 100, tls: tls(1, 'TLSv1.2', false) }),
    request(50, {}, { durationMs: 100, tls: tls(2, 'TLSv1.3', true) }),
    request(60, {}, { durationMs: 10, tls: tls(3, 'TLSv1.3', false) }),
    request(100, {}, { durationMs: 10, tls: tls(1, 'TLSv1.2', false) }),
  ];
  const { profile } = report(entries);
  assert.is(profile.connections, 3);
  assert.equal(profile.tlsVersions, { 'TLSv1.2': 1, 'TLSv1.3': 2 });
  assert.is(profile.resumedConnections, 1);
  assert.is(profile.peakConcurrency, 3);
});

test('connections numbered alike by different workers or replicas are counted apart', () => {
  const tls = { connection: 1, version: 'TLSv1.3', resumed: false };
  const entries = [
    request(0, {}, { tls, remote: '127.0.0.1:50001' }),
    request(10, {}, { tls, remote: '127.0.0.1:50002' }),
    request(20, {}, { tls, remote: '127.0.0.1:50001', replica: 'http://10.0.0.2:8080' }),
    request(30, {}, { tls, remote: '127.0.0.1:50001' }),
  ];
  assert.is(report(entries).profile.connections, 3);
});

test('errors come before warnings, then by count', () => {
  const entries = [request(0, { contentID: 'a' }), request(1, { contentID: 'b' }), request(2, {}, { listener: 'expired' })];
  assert.equal(report(entries).findings.map((found) => found.severity), ['error', 'warn']);
});

test.run();
