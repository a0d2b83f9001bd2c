/**
 * How rules answer over real mTLS: sequences (repeat-last and loop), times
 * fall-through, seeded random choices, near misses of an unmatched request,
 * matchers on the TLS client identity, and the invalid/unmatched/defaults
 * responses of a scenario.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entitlementRequest, scenarioFolder, startTestMock, type EntitlementReply, type TestMock } from './helpers/mock.js';
import { testPki } from './helpers/pki.js';

const SEQUENCES = `
rules:
  - name: steps
    match: { contentID: steps }
    sequence:
      - { fault: close }
      - { status: 503, headers: { Retry-After: "1" }, body: busy }
      - { isAllowed: false, error: 1, errorText: third }
      - { errorText: last }
  - name: looping
    match: { contentID: looping }
    loop: true
    sequence:
      - { errorText: A }
      - { errorText: B }
      - { fault: reset }
  - name: limited
    match: { contentID: limited }
    times: 2
    respond: { errorText: limited }
  - name: limited-sequence
    match: { contentID: limited }
    times: 2
    sequence: [{ errorText: ls-0 }, { errorText: ls-1 }]
  - name: fallback
    respond: { errorText: fallback }
`;

const NEAR_MISS = `
rules:
  - name: denied-content
    match: { contentID: "denied-*" }
    respond: { isAllowed: false, error: 403 }
  - name: device-requests
    match: { requestType: [2, 3], customerCookie: { regex: "^dev-[0-9]+$" } }
    respond: {}
  - name: far-away
    match: { contentID: movie-1, version: 2, messageID: { regex: "^0000" } }
    respond: {}
  - name: other-client
    match: { contentID: abc, clientCN: other-server }
    respond: {}
`;

const OVERRIDES = `
defaults:
  epTokenURL: "https://tokens.test/{{contentID}}"
  error: 7
  headers: { X-Default: d, X-Both: from-defaults }
  extra: { a: 1, b: 2 }
invalid:
  status: 422
  headers: { X-Verdict: invalid }
unmatched:
  status: 200
  isAllowed: false
  error: -2033
  errorText: "nothing for {{contentID}} here"
  headers: { X-Verdict: unmatched }
rules:
  - { name: plain, match: { contentID: plain }, respond: {} }
  - name: overriding
    match: { contentID: overriding }
    respond: { error: 9, epTokenURL: "https://own.test/x", headers: { x-both: from-rule }, extra: { b: 3, c: 4 } }
  - { name: seq, match: { contentID: seq }, sequence: [{ status: 201 }, { omit: [error] }] }
  - { name: rnd, match: { contentID: rnd }, random: [{ weight: 1, isAllowed: true }] }
  - { name: deny, match: { contentID: deny }, respond: { isAllowed: false } }
`;

const identityScenario = (fingerprint: string) => `
rules:
  - name: by-fingerprint
    match: { clientFingerprint: "${fingerprint}" }
    respond: { errorText: "fingerprint of {{clientCN}}" }
  - name: by-cn
    match: { clientCN: other-server, clientAuthorized: true }
    respond: { errorText: "cn {{clientCN}}" }
  - name: unauthenticated
    match: { clientAuthorized: false, clientCN: { exists: false }, clientFingerprint: { exists: false } }
    respond: { isAllowed: false, error: 401, errorText: "who are you? [{{clientCN}}]" }
`;

const DICE = `
rules:
  - name: dice
    random:
      - { weight: 1, errorText: one }
      - { weight: 1, errorText: two }
      - { weight: 1, status: 503, body: three }
      - { weight: 1, fault: close }
      - { weight: 1, errorText: five, delay: { min: 1, max: 20 } }
`;

let mock: TestMock;
let folder: string;
test.before(async () => {
  const pki = await testPki();
  folder = await scenarioFolder({
    'sequences.yaml': SEQUENCES,
    'nearmiss.yaml': NEAR_MISS,
    'overrides.yaml': OVERRIDES,
    'identity.yaml': identityScenario(pki.client.fingerprint),
    'dice.yaml': DICE,
  });
  mock = await startTestMock({ scenarios: folder, scenario: 'sequences', clientAuth: 'optional' });
});
test.after(async () => {
  await mock.close();
});

async function use(name: string): Promise<void> {
  const reply = await mock.admin('PUT', '/admin/scenarios/active', { name });
  assert.is(reply.status, 200, reply.text);
}

/** What the client saw, in one word: the errorText, the raw body, or the error code. */
async function outcome(target: TestMock, contentID: string): Promise<string> {
  try {
    const reply = await target.entitle(entitlementRequest({ contentID }));
    return reply.json ? String(reply.json.errorText ?? reply.status) : `${reply.status} ${reply.bodyText}`;
  } catch (error) {
    return `error ${(error as Error).message}`;
  }
}

