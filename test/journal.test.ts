import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryWeight, Journal } from '../src/journal/journal.js';
import { BoundedRing } from '../src/journal/ring.js';
import { SeenMessageIds } from '../src/journal/seen-message-ids.js';
import { journalEntry as entry } from './helpers/journal-entry.js';
import { parseEntitlementRequest } from '../src/protocol/validate.js';

test('the ring keeps the newest items and counts what it dropped', () => {
  const ring = new BoundedRing<number>(3);
  for (let i = 1; i <= 5; i++) ring.push(i);
  assert.equal([...ring.values()], [3, 4, 5]);
  assert.is(ring.total, 5);
  assert.is(ring.dropped, 2);
  ring.clear();
  assert.equal([...ring.values()], []);
  assert.is(ring.total, 0);
  assert.throws(() => new BoundedRing(0), /positive integer/);
});

test('the ring also drops the oldest while the weights held exceed its budget, but keeps the newest', () => {
  const ring = new BoundedRing<string>(10, 100);
  ring.push('a', 40);
  ring.push('b', 40);
  ring.push('c', 40);
  assert.equal([...ring.values()], ['b', 'c']);
  assert.is(ring.weight, 80);
  assert.is(ring.dropped, 1);
  ring.push('huge', 500);
  assert.equal([...ring.values()], ['huge'], 'the newest is kept however heavy');
  assert.is(ring.dropped, 3);
  ring.clear();
  assert.is(ring.weight, 0);
});

test('the journal weighs entries by what the request brought and keeps within its byte budget', () => {
  const light = entryWeight(100, ['Content-Type', 'application/json']);
  const heavy = entryWeight(64 * 1024, ['X-Pad', 'p'.repeat(16 * 1024)]);
  assert.ok(light < 2048, `a small request weighs ${light}`);
  assert.ok(heavy > 64 * 1024 * 4, `a 64 KiB body with 16 KiB of headers weighs ${heavy}`);
  const journal = new Journal(10_000, 10 * heavy);
  for (let i = 0; i < 50; i++) journal.append(entry(), heavy);
  assert.is(journal.length, 10);
  assert.is(journal.dropped, 40);
  assert.is(journal.total, 50);
  assert.ok(journal.bytes <= 10 * heavy);
});

test('journal ids grow, entries come oldest first, drops are counted', () => {
  const journal = new Journal(2);
  journal.append(entry({ contentID: 'a' }));
  journal.append(entry({ contentID: 'b' }));
  journal.append(entry({ contentID: 'c' }));
  assert.equal(journal.query({}).map((e) => e.id), [2, 3]);
  assert.is(journal.total, 3);
  assert.is(journal.dropped, 1);
  journal.clear();
  assert.is(journal.total, 0);
  assert.is(journal.append(entry()).id, 4, 'ids keep growing across a clear so `since` stays meaningful');
});

test('journal filters: rule, contentID, clientCN, valid, unmatched, since, limit', () => {
  const journal = new Journal(100);
  journal.append(entry({ contentID: 'a', rule: 'r1' }));
  journal.append(entry({ contentID: 'b', rule: null }));
  journal.append(entry({ contentID: 'a', rule: null, valid: false, clientCN: 'other' }));
  journal.append(entry({ contentID: 'c', rule: 'r1', listener: 'expired' }));
  const ids = (filter: Parameters<Journal['query']>[0]) => journal.query(filter).map((e) => e.id);
  assert.equal(ids({ rule: 'r1' }), [1, 4]);
  assert.equal(ids({ contentID: 'a' }), [1, 3]);
  assert.equal(ids({ clientCN: 'other' }), [3]);
  assert.equal(ids({ listener: 'expired' }), [4]);
  assert.equal(ids({ valid: false }), [3]);
  assert.equal(ids({ unmatched: true }), [2], 'unmatched means a valid request no rule took');
  assert.equal(ids({ since: 2 }), [3, 4]);
  assert.equal(ids({ limit: 2 }), [3, 4], 'limit keeps the newest');
  assert.equal(ids({ rule: 'r1', limit: 1 }), [4]);
  assert.is(journal.count({ contentID: 'a' }), 2);
  assert.is(journal.count({ limit: 3 }), 3);
});

test('seen messageIDs are remembered up to a bound', () => {
  const seen = new SeenMessageIds(2);
  assert.is(seen.checkAndRecord('a'), false);
  assert.is(seen.checkAndRecord('a'), true);
  seen.checkAndRecord('b');
  seen.checkAndRecord('c');
  assert.is(seen.checkAndRecord('a'), false, 'the oldest was forgotten');
  seen.clear();
  assert.is(seen.checkAndRecord('c'), false);
});

test('remembered messageIDs: the same answers as a plain FIFO set, through many evictions and probe-run collisions', () => {
  for (const capacity of [1, 3, 50, 1000]) {
    const seen = new SeenMessageIds(capacity);
    const reference = new Set<string>();
    const order: string[] = [];
    let state = 12345 + capacity;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let repeats = 0;
    for (let step = 0; step < 30_000; step++) {
      // Ids drawn from a pool a few times the capacity: many repeats, many evictions.
      const id = `id-${Math.floor(random() * capacity * 3)}`;
      const expected = reference.has(id);
      if (!expected) {
        if (order.length === capacity) reference.delete(order.shift()!);
        reference.add(id);
        order.push(id);
      } else repeats++;
      assert.is(seen.checkAndRecord(id), expected, `capacity ${capacity}, step ${step}, ${id}`);
    }
    assert.ok(repeats > 1000, `the test exercised repeats (${repeats})`);
  }
});

