/** GET /metrics: Prometheus text that a scraper can parse, with counters that move as the mock works. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entitlementRequest, eventually, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';
import { MockMetrics } from '../src/server/metrics.js';
import { Journal } from '../src/journal/journal.js';
import type { ListenerName } from '../src/journal/entry.js';
import { journalEntry } from './helpers/journal-entry.js';

// ------------------------------------------------------------------ a tiny Prometheus text parser

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Record<string, string>;
  help: Record<string, string>;
  samples: Sample[];
}

/** Parses the text exposition format (0.0.4); throws on any line it does not understand. */
function parsePrometheus(text: string): Exposition {
  const exposition: Exposition = { types: {}, help: {}, samples: [] };
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') exposition.types[comment[2]!] = comment[3]!;
      else exposition.help[comment[2]!] = comment[3]!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!sample) throw new Error(`metrics line ${index + 1} is not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = sample[2] ?? '';
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let consumed = 0;
    for (let match = labelPattern.exec(labelText); match; match = labelPattern.exec(labelText)) {
      labels[match[1]!] = match[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed = labelPattern.lastIndex;
    }
    if (consumed !== labelText.length) throw new Error(`metrics line ${index + 1}: bad labels: ${line}`);
    const value = sample[3] === '+Inf' ? Infinity : sample[3] === '-Inf' ? -Infinity : Number(sample[3]);
    if (Number.isNaN(value) && sample[3] !== 'NaN') throw new Error(`metrics line ${index + 1}: bad value: ${line}`);
    exposition.samples.push({ name: sample[1]!, labels, value });
  }
  return exposition;
}

/** Sum of the samples named `name` whose labels include `labels`. */
function sum(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return exposition.samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);
}

// ------------------------------------------------------------------ the tests

let mock: TestMock;

async function scrape(target: TestMock = mock): Promise<Exposition> {
  const reply = await target.admin('GET', '/metrics');
  assert.is(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(reply.text);
}

async function useScenario(yaml: string): Promise<void> {
  const reply = await mock.admin('POST', '/admin/scenarios', yaml, { 'content-type': 'application/yaml' });
  assert.is(reply.status, 201, reply.text);
}

test.before(async () => {
  mock = await startTestMock();
});
test.before.each(async () => {
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'default' });
});
test.after(async () => {
  await mock.close();
});

test('counts kept on the request path render as Prometheus counters and a cumulative histogram (le is inclusive)', async () => {
  const metrics = new MockMetrics(new Journal(10));
  const ended = (durationMs: number, status: number | null, fault: string | null, listener: ListenerName = 'main') =>
    metrics.observeExchange(journalEntry({ listener, scenario: 's', rule: 'r', response: { status, body: null, fault, delayMs: 0 }, durationMs }));
  ended(0.5, 200, null);
  ended(1, 200, null); // exactly on the 1 ms bound: counted in le="0.001"
  ended(7, 200, null);
  ended(40_000, null, 'hang');
  ended(3, 200, null, 'expired');
  const exposition = parsePrometheus(await metrics.render());
  assert.is(sum(exposition, 'entitlement_mock_requests_total', { listener: 'main', scenario: 's', rule: 'r', status: '200' }), 3);
  assert.is(sum(exposition, 'entitlement_mock_requests_total', { listener: 'main', status: 'hang' }), 1);
  assert.is(sum(exposition, 'entitlement_mock_requests_total', { listener: 'expired' }), 1);
  const bucket = (le: string) => sum(exposition, 'entitlement_mock_response_duration_seconds_bucket', { listener: 'main', le });
  assert.equal([bucket('0.001'), bucket('0.005'), bucket('0.01'), bucket('30'), bucket('+Inf')], [2, 2, 3, 3, 4]);
  assert.is(sum(exposition, 'entitlement_mock_response_duration_seconds_count', { listener: 'main' }), 4);
  assert.ok(Math.abs(sum(exposition, 'entitlement_mock_response_duration_seconds_sum', { listener: 'main' }) - 40.0085) < 1e-9);
  assert.is(sum(exposition, 'entitlement_mock_response_duration_seconds_count', { listener: 'expired' }), 1);
  // A second scrape shows the same totals (the counter is refilled, not added to).
  assert.is(sum(parsePrometheus(await metrics.render()), 'entitlement_mock_requests_total', { listener: 'main' }), 4);
});

test('every metric the issue asks for is exposed, typed and described', async () => {
  const exposition = await scrape();
  const expected: Record<string, string> = {
    entitlement_mock_requests_total: 'counter',
    entitlement_mock_tls_handshake_failures_total: 'counter',
    entitlement_mock_response_duration_seconds: 'histogram',
    entitlement_mock_journal_entries: 'gauge',
    entitlement_mock_journal_dropped: 'gauge',
    entitlement_mock_scenario_reloads_total: 'counter',
  };
  for (const [name, type] of Object.entries(expected)) {
    assert.is(exposition.types[name], type, name);
    assert.ok(exposition.help[name], `${name} has HELP`);
  }
});

test('requests are counted by scenario, rule, status and listener; latency observed', async () => {
  const before = await scrape();
  for (let count = 0; count < 3; count++) assert.is((await mock.entitle(entitlementRequest())).status, 200);
  const entry = (await mock.admin('GET', '/admin/requests?limit=1')).json.requests[0];
  const labels = { scenario: 'default', rule: entry.rule as string, status: '200', listener: 'main' };
  const after = await scrape();
  assert.is(sum(after, 'entitlement_mock_requests_total', labels) - sum(before, 'entitlement_mock_requests_total', labels), 3);
  const histogramCount = (exposition: Exposition) => sum(exposition, 'entitlement_mock_response_duration_seconds_count', { listener: 'main' });
  assert.is(histogramCount(after) - histogramCount(before), 3);
  assert.ok(sum(after, 'entitlement_mock_response_duration_seconds_sum', { listener: 'main' }) > 0);

  // Buckets are cumulative and +Inf holds every observation.
  const buckets = after.samples
    .filter((sample) => sample.name === 'entitlement_mock_response_duration_seconds_bucket' && sample.labels.listener === 'main')
    .sort((a, b) => Number(a.labels.le === '+Inf' ? Infinity : a.labels.le) - Number(b.labels.le === '+Inf' ? Infinity : b.labels.le));
  assert.ok(buckets.length > 3);
  for (let index = 1; index < buckets.length; index++) assert.ok(buckets[index]!.value >= buckets[index - 1]!.value, 'cumulative buckets');
  assert.is(buckets.at(-1)!.labels.le, '+Inf');
  assert.is(buckets.at(-1)!.value, histogramCount(after));
});

test('invalid, unmatched and faulted requests are counted by their status or fault', async () => {
  const before = await scrape();
  assert.is((await mock.entitle('{"messageID":')).status, 400);
  await useScenario('name: metrics-narrow\nrules:\n  - name: only-x\n    match: { contentID: x }\n    respond: { isAllowed: true }\n');
  assert.is((await mock.entitle(entitlementRequest())).status, 404);
  await useScenario('name: metrics-reset\nrules:\n  - name: cut\n    respond: { fault: reset }\n');
  await mock.entitle(entitlementRequest()).then(
    () => assert.unreachable('a reset fault sends no response'),
    () => undefined,
  );
  const after = await eventually(async () => {
    const exposition = await scrape();
    return sum(exposition, 'entitlement_mock_requests_total', { status: 'reset' }) > sum(before, 'entitlement_mock_requests_total', { status: 'reset' })
      ? exposition
      : null;
  });
  const moved = (labels: Record<string, string>) =>
    sum(after, 'entitlement_mock_requests_total', labels) - sum(before, 'entitlement_mock_requests_total', labels);
  assert.is(moved({ status: '400', listener: 'main' }), 1);
  assert.is(moved({ scenario: 'metrics-narrow', status: '404', listener: 'main' }), 1);
  assert.is(moved({ scenario: 'metrics-reset', rule: 'cut', status: 'reset' }), 1);
});

test('a refused handshake is counted by reason', async () => {
  const before = await scrape();
  await mock.entitle(entitlementRequest(), { client: null }).then(
    () => assert.unreachable('no client certificate: refused'),
    () => undefined,
  );
  await mock.entitle(entitlementRequest(), { client: mock.pki.expiredClient }).then(
    () => assert.unreachable('expired client certificate: refused'),
    () => undefined,
  );
  const failures = (exposition: Exposition, labels: Record<string, string> = {}) =>
    sum(exposition, 'entitlement_mock_tls_handshake_failures_total', { listener: 'main', ...labels });
  const after = await eventually(async () => {
    const exposition = await scrape();
    return failures(exposition) - failures(before) >= 2 ? exposition : null;
  });
  assert.is(failures(after) - failures(before), 2);
  const reasons = after.samples
    .filter((sample) => sample.name === 'entitlement_mock_tls_handshake_failures_total')
    .map((sample) => sample.labels.reason);
  assert.ok(reasons.some((reason) => /no certificate/i.test(reason ?? '')), `reasons: ${reasons}`);
  assert.ok(reasons.some((reason) => /expired/i.test(reason ?? '')), `reasons: ${reasons}`);
  // The admin view agrees with the counter.
  const log = (await mock.admin('GET', '/admin/tls-failures')).json;
  assert.ok(log.total >= 2);
});

test('journal size and drops follow the journal; reset clears them', async () => {
  const small = await startTestMock({ journalSize: 2 });
  try {
    for (let count = 0; count < 5; count++) await small.entitle(entitlementRequest());
    let exposition = await scrape(small);
    assert.is(sum(exposition, 'entitlement_mock_journal_entries'), 2);
    assert.is(sum(exposition, 'entitlement_mock_journal_dropped'), 3);
    assert.is((await small.admin('POST', '/admin/reset')).status < 300, true);
    exposition = await scrape(small);
    assert.is(sum(exposition, 'entitlement_mock_journal_entries'), 0);
    assert.is(sum(exposition, 'entitlement_mock_journal_dropped'), 0);
  } finally {
    await small.close();
  }
});

test('scenario reloads are counted, and reloads that found errors separately', async () => {
  const folder = await scenarioFolder({ 'default.yaml': 'rules:\n  - name: allow\n    respond: { isAllowed: true }\n' });
  const own = await startTestMock({ scenarios: folder });
  try {
    const reloads = (exposition: Exposition, outcome: string) => sum(exposition, 'entitlement_mock_scenario_reloads_total', { outcome });
    const before = await scrape(own);
    assert.ok((await own.admin('POST', '/admin/reset')).status < 300);
    let after = await scrape(own);
    assert.is(reloads(after, 'ok') - reloads(before, 'ok'), 1);
    assert.is(reloads(after, 'error') - reloads(before, 'error'), 0);

    writeFileSync(join(folder, 'broken.yaml'), 'rules: [ { respond: { isAllowed: true } ');
    assert.ok((await own.admin('POST', '/admin/reset')).status < 300);
    after = await scrape(own);
    assert.is(reloads(after, 'error') - reloads(before, 'error'), 1);
    // The good scenario keeps serving.
    assert.is((await own.entitle(entitlementRequest())).status, 200);
  } finally {
    await own.close();
  }
});

test('the parser rejects what is not Prometheus text (so the tests above mean something)', () => {
  assert.throws(() => parsePrometheus('{"status":"ok"}'));
  assert.throws(() => parsePrometheus('metric{label=unquoted} 1'));
  assert.equal(parsePrometheus('# TYPE a counter\na{b="c\\"d"} 2\n').samples, [{ name: 'a', labels: { b: 'c"d' }, value: 2 }]);
});

test.run();