async function journal(query = ''): Promise<any[]> {
  return (await mock.admin('GET', `/admin/requests${query}`)).json.requests;
}

test('sequence: one step per matching request in order, faults included; the last step repeats', async () => {
  await use('sequences');
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push(await outcome(mock, 'steps'));
  assert.equal(seen, ['error socket hang up', '503 busy', 'third', 'last', 'last', 'last']);
  const entries = await journal('?rule=steps&limit=6');
  assert.equal(entries.map((e) => e.step), [0, 1, 2, 3, 3, 3]);
  assert.equal(entries.map((e) => e.response.fault), ['close', null, null, null, null, null]);
});

test('sequence with loop: true restarts after the last step; each rule keeps its own counter', async () => {
  await use('sequences');
  const seen: string[] = [];
  for (let i = 0; i < 7; i++) {
    seen.push(await outcome(mock, 'looping'));
    if (i === 1) assert.is(await outcome(mock, 'steps'), 'error socket hang up', 'another rule starts at its own step 0');
  }
  assert.equal(seen, ['A', 'B', 'error read ECONNRESET', 'A', 'B', 'error read ECONNRESET', 'A']);
  assert.equal((await journal('?rule=looping&limit=7')).map((e) => e.step), [0, 1, 2, 0, 1, 2, 0]);
});

test('times: a used-up rule is skipped and the next matching rule answers (a times-limited sequence too)', async () => {
  await use('sequences');
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push(await outcome(mock, 'limited'));
  assert.equal(seen, ['limited', 'limited', 'ls-0', 'ls-1', 'fallback', 'fallback']);
  assert.equal(
    (await journal('?contentID=limited&limit=6')).map((e) => e.rule),
    ['limited', 'limited', 'limited-sequence', 'limited-sequence', 'fallback', 'fallback'],
  );
  await mock.admin('POST', '/admin/reset');
  assert.is(await outcome(mock, 'limited'), 'limited', 'counters start again after /admin/reset');
  assert.is(await outcome(mock, 'steps'), 'error socket hang up');
});

test('random: the same --seed replays the same choices (faults and uniform delays included); another seed does not', async () => {
  const start = (seed: number) => startTestMock({ scenarios: folder, scenario: 'dice', seed });
  const mocks = await Promise.all([start(1234), start(1234), start(4321)]);
  try {
    const runs = await Promise.all(
      mocks.map(async (target) => {
        const seen: string[] = [];
        for (let i = 0; i < 40; i++) seen.push(await outcome(target, `die-${i}`));
        const { requests } = (await target.admin('GET', '/admin/requests')).json;
        return { seen, delays: requests.map((e: any) => e.response.delayMs) as number[] };
      }),
    );
    const [first, replay, other] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    assert.is(mocks[0]!.seed, 1234);
    assert.equal(replay.seen, first.seen, 'same seed, same choices');
    assert.equal(replay.delays, first.delays, 'same seed, same uniform delays');
    assert.ok(new Set(first.seen).size >= 3, `several choices were made: ${[...new Set(first.seen)].join(', ')}`);
    for (const seen of first.seen) assert.ok(['one', 'two', '503 three', 'error socket hang up', 'five'].includes(seen), seen);
    assert.not.equal(other.seen, first.seen, 'another seed, other choices');
  } finally {
    await Promise.all(mocks.map((target) => target.close()));
  }
});

