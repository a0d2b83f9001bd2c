/**
 * Prometheus metrics for GET /metrics. One registry per mock, so several mocks can share a process (tests).
 *
 * The per-request figures (requests by label set, response time) are counted as plain numbers on
 * the request path and handed to prom-client when /metrics is scraped: prom-client's inc() and
 * observe() build a label hash string (and observe a closure) on every call, which was ~1 µs of a
 * ~30 µs request under keep-alive load (bench/README.md).
 */
import client from 'prom-client';
import type { JournalEntry, ListenerName } from '../journal/entry.js';
import type { TlsFailure } from './tls-failures.js';
import type { Journal } from '../journal/journal.js';
import type { KeyStats } from '../scenario/engine.js';

/** The per-key structures of one rule set, for the state gauges: the active scenario (session "") or a session (scenario ""). */
export interface RuleSetKeyStats {
  scenario: string;
  session: string;
  stats: KeyStats;
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LATENCY_METRIC = 'entitlement_mock_response_duration_seconds';

/** Requests counted by listener → scenario → rule → status: four Map lookups, nothing allocated once a label set is known. */
class RequestTally {
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
class LatencyHistogram {
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

export class MockMetrics {
  readonly registry = new client.Registry();
  private readonly requestTally = new RequestTally();
  private readonly latency = new LatencyHistogram();
  private readonly handshakeFailures: client.Counter<'reason' | 'listener'>;
  private readonly reloads: client.Counter<'outcome'>;
  private keyStats: () => RuleSetKeyStats[] = () => [];

  constructor(journal: Journal) {
    const registers = [this.registry];
    const requestTally = this.requestTally;
    new client.Counter({
      name: 'entitlement_mock_requests_total',
      help: 'HTTP requests answered, by scenario, rule (none when no rule matched), status (fault name when no response) and listener',
      labelNames: ['scenario', 'rule', 'status', 'listener'],
      registers,
      collect() {
        this.reset();
        for (const [labels, count] of requestTally.entries()) this.inc(labels, count);
      },
    });
    this.handshakeFailures = new client.Counter({
      name: 'entitlement_mock_tls_handshake_failures_total',
      help: 'Connections refused before a request reached the mock (TLS handshakes, the connection limit, requests the HTTP parser refused), by reason and listener',
      labelNames: ['reason', 'listener'],
      registers,
    });
    this.registry.registerMetric(this.latency as unknown as client.Metric);
    this.reloads = new client.Counter({
      name: 'entitlement_mock_scenario_reloads_total',
      help: 'Scenario reloads, by outcome (ok or error)',
      labelNames: ['outcome'],
      registers,
    });
    new client.Gauge({
      name: 'entitlement_mock_journal_entries',
      help: 'Requests currently kept in the journal',
      registers,
      collect() {
        this.set(journal.length);
      },
    });
    // The bounded per-key structures of the active scenario and of each session, read at each scrape.
    const keyStats = () => this.keyStats();
    const keyGauge = (name: string, help: string, labelNames: string[], samples: (set: RuleSetKeyStats) => [Record<string, string>, number][]) =>
      new client.Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const set of keyStats()) for (const [labels, value] of samples(set)) this.set(labels, value);
        },
      });
    const usesState = ({ stats }: RuleSetKeyStats) => stats.stateKeys > 0 || stats.stateKeysForgotten > 0;
    keyGauge(
      'entitlement_mock_state_keys',
      'Keys holding a state (match: {state}, setState), per scenario and session; at most 100,000, past which the key set longest ago is forgotten',
      ['scenario', 'session'],
      (set) => (usesState(set) ? [[{ scenario: set.scenario, session: set.session }, set.stats.stateKeys]] : []),
    );
    keyGauge(
      'entitlement_mock_state_keys_forgotten',
      'Keys whose state was forgotten at the cap (oldest first) since the scenario was loaded or reset',
      ['scenario', 'session'],
      (set) => (usesState(set) ? [[{ scenario: set.scenario, session: set.session }, set.stats.stateKeysForgotten]] : []),
    );
    keyGauge(
      'entitlement_mock_per_key_counters',
      'Key values counted by a perKey rule; at most 100,000 per rule, past which the key counted longest ago is forgotten',
      ['scenario', 'session', 'rule'],
      ({ scenario, session, stats }) => stats.perKeyRules.map(({ rule, keys }) => [{ scenario, session, rule }, keys]),
    );
    keyGauge(
      'entitlement_mock_per_key_counters_forgotten',
      'Key values a perKey rule forgot at the cap (oldest first) since the scenario was loaded or reset',
      ['scenario', 'session', 'rule'],
      ({ scenario, session, stats }) => stats.perKeyRules.map(({ rule, forgotten }) => [{ scenario, session, rule }, forgotten]),
    );
    new client.Gauge({
      name: 'entitlement_mock_journal_dropped',
      help: 'Requests dropped from the journal (oldest first) since the last reset',
      registers,
      collect() {
        this.set(journal.dropped);
      },
    });
  }

  /** Where the state gauges read from (the running mock's scenarios), read at each scrape. */
  watchKeyStats(source: () => RuleSetKeyStats[]): void {
    this.keyStats = source;
  }

  /** Called once per exchange when it ends. */
  observeExchange(entry: JournalEntry): void {
    const response = entry.response;
    const status = response.status === null ? (response.fault ?? 'none') : statusText(response.status);
    this.requestTally.add(entry.listener, entry.scenario ?? '', entry.rule ?? '', status);
    if (entry.durationMs !== null) this.latency.observe(entry.listener, entry.durationMs / 1000);
  }

  observeTlsFailure(failure: TlsFailure): void {
    this.handshakeFailures.inc({ reason: failure.reason, listener: failure.listener });
  }

  observeReload(ok: boolean): void {
    this.reloads.inc({ outcome: ok ? 'ok' : 'error' });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
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
