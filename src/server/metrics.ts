/**
 * Prometheus metrics for GET /metrics. One registry per mock, so several mocks can share a process (tests).
 *
 * The per-request figures (requests by label set, response time) are counted as plain numbers on
 * the request path and handed to prom-client when /metrics is scraped: prom-client's inc() and
 * observe() build a label hash string (and observe a closure) on every call, which was ~1 µs of a
 * ~30 µs request under keep-alive load (bench/README.md). prom-client itself is loaded at the first
 * scrape (prometheus-registry.ts): only the admin API needs it, and it is ~10% of a start's modules.
 */
import type { JournalEntry, ListenerName } from '../journal/entry.js';
import type { TlsFailure } from '../journal/tls-failures.js';
import type { Journal } from '../journal/journal.js';
import type { KeyStats } from '../scenario/runtime/engine.js';

/** The per-key structures of one rule set, for the state gauges: the active scenario (session "") or a session (scenario ""). */
export interface RuleSetKeyStats {
  scenario: string;
  session: string;
  stats: KeyStats;
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LATENCY_METRIC = 'entitlement_mock_response_duration_seconds';

/** Requests counted by listener → scenario → rule → status: four Map lookups, nothing allocated once a label set is known. */
export class RequestTally {
  private readonly counts = new Map<string, Map<string, Map<string, Map<string, number>>>>();

  add(listener: string, scenario: string, rule: string, status: string): void {
    const byScenario = this.counts.get(listener) ?? setNew(this.counts, listener);
    const byRule = byScenario.get(scenario) ?? setNew(byScenario, scenario);
    const byStatus = byRule.get(rule) ?? setNew(byRule, rule);
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  *entries(): Generator<[{ listener: string; scenario: string; rule: string; status: string }, number]> {
    for (const [listener, byScenario] of this.counts)
      for (const [scenario, byRule] of byScenario)
        for (const [rule, byStatus] of byRule)
          for (const [status, count] of byStatus) yield [{ listener, scenario, rule, status }, count];
  }
}

function setNew<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  const fresh = new Map<string, V>();
  map.set(key, fresh);
  return fresh;
}

/** One listener's response times: counts per bucket (not cumulative), their sum and count. */
interface LatencyTally {
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * The response-time histogram, in the shape prom-client's registry renders (get() → name, help,
 * type, values): prom-client's own Histogram has no way to be filled from counts kept elsewhere.
 */
export class LatencyHistogram {
  readonly name = LATENCY_METRIC;
  readonly help = 'Time from request start to the end of the response (delays included)';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly byListener = new Map<ListenerName, LatencyTally>();

  observe(listener: ListenerName, seconds: number): void {
    let tally = this.byListener.get(listener);
    if (tally === undefined) {
      tally = { buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
      this.byListener.set(listener, tally);
    }
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]!) bucket++;
    tally.buckets[bucket]! += 1;
    tally.sum += seconds;
    tally.count += 1;
  }

  get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const [listener, tally] of this.byListener) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, index) => {
        cumulative += tally.buckets[index]!;
        values.push({ metricName: `${LATENCY_METRIC}_bucket`, labels: { le, listener }, value: cumulative });
      });
      values.push({ metricName: `${LATENCY_METRIC}_bucket`, labels: { le: '+Inf', listener }, value: tally.count });
      values.push({ metricName: `${LATENCY_METRIC}_sum`, labels: { listener }, value: tally.sum });
      values.push({ metricName: `${LATENCY_METRIC}_count`, labels: { listener }, value: tally.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.byListener.clear();
  }
}

/** Prometheus' text format, as GET /metrics answers it. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the metrics are read from at a scrape; the registry module renders it. */
export interface MetricsSource {
  readonly journal: Journal;
  readonly requestTally: RequestTally;
  readonly latency: LatencyHistogram;
  /** Refused connections counted by listener, then reason. */
  readonly handshakeFailures: Map<string, Map<string, number>>;
  /** Scenario reloads by outcome. */
  readonly reloads: { ok: number; error: number };
  keyStats(): RuleSetKeyStats[];
}

export class MockMetrics implements MetricsSource {
  readonly requestTally = new RequestTally();
  readonly latency = new LatencyHistogram();
  readonly handshakeFailures = new Map<string, Map<string, number>>();
  readonly reloads = { ok: 0, error: 0 };
  private keyStatsSource: () => RuleSetKeyStats[] = () => [];
  /** prom-client's registry over these counts, made at the first scrape. */
  private registry: Promise<{ metrics(): Promise<string>; getMetricsAsJSON(): Promise<unknown[]> }> | null = null;

  constructor(readonly journal: Journal) {}

  /** Where the state gauges read from (the running mock's scenarios), read at each scrape. */
  watchKeyStats(source: () => RuleSetKeyStats[]): void {
    this.keyStatsSource = source;
  }

  keyStats(): RuleSetKeyStats[] {
    return this.keyStatsSource();
  }

  /** Called once per exchange when it ends. */
  observeExchange(entry: JournalEntry): void {
    const response = entry.response;
    const status = response.status === null ? (response.fault ?? 'none') : statusText(response.status);
    this.requestTally.add(entry.listener, entry.scenario ?? '', entry.rule ?? '', status);
    if (entry.durationMs !== null) this.latency.observe(entry.listener, entry.durationMs / 1000);
  }

  observeTlsFailure(failure: TlsFailure): void {
    const byReason = this.handshakeFailures.get(failure.listener) ?? setNew(this.handshakeFailures, failure.listener);
    byReason.set(failure.reason, (byReason.get(failure.reason) ?? 0) + 1);
  }

  observeReload(ok: boolean): void {
    if (ok) this.reloads.ok++;
    else this.reloads.error++;
  }

  async render(): Promise<string> {
    return (await this.prometheus()).metrics();
  }

  /** The metrics as prom-client's JSON (what a --workers primary aggregates). */
  async renderJson(): Promise<unknown[]> {
    return (await this.prometheus()).getMetricsAsJSON();
  }

  private prometheus() {
    this.registry ??= import('./prometheus-registry.js').then(({ prometheusRegistry }) => prometheusRegistry(this));
    return this.registry;
  }

  get contentType(): string {
    return PROMETHEUS_CONTENT_TYPE;
  }
}

/** HTTP statuses as label values, made once each. */
const STATUS_TEXTS = new Map<number, string>();
function statusText(status: number): string {
  let text = STATUS_TEXTS.get(status);
  if (text === undefined) {
    text = String(status);
    STATUS_TEXTS.set(status, text);
  }
  return text;
}