test('unmatched: the built-in 404 answer, and the journal names the closest rules with the keys that failed and why', async () => {
  await use('nearmiss');
  const sent = entitlementRequest({ contentID: 'abc', requestType: 1, customerCookie: 'web-1' });
  const reply = await mock.entitle(sent);
  assert.is(reply.status, 404);
  assert.equal(reply.json, {
    messageID: sent.messageID,
    version: 1,
    isAllowed: false,
    epTokenURL: '',
    error: 404,
    errorText: 'no rule of scenario "nearmiss" matched contentID "abc"',
  });
  const [entry] = await journal('?limit=1');
  assert.is(entry.rule, null);
  assert.is(entry.valid, true);
  assert.equal(
    entry.nearMisses.map((miss: any) => ({ rule: miss.rule, failed: miss.failed.map((f: any) => `${f.key}: ${f.reason}`) })),
    [
      { rule: 'denied-content', failed: ['contentID: wanted glob "denied-*", got "abc"'] },
      { rule: 'other-client', failed: ['clientCN: wanted exact "other-server", got "license-server"'] },
      {
        rule: 'device-requests',
        failed: ['requestType: wanted one of [2, 3], got 1', 'customerCookie: wanted regex /^dev-[0-9]+$/, got "web-1"'],
      },
    ],
    'the closest first (fewest failed keys, ties in rule order); far-away (three failed keys) is left out',
  );
});

test('journal filters: ?rule= and ?unmatched= pick the right entries', async () => {
  await use('nearmiss');
  await mock.admin('DELETE', '/admin/requests');
  await mock.entitle(entitlementRequest({ contentID: 'denied-1' }));
  await mock.entitle(entitlementRequest({ contentID: 'nothing-here' }));
  await mock.entitle(entitlementRequest({ contentID: 'denied-2' }));
  await mock.entitle(entitlementRequest({ contentID: 'dev', requestType: 2, customerCookie: 'dev-7' }));
  const denied = await journal('?rule=denied-content');
  assert.equal(denied.map((e) => e.request.contentID), ['denied-1', 'denied-2']);
  const unmatched = await journal('?unmatched=true');
  assert.equal(unmatched.map((e) => e.request.contentID), ['nothing-here']);
  assert.ok(unmatched[0].nearMisses.length >= 2 && unmatched[0].nearMisses.length <= 3);
  assert.equal((await journal('?unmatched=false')).map((e) => e.rule), ['denied-content', 'denied-content', 'device-requests']);
  assert.equal((await mock.admin('GET', '/admin/requests/count?rule=device-requests')).json, { count: 1 });
});

test('clientFingerprint, clientCN and clientAuthorized match the TLS client (client auth optional)', async () => {
  await use('identity');
  const pki = await testPki();
  const ask = (client: { certPem: string; keyPem: string } | null) => mock.entitle(entitlementRequest(), { client });

  const dev = await ask(pki.client);
  assert.is(dev.json.errorText, 'fingerprint of license-server');
  const other = await ask(pki.otherCnClient);
  assert.is(other.json.errorText, 'cn other-server');
  for (const [what, client] of [
    ['a certificate from a foreign CA', pki.foreignClient],
    ['no certificate', null],
    ['an expired certificate', pki.expiredClient],
  ] as const) {
    const reply: EntitlementReply = await ask(client);
    assert.is(reply.status, 200, what);
    assert.is(reply.json.error, 401, what);
    assert.is(reply.json.errorText, 'who are you? []', `${what}: served as unauthenticated`);
  }
  const entries = await journal('?limit=5');
  assert.equal(entries.map((e) => e.rule), ['by-fingerprint', 'by-cn', 'unauthenticated', 'unauthenticated', 'unauthenticated']);
  assert.equal(entries.map((e) => e.clientCN), ['license-server', 'other-server', null, null, null]);
  assert.equal(entries.map((e) => e.clientAuthorized), [true, true, false, false, false]);
  assert.is(entries[0].clientFingerprint, pki.client.fingerprint);
});

