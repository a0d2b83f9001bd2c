/** The journal federation over several sources: merged in time order, counted once, failing closed unless partial. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Journal } from '../src/journal/journal.js';
import type { NewJournalEntry } from '../src/journal/entry.js';
import { JournalWaits } from '../src/journal/waits.js';
import { JournalFederation, SourcesUnavailable, mergeInTimeOrder } from '../src/federation/federation.js';
import { LocalSource } from '../src/federation/local-source.js';
import type { JournalSource } from '../src/federation/source.js';
import { TlsFailureLog } from '../src/journal/tls-failures.js';

function entry(time: string, contentID: string): NewJournalEntry {
  return {
    time, remote: '127.0.0.1:1', listener: 'main', clientCN: null, clientFingerprint: null, clientAuthorized: true, tls: null,
    method: 'POST', path: '/', headers: {}, request: { contentID }, rawBody: null, valid: true, problems: [], warnings: [],
    session: null, scenario: 'default', rule: 'r', step: null, state: null, response: { status: 200, body: null, fault: null, delayMs: 0 }, durationMs: 1,
  };
}

function source(name: string): { journal: Journal; source: LocalSource } {
  const journal = new Journal(100);
  return { journal, source: new LocalSource(journal, new TlsFailureLog(10), name) };
}

/** A source that never answers in time. */
function silent(name: string): JournalSource {
  const never = () => new Promise<never>(() => {});
  return { name, query: never, count: never, matchingIds: never, counts: never, clear: never, report: never, tlsFailures: never, clearTlsFailures: never, subscribe: () => () => {} };
}

test('a query over two sources merges their entries in time order, keeping each source order, and sums the counts', async () => {
  const a = source('worker 1');
  const b = source('worker 2');
  a.journal.append(entry('2026-12-07T10:00:00.001Z', 'a1'));
  b.journal.append(entry('2026-12-07T10:00:00.002Z', 'b1'));
  a.journal.append(entry('2026-12-07T10:00:00.003Z', 'a2'));
  b.journal.append(entry('2026-12-07T10:00:00.004Z', 'b2'));
  const federation = new JournalFederation([a.source, b.source]);
  const answer = await federation.query({});
  assert.equal(answer.requests.map((each) => (each.request as { contentID: string }).contentID), ['a1', 'b1', 'a2', 'b2']);
  assert.is(answer.total, 4);
  assert.equal(answer.missing, []);
  assert.equal((await federation.query({ limit: 3 })).requests.map((each) => (each.request as { contentID: string }).contentID), ['b1', 'a2', 'b2']);
  assert.equal(await federation.count({ contentID: 'b2' }), { count: 1, missing: [] });
  assert.equal(mergeInTimeOrder([[{ time: 'b' }], [{ time: 'a' }, { time: 'c' }]]), [{ time: 'a' }, { time: 'b' }, { time: 'c' }]);
});

test('a source that does not answer fails the query naming it, unless partial', async () => {
  const a = source('worker 1');
  a.journal.append(entry('2026-12-07T10:00:00.001Z', 'a1'));
  const federation = new JournalFederation([a.source, silent('worker 2')], 50);
  const failed = await federation.query({}).then(() => null, (error: unknown) => error);
  assert.instance(failed, SourcesUnavailable);
  assert.equal((failed as SourcesUnavailable).missing, ['worker 2']);
  assert.match((failed as Error).message, 'worker 2');
  const partial = await federation.query({}, true);
  assert.is(partial.requests.length, 1);
  assert.equal(partial.missing, ['worker 2']);
  await assert.not.throws(async () => federation.tlsFailures(true));
});

test('a wait is satisfied by entries of any source, each counted once', async () => {
  const a = source('worker 1');
  const b = source('worker 2');
  a.journal.append(entry('2026-12-07T10:00:00.001Z', 'x'));
  const federation = new JournalFederation([a.source, b.source]);
  const waits = new JournalWaits(federation);
  const waiting = waits.wait({ filter: { contentID: 'x' }, count: 3, timeoutMs: 5000 });
  b.journal.append(entry('2026-12-07T10:00:00.002Z', 'x'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(waits.size, 1, 'two of three: still waiting');
  a.journal.append(entry('2026-12-07T10:00:00.003Z', 'x'));
  const outcome = await waiting;
  assert.is(outcome?.reason, 'matched');
  assert.is(federation.listenerCount, 0, 'the sources are not listened to once no wait is pending');
});

test.run();
