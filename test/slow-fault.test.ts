/**
 * `fault: slow` takes the time it says: over real mTLS, the last body byte arrives when the delay
 * is over (within 5%, or 50 ms for short delays) and the first within one chunk interval, for
 * bodies from 10 bytes to 64 KiB and delays from 100 ms to 30 s. The cases run at the same time,
 * so the whole file takes about as long as its longest case.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import { entitlementRequest, entitlementRequestOptions, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';

interface SlowCase {
  bodyBytes: number;
  delayMs: number;
}

const CASES: SlowCase[] = [
  { bodyBytes: 10, delayMs: 100 },
  { bodyBytes: 10, delayMs: 1_000 },
  { bodyBytes: 10, delayMs: 30_000 },
  { bodyBytes: 49, delayMs: 333 },
  { bodyBytes: 210, delayMs: 8_000 }, // the bundled protocol-violations `slow` rule's shape
  { bodyBytes: 1_024, delayMs: 100 },
  { bodyBytes: 1_024, delayMs: 2_500 },
  { bodyBytes: 65_536, delayMs: 100 },
  { bodyBytes: 65_536, delayMs: 1_000 },
  { bodyBytes: 65_536, delayMs: 30_000 },
];

/** The documented pace: a chunk about every 50 ms, never less than a byte per chunk. */
function chunkIntervalMs({ bodyBytes, delayMs }: SlowCase): number {
  return delayMs / Math.max(1, Math.min(bodyBytes, Math.ceil(delayMs / 50)));
}

const contentIdOf = ({ bodyBytes, delayMs }: SlowCase) => `slow-${bodyBytes}-${delayMs}`;
/** A body of exactly `bodyBytes` ASCII bytes that shows where each byte belongs. */
const bodyOf = ({ bodyBytes }: SlowCase) => Array.from({ length: bodyBytes }, (_, index) => String.fromCharCode(97 + (index % 26))).join('');

let mock: TestMock;
test.before(async () => {
  const rules = CASES.map(
    (slow) =>
      `  - { name: ${contentIdOf(slow)}, match: { contentID: ${contentIdOf(slow)} }, ` +
      `respond: { fault: slow, delay: ${slow.delayMs}ms, status: 200, body: "${bodyOf(slow)}" } }`,
  );
  mock = await startTestMock({ scenarios: await scenarioFolder({ 'slow.yaml': ['rules:', ...rules].join('\n') }), scenario: 'slow' });
});
test.after(async () => {
  await mock.close();
});

interface Arrival {
  status: number | null;
  body: Buffer;
  /** ms from the response head to the first and to the last body byte. */
  firstByteMs: number;
  lastByteMs: number;
}

/** One request; times count from the response head, which the mock sends when the dribble starts. */
function receive(slow: SlowCase): Promise<Arrival> {
  return new Promise((resolve, reject) => {
    const request = https.request(entitlementRequestOptions(mock), (response) => {
      const headAt = performance.now();
      const chunks: Buffer[] = [];
      let firstAt: number | null = null;
      let lastAt = headAt;
      response.on('data', (chunk: Buffer) => {
        lastAt = performance.now();
        firstAt ??= lastAt;
        chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? null,
          body: Buffer.concat(chunks),
          firstByteMs: (firstAt ?? lastAt) - headAt,
          lastByteMs: lastAt - headAt,
        }),
      );
    });
    request.setTimeout(slow.delayMs + 10_000, () => request.destroy(new Error(`no end within ${slow.delayMs + 10_000} ms`)));
    request.on('error', reject);
    request.end(JSON.stringify(entitlementRequest({ contentID: contentIdOf(slow) })));
  });
}

test('slow: the last byte arrives when the delay is over and the first within one chunk interval, 10 B..64 KiB, 100 ms..30 s', async () => {
  const arrivals = await Promise.all(CASES.map(receive));
  const problems: string[] = [];
  CASES.forEach((slow, index) => {
    const arrival = arrivals[index]!;
    const label = `${slow.bodyBytes} B over ${slow.delayMs} ms`;
    if (arrival.status !== 200) problems.push(`${label}: status ${arrival.status}`);
    if (!arrival.body.equals(Buffer.from(bodyOf(slow)))) problems.push(`${label}: body of ${arrival.body.length} bytes is not the scripted one`);
    const tolerance = Math.max(slow.delayMs * 0.05, 50);
    if (Math.abs(arrival.lastByteMs - slow.delayMs) > tolerance)
      problems.push(`${label}: last byte after ${arrival.lastByteMs.toFixed(0)} ms (allowed ${slow.delayMs} ± ${tolerance.toFixed(0)})`);
    const interval = chunkIntervalMs(slow);
    if (arrival.firstByteMs > interval + Math.max(interval * 0.05, 50))
      problems.push(`${label}: first byte after ${arrival.firstByteMs.toFixed(0)} ms (one chunk interval is ${interval.toFixed(0)} ms)`);
  });
  assert.equal(problems, []);
});

test.run();