test('remembered messageIDs: 100,000 distinct GUIDs stay distinct, the 100,001st evicts the first', () => {
  const seen = new SeenMessageIds(100_000);
  const ids = Array.from({ length: 100_001 }, (_, i) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`);
  for (const id of ids.slice(0, 100_000)) assert.is(seen.checkAndRecord(id), false);
  assert.is(seen.checkAndRecord(ids[99_999]!), true);
  assert.is(seen.checkAndRecord(ids[100_000]!), false);
  assert.is(seen.checkAndRecord(ids[0]!), false, 'the oldest was forgotten');
  assert.is(seen.checkAndRecord(ids[2]!), true);
});

test('filters on customerCookie, messageID, requestType (by string form), scenario and session, exactly', () => {
  const journal = new Journal(10);
  const withRequest = (request: Record<string, unknown>, more: Parameters<typeof entry>[0] = {}) =>
    journal.append(entry({ request: { messageID: 'm', contentID: 'c', ...request }, ...more }));
  const a = withRequest({ customerCookie: 'cookie-a', requestType: 2, messageID: 'm-a' }, { session: 't1' });
  const b = withRequest({ customerCookie: 'cookie-b', requestType: 3 }, { scenario: 'other' });
  const ids = (filter: Parameters<Journal['query']>[0]) => journal.query(filter).map((e) => e.id);
  assert.equal(ids({ customerCookie: 'cookie-a' }), [a.id]);
  assert.equal(ids({ customerCookie: 'cookie' }), [], 'exact, not a prefix');
  assert.equal(ids({ messageID: 'm-a' }), [a.id]);
  assert.equal(ids({ requestType: '3' }), [b.id], 'the number 3 matches "3"');
  assert.equal(ids({ scenario: 'other' }), [b.id]);
  assert.equal(ids({ session: 't1' }), [a.id]);
  assert.equal(ids({ session: 't1', customerCookie: 'cookie-b' }), [], 'every filter must match');
  journal.append(entry({ request: null, valid: false }));
  assert.equal(ids({ customerCookie: 'cookie-a' }), [a.id], 'entries without a parsed request never match a request filter');
});

test('subscribers hear appends synchronously and clears; unsubscribing inside a notification is safe', () => {
  const journal = new Journal(10);
  const heard: string[] = [];
  const first = journal.subscribe({ appended: (e) => heard.push(`first ${e.id}`), cleared: () => heard.push('first cleared') });
  const second = journal.subscribe({
    appended: (e) => {
      heard.push(`second ${e.id}`);
      second();
    },
  });
  assert.is(journal.listenerCount, 2);
  journal.append(entry());
  journal.append(entry());
  journal.clear();
  assert.equal(heard, ['first 1', 'second 1', 'first 2', 'first cleared']);
  first();
  assert.is(journal.listenerCount, 0);
  journal.append(entry());
  assert.is(heard.length, 4);
});

test('an entry kept lean reads back as appended: its request parsed again from the raw body, its response body from the text sent', () => {
  const journal = new Journal(10);
  const rawBody = '{"messageID":"m-1","version":"1","contentID":"c","customerCookie":"\\u00e9t\u00e9","extra":[1,{"a":null}]}';
  const parsed = parseEntitlementRequest(rawBody);
  const body = { messageID: 'm-1', version: 1, isAllowed: true, epTokenURL: 'https://t.example/?t=a%2Fb"q' };
  const appended = entry({ request: parsed.request, rawBody, warnings: parsed.warnings, response: { status: 200, body, fault: null, delayMs: 0 }, durationMs: null });
  const kept = journal.append(appended, undefined, { requestFromRawBody: true, responseBodyText: JSON.stringify(body) });
  kept.durationMs = 2.5;
  const [read] = journal.query({});
  assert.equal(read, { ...appended, durationMs: 2.5 });
  assert.is((read!.request as { version: unknown }).version, 1, 'a numeric-string version reads back as the number it was parsed to');
  assert.is.not(read, appended, 'each read is a fresh plain object');
  assert.equal(journal.query({ messageID: 'm-1', contentID: 'c' }).map((each) => each.id), [kept.id]);
  assert.is(journal.count({ customerCookie: '\u00e9t\u00e9' }), 1);
  assert.equal(journal.matchingIds({ contentID: 'other' }), []);
  assert.equal([...journal.entries()], [read]);
});

test.run();

test('journal subscribers hear each append as it is stored and each clear, until they unsubscribe', () => {
  const journal = new Journal(10);
  const heard: string[] = [];
  const unsubscribe = journal.subscribe({
    appended: (stored) => heard.push(`appended ${stored.id} (journal holds ${journal.length})`),
    cleared: () => heard.push(`cleared (journal holds ${journal.length})`),
  });
  journal.subscribe({ appended: (stored) => heard.push(`second heard ${stored.id}`) });
  journal.append(entry());
  journal.clear();
  unsubscribe();
  journal.append(entry());
  assert.equal(heard, ['appended 1 (journal holds 1)', 'second heard 1', 'cleared (journal holds 0)', 'second heard 2']);
});
