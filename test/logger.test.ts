import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import { createLogger, REQUEST_LINE_WINDOW_MS, requestLineWriter } from '../src/server/logger.js';
import type { JournalEntry } from '../src/journal/entry.js';
import { journalEntry } from './helpers/journal-entry.js';

/** A destination that keeps each write as it came, and says when one arrives. */
function recordingStream() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk));
      stream.emit('written');
      done();
    },
  });
  return { stream, writes };
}

const entry = (messageID: string) => journalEntry({ messageID, contentID: 'c-1', durationMs: 1.5 });

test('request lines from several turns share one write, within the window', async () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('info', stream);
  const started = performance.now();
  logger.exchange(entry('m-1'));
  await new Promise((resolve) => setImmediate(resolve));
  logger.exchange(entry('m-2'));
  assert.equal(writes.length, 0, 'nothing written before the window ends');
  // The logger's timer does not keep a process alive (a mock has its listeners for that): this test holds it open.
  const keepAlive = setTimeout(() => undefined, 5_000);
  await once(stream, 'written');
  clearTimeout(keepAlive);
  const waited = performance.now() - started;
  assert.equal(writes.length, 1);
  const lines = writes[0]!.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.map((line) => line.messageID), ['m-1', 'm-2']);
  assert.equal(lines[0]!.msg, 'request');
  assert.equal(lines[0]!.status, 200);
  assert.ok(waited < REQUEST_LINE_WINDOW_MS + 50, `written after ${waited} ms`);
});

test('another line goes out at once, after the request lines gathered before it', () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('info', stream);
  logger.exchange(entry('m-1'));
  logger.pino.warn('scenario reload found errors');
  assert.equal(writes.length, 2);
  assert.equal((JSON.parse(writes[0]!) as { messageID: string }).messageID, 'm-1');
  assert.equal((JSON.parse(writes[1]!) as { msg: string }).msg, 'scenario reload found errors');
});

test('flush writes gathered request lines at once; a big batch does not wait for the window', () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('info', stream);
  logger.exchange(entry('m-1'));
  logger.flush();
  assert.equal(writes.length, 1);
  for (let i = 0; i < 400; i++) logger.exchange(entry(`m-${i}`));
  assert.ok(writes.length >= 2, 'a batch past 64 KiB is written without waiting');
  logger.flush();
  const all = writes.join('').trimEnd().split('\n');
  assert.equal(all.length, 401, 'no line lost or doubled');
});

test('a request line is the JSON of its fields, whatever the fields hold', () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('info', stream);
  const tricky = entry('m-"quoted"\\ \u2028 ✓ 中文');
  tricky.request = { messageID: tricky.request && (tricky.request as { messageID: string }).messageID, contentID: 42 };
  tricky.clientCN = 'CN with "quotes" and ünïcode';
  tricky.path = '/entitlement?x="1"';
  tricky.response = { status: null, body: null, fault: 'reset', delayMs: 0 };
  tricky.durationMs = 0.125;
  const bare = entry('unused');
  bare.request = null;
  bare.scenario = null;
  bare.rule = null;
  bare.durationMs = null;
  logger.exchange(tricky);
  logger.exchange(bare);
  logger.flush();
  const [first, second] = writes.join('').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const { time: _t1, ...firstFields } = first!;
  assert.equal(firstFields, {
    level: 30, listener: 'main', remote: '127.0.0.1:5000', clientCN: 'CN with "quotes" and ünïcode', method: 'POST',
    path: '/entitlement?x="1"', contentID: 42, messageID: 'm-"quoted"\\ \u2028 ✓ 中文', scenario: 'default', rule: 'allow',
    status: null, fault: 'reset', durationMs: 0.125, valid: true, msg: 'request',
  });
  assert.ok(!Number.isNaN(Date.parse(String(first!.time))));
  const { time: _t2, ...secondFields } = second!;
  assert.equal(Object.keys(secondFields), ['level', 'listener', 'remote', 'clientCN', 'method', 'path', 'scenario', 'rule', 'status', 'durationMs', 'valid', 'msg']);
  assert.equal([second!.scenario, second!.rule, second!.durationMs, second!.status], [null, null, null, 200]);
});

