import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import { createLogger, REQUEST_LINE_WINDOW_MS } from '../src/server/logger.js';
import type { JournalEntry } from '../src/journal/entry.js';

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

function entry(messageID: string): JournalEntry {
  return {
    id: 1,
    time: new Date().toISOString(),
    remote: '127.0.0.1:5000',
    listener: 'main',
    clientCN: 'license-server',
    clientFingerprint: null,
    clientAuthorized: true,
    method: 'POST',
    path: '/entitlement',
    headers: {},
    request: { messageID, contentID: 'c-1' },
    valid: true,
    problems: [],
    warnings: [],
    scenario: 'default',
    rule: 'allow',
    step: null,
    response: { status: 200, body: {}, fault: null, delayMs: 0 },
    durationMs: 1.5,
  };
}

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

test('request lines are not written below the info level', async () => {
  const { stream, writes } = recordingStream();
  const logger = createLogger('warn', stream);
  logger.exchange(entry('m-1'));
  logger.flush();
  assert.equal(writes.length, 0);
});

test.run();
