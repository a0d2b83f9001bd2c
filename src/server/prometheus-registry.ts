/**
 * prom-client's registry over the counts MockMetrics keeps: every metric reads its values from
 * the source when /metrics is scraped. Loaded at the first scrape, never on the way to serving.
 */
import client from 'prom-client';
import type { MetricsSource, RuleSetKeyStats } from './metrics.js';

export function prometheusRegistry(source: MetricsSource): client.Registry {
  const registry = new client.Registry();
  const registers = [registry];
  const { journal, requestTally, handshakeFailures, reloads } = source;
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
  new client.Counter({
    name: 'entitlement_mock_tls_handshake_failures_total',
    help: 'Connections refused before a request reached the mock (TLS handshakes, the connection limit, requests the HTTP parser refused), by reason and listener',
    labelNames: ['reason', 'listener'],
    registers,
    collect() {
      this.reset();
      for (const [listener, byReason] of handshakeFailures) for (const [reason, count] of byReason) this.inc({ reason, listener }, count);
    },
  });
  registry.registerMetric(source.latency as unknown as client.Metric);
  new client.Counter({
    name: 'entitlement_mock_scenario_reloads_total',
    help: 'Scenario reloads, by outcome (ok or error)',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      if (reloads.ok > 0) this.inc({ outcome: 'ok' }, reloads.ok);
      if (reloads.error > 0) this.inc({ outcome: 'error' }, reloads.error);
    },
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
  const keyStats = () => source.keyStats();
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
  return registry;
}