test('multi-byte lines fill batches without a byte lost', () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('info', stream);
  const ids = Array.from({ length: 300 }, (_, i) => `${i}-${'中文✓'.repeat(40)}`);
  for (const id of ids) logger.exchange(entry(id));
  logger.flush();
  assert.ok(writes.length >= 2, 'more than one batch');
  const lines = Buffer.concat(writes.map((w) => Buffer.from(w))).toString('utf8').trimEnd().split('\n');
  assert.equal(lines.map((line) => (JSON.parse(line) as { messageID: string }).messageID), ids);
});

test('request lines are not written below the info level', async () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('warn', stream);
  logger.exchange(entry('m-1'));
  logger.flush();
  assert.equal(writes.length, 0);
});

/** The line as one JSON.stringify of the object (what requestLineWriter must produce, byte for byte). */
function referenceLine(entry: JournalEntry, time: string): string {
  const request = entry.request as Record<string, unknown> | null;
  return `${JSON.stringify({
    level: 30, time, listener: entry.listener, remote: entry.remote, clientCN: entry.clientCN, method: entry.method, path: entry.path,
    contentID: request?.contentID, messageID: request?.messageID, session: entry.session ?? undefined, scenario: entry.scenario,
    rule: entry.rule, status: entry.response.status, fault: entry.response.fault ?? undefined, durationMs: entry.durationMs,
    valid: entry.valid, upstreamMs: entry.upstream?.ms, upstreamFailure: entry.upstream?.outcome === 'failed' ? entry.upstream.reason : undefined,
    msg: 'request',
  })}\n`;
}

test('a request line is byte for byte the JSON.stringify of its fields, also when a connection changes them', () => {
  const line = requestLineWriter();
  const odd = 'q"\\ \u0000\u001f \u2028 \ud800 lone, \ud83d\ude00 pair, ünï 中文';
  const entries: JournalEntry[] = [
    journalEntry(),
    journalEntry({ clientCN: null, session: 's-1', durationMs: null, response: { status: null, body: null, fault: 'reset', delayMs: 0 } }),
    journalEntry({ clientCN: odd, path: `/entitlement?${odd}`, messageID: odd, contentID: odd }),
    journalEntry({ request: { contentID: 7, messageID: [1, { a: null }], version: 1 }, valid: false, scenario: null, rule: null }),
    journalEntry({ request: { contentID: true, messageID: null } }),
    journalEntry({ request: null }),
    journalEntry({ request: 'a string body' }),
    journalEntry({ request: [1, 2] }),
    journalEntry({ upstream: { outcome: 'answered', ms: 12.5, status: 200 } as JournalEntry['upstream'] }),
    journalEntry({ upstream: { outcome: 'failed', ms: 3, reason: `refused ${odd}` } as JournalEntry['upstream'] }),
    journalEntry({ durationMs: 0.000001, response: { status: 503, body: null, fault: null, delayMs: 0 } }),
    journalEntry({ method: 'GET', listener: 'expired' }),
  ];
  for (const entry of entries) {
    const built = line(entry);
    const time = (JSON.parse(built) as { time: string }).time;
    assert.is(built, referenceLine(entry, time));
  }
});


test('after a quiet window the batch is small, and grows back when lines come fast', () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('info', stream);
  logger.exchange(entry('quiet'));
  logger.flush();
  const ids = Array.from({ length: 400 }, (_, i) => `m-${i}`);
  for (const id of ids) logger.exchange(entry(id));
  logger.flush();
  const lines = writes.join('').trimEnd().split('\n').map((line) => (JSON.parse(line) as { messageID: string }).messageID);
  assert.equal(lines, ['quiet', ...ids], 'no line lost, doubled or reordered');
  const bytes = writes.slice(1).reduce((sum, write) => sum + Buffer.byteLength(write), 0);
  // Small batches all along would take one write per ~4 KiB; grown back, one per ~64 KiB.
  assert.ok(writes.length - 1 <= Math.ceil(bytes / (60 * 1024)) + 2, `${writes.length - 1} writes for ${bytes} bytes`);
});

test.run();
