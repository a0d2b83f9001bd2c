import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryWeight, Journal } from '../src/journal/journal.js';
import type { NewJournalEntry } from '../src/journal/entry.js';
import { BoundedRing } from '../src/journal/ring.js';
import { SeenMessageIds } from '../src/journal/seen-message-ids.js';

function entry(overrides: Partial<NewJournalEntry> & { contentID?: string } = {}): NewJournalEntry {
  const { contentID = 'c', ...rest } = overrides;
  return {
    time: new Date().toISOString(),
    remote: '127.0.0.1:1',
    listener: 'main',
    clientCN: 'license-server',
    clientFingerprint: null,
    clientAuthorized: true,
    method: 'POST',
    path: '/entitlement',
    headers: {},
    request: { contentID },
    valid: true,
    problems: [],
    warnings: [],
    scenario: 'default',
    rule: 'allow',
    step: null,
    response: { status: 200, body: {}, fault: null, delayMs: 0 },
    durationMs: 1,
    ...rest,
  };
}

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

test.run();
