/** Prometheus metrics for GET /metrics. One registry per mock, so several mocks can share a process (tests). */
import client from 'prom-client';
import type { JournalEntry } from '../journal/entry.js';
import type { TlsFailure } from './tls-failures.js';
import type { Journal } from '../journal/journal.js';

export class MockMetrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<'scenario' | 'rule' | 'status' | 'listener'>;
  private readonly handshakeFailures: client.Counter<'reason' | 'listener'>;
  private readonly latency: client.Histogram<'listener'>;
  private readonly reloads: client.Counter<'outcome'>;

  constructor(journal: Journal) {
    const registers = [this.registry];
    this.requests = new client.Counter({
      name: 'entitlement_mock_requests_total',
      help: 'HTTP requests answered, by scenario, rule (none when no rule matched), status (fault name when no response) and listener',
      labelNames: ['scenario', 'rule', 'status', 'listener'],
      registers,
    });
    this.handshakeFailures = new client.Counter({
      name: 'entitlement_mock_tls_handshake_failures_total',
      help: 'Connections refused before a request reached the mock (TLS handshakes, the connection limit, requests the HTTP parser refused), by reason and listener',
      labelNames: ['reason', 'listener'],
      registers,
    });
    this.latency = new client.Histogram({
      name: 'entitlement_mock_response_duration_seconds',
      help: 'Time from request start to the end of the response (delays included)',
      labelNames: ['listener'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
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
    new client.Gauge({
      name: 'entitlement_mock_journal_dropped',
      help: 'Requests dropped from the journal (oldest first) since the last reset',
      registers,
      collect() {
        this.set(journal.dropped);
      },
    });
  }

  /** Called once per exchange when it ends. */
  observeExchange(entry: JournalEntry): void {
    const status = entry.response.status === null ? (entry.response.fault ?? 'none') : String(entry.response.status);
    this.requests.inc({ scenario: entry.scenario ?? '', rule: entry.rule ?? '', status, listener: entry.listener });
    if (entry.durationMs !== null) this.latency.observe({ listener: entry.listener }, entry.durationMs / 1000);
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