test('defaults: merged under respond, sequence steps and random choices; the rule\'s keys win, headers and extra merge by entry', async () => {
  await use('overrides');
  const plain = await mock.entitle(entitlementRequest({ contentID: 'plain' }));
  assert.is(plain.status, 200);
  assert.is(plain.json.epTokenURL, 'https://tokens.test/plain');
  assert.is(plain.json.error, 7);
  assert.is(plain.json.a, 1);
  assert.is(plain.json.b, 2);
  assert.is(plain.headers['x-default'], 'd');
  assert.is(plain.headers['x-both'], 'from-defaults');

  const own = await mock.entitle(entitlementRequest({ contentID: 'overriding' }));
  assert.is(own.json.error, 9);
  assert.is(own.json.epTokenURL, 'https://own.test/x');
  assert.equal([own.json.a, own.json.b, own.json.c], [1, 3, 4]);
  assert.is(own.headers['x-default'], 'd');
  assert.is(own.headers['x-both'], 'from-rule');

  const step0 = await mock.entitle(entitlementRequest({ contentID: 'seq' }));
  assert.is(step0.status, 201);
  assert.is(step0.json.error, 7);
  assert.is(step0.headers['x-default'], 'd');
  const step1 = await mock.entitle(entitlementRequest({ contentID: 'seq' }));
  assert.is(step1.status, 200);
  assert.not.ok('error' in step1.json);
  assert.is(step1.json.epTokenURL, 'https://tokens.test/seq');

  const random = await mock.entitle(entitlementRequest({ contentID: 'rnd' }));
  assert.is(random.json.epTokenURL, 'https://tokens.test/rnd');
  assert.is(random.json.a, 1);

  const deny = await mock.entitle(entitlementRequest({ contentID: 'deny' }));
  assert.is(deny.json.isAllowed, false);
  assert.is(deny.json.epTokenURL, 'https://tokens.test/deny', 'an epTokenURL from defaults counts as set');
});

test('invalid: overrides the built-in answer to forbidden requests (defaults do not apply)', async () => {
  await use('overrides');
  const reply = await mock.entitle({ version: 1, customerCookie: 'x'.repeat(33) });
  assert.is(reply.status, 422);
  assert.is(reply.headers['x-verdict'], 'invalid');
  assert.is(reply.headers['x-default'], undefined);
  assert.is(reply.json.isAllowed, false);
  assert.is(reply.json.error, 400);
  assert.is(reply.json.epTokenURL, '');
  for (const problem of ['messageID: required field missing', 'contentID: required field missing', 'customerCookie: at most 32 characters, got 33'])
    assert.ok(reply.json.errorText.includes(problem), `${reply.json.errorText} names ${problem}`);
  assert.not.ok('a' in reply.json);
  const [entry] = await journal('?limit=1');
  assert.is(entry.valid, false);
  assert.is(entry.rule, null);
  assert.is(entry.response.status, 422);
});

test('unmatched: overrides the built-in answer when no rule matches (templates work, defaults do not apply)', async () => {
  await use('overrides');
  const sent = entitlementRequest({ contentID: 'zzz' });
  const reply = await mock.entitle(sent);
  assert.is(reply.status, 200);
  assert.is(reply.headers['x-verdict'], 'unmatched');
  assert.equal(reply.json, {
    messageID: sent.messageID,
    version: 1,
    isAllowed: false,
    epTokenURL: '',
    error: -2033,
    errorText: 'nothing for zzz here',
  });
  const [entry] = await journal('?unmatched=true&limit=1');
  assert.is(entry.request.messageID, sent.messageID);
  assert.ok(Array.isArray(entry.nearMisses) && entry.nearMisses.length > 0);
});

test.run();
