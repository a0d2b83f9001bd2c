// @ts-check
/** The refused handshakes and the report card: panels read from the admin API, refreshed when something changes. */
import { AdminError, adminJson } from './admin-client.js';
import { byId, clockTime, h, replaceChildren } from './dom.js';

/**
 * Call `task` at most once per `intervalMs`, the last call winning (refreshes after bursts of events).
 * @param {() => Promise<void>} task
 * @param {number} intervalMs
 */
export function throttled(task, intervalMs) {
  let waiting = false;
  let again = false;
  const run = async () => {
    waiting = true;
    await task();
    setTimeout(() => {
      waiting = false;
      if (again) {
        again = false;
        void run();
      }
    }, intervalMs);
  };
  return () => {
    if (waiting) again = true;
    else void run();
  };
}

/**
 * @param {unknown} error
 */
function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

/** GET /admin/tls-failures: connections refused before a request, counted by reason, and the latest ones. */
export class TlsFailuresPanel {
  counts = byId('tls-counts', HTMLElement);
  recent = byId('tls-recent', HTMLElement);
  total = byId('tls-total', HTMLElement);
  refresh = throttled(() => this.load(), 1000);

  async load() {
    try {
      /** @type {import('./api-types.js').TlsFailureListing} */
      const log = await adminJson('/admin/tls-failures');
      this.total.textContent = log.total === 0 ? '' : String(log.total);
      const byCount = Object.entries(log.counts).sort((a, b) => b[1] - a[1]);
      replaceChildren(
        this.counts,
        byCount.length === 0
          ? h('p', { class: 'muted' }, 'None since the last reset.')
          : h('table', { class: 'compact' }, h('tbody', {}, byCount.map(([reason, count]) => h('tr', {}, h('td', {}, reason), h('td', { class: 'num' }, String(count)))))),
      );
      const latest = log.failures.slice(-8).reverse();
      replaceChildren(
        this.recent,
        latest.length === 0
          ? null
          : [
              h('h3', {}, 'Latest'),
              h(
                'ul',
                { class: 'tls-latest' },
                latest.map((failure) =>
                  h('li', {}, h('span', { class: 'time' }, clockTime(failure.time)), ' ', h('span', { class: 'listener trouble-if' }, failure.listener), ' ', h('span', { class: 'mono' }, failure.remote), h('div', { class: 'small' }, failure.reason, failure.code ? h('span', { class: 'muted' }, ` (${failure.code})`) : null)),
                ),
              ),
            ],
      );
    } catch (error) {
      replaceChildren(this.counts, h('p', { class: 'bad' }, `Could not read the refused handshakes: ${describe(error)}`));
    }
  }
}

/** @typedef {import('./api-types.js').Finding} Finding */
/** @typedef {import('./api-types.js').TrafficProfile} TrafficProfile */

/**
 * The facts of the report: TLS, resumption, concurrency, and how the license server reacted to each kind of failure.
 * @param {TrafficProfile} facts
 */
function profile(facts) {
  const versions = Object.entries(facts.tlsVersions ?? {}).map(([version, count]) => `${version} × ${count}`).join(', ');
  return h(
    'div',
    { class: 'profile' },
    h('h3', {}, 'Its traffic'),
    h(
      'dl',
      { class: 'key-values compact-kv' },
      h('dt', {}, 'Connections'),
      h('dd', {}, String(facts.connections)),
      h('dt', {}, 'TLS versions'),
      h('dd', {}, versions || '—'),
      h('dt', {}, 'Resumed'),
      h('dd', {}, `${facts.resumedConnections} of ${facts.connections} connections`),
      h('dt', {}, 'Peak concurrency'),
      h('dd', {}, String(facts.peakConcurrency)),
    ),
    (facts.faultReactions ?? []).length === 0
      ? null
      : [
          h('h3', {}, 'How it reacted to failures'),
          h(
            'table',
            { class: 'compact reactions' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Got'), h('th', { class: 'num' }, 'times'), h('th', { class: 'num' }, 'retried'), h('th', { class: 'num' }, 'max in a row'), h('th', { class: 'num' }, 'gave up after'))),
            h(
              'tbody',
              {},
              facts.faultReactions.map((reaction) =>
                h(
                  'tr',
                  {},
                  h('td', {}, reaction.failure),
                  h('td', { class: 'num' }, String(reaction.count)),
                  h('td', { class: 'num' }, String(reaction.retried)),
                  h('td', { class: 'num' }, String(reaction.maxRetries)),
                  h('td', { class: 'num' }, reaction.gaveUpAfterMs ? `${Math.round(reaction.gaveUpAfterMs.median)} ms` : '—'),
                ),
              ),
            ),
          ),
        ],
  );
}

/** Where the report panel keeps the finding ids accepted in this browser. */
const ACCEPT_KEY = 'entitlement-mock.report.accept';

/**
 * GET /admin/report: findings about the license server under test. Rendered generically
 * (severity, title, count, advice, example entries, id), so new kinds of finding need no change here;
 * accepted ones (the ids in the Accepted box) greyed and marked.
 */
export class ReportPanel {
  body = byId('report-body', HTMLElement);
  summary = byId('report-summary', HTMLElement);
  /** Finding ids the team accepts (GET /admin/report?accept=…), kept in this browser. */
  accept = byId('report-accept', HTMLInputElement);
  refresh = throttled(() => this.load(), 3000);

  /** @param {(id: number) => void} openEntry */
  constructor(openEntry) {
    this.openEntry = openEntry;
    byId('report-refresh', HTMLButtonElement).addEventListener('click', () => void this.load());
    this.accept.value = localStorage.getItem(ACCEPT_KEY) ?? '';
    this.accept.addEventListener('change', () => {
      localStorage.setItem(ACCEPT_KEY, this.accept.value.trim());
      void this.load();
    });
  }

  async load() {
    try {
      const accept = this.accept.value.split(',').map((id) => id.trim()).filter((id) => id !== '');
      /** @type {import('./api-types.js').Report} */
      const report = await adminJson(accept.length === 0 ? '/admin/report' : `/admin/report?accept=${encodeURIComponent(accept.join(','))}`);
      const findings = report.findings ?? [];
      const accepted = findings.filter((finding) => finding.accepted).length;
      const covered = report.requests === undefined ? '' : `${report.requests} requests, ${report.refusedHandshakes ?? 0} refused handshakes`;
      this.summary.textContent = accepted === 0 ? covered : `${covered}; ${accepted} accepted`;
      replaceChildren(
        this.body,
        findings.length === 0
          ? h('p', { class: 'good' }, 'No findings: nothing the license server did looks wrong so far.')
          : h('ul', { class: 'findings' }, findings.map((finding) => this.finding(finding))),
        report.profile ? profile(report.profile) : null,
      );
    } catch (error) {
      this.summary.textContent = '';
      replaceChildren(
        this.body,
        error instanceof AdminError && error.status === 404
          ? h('p', { class: 'muted' }, 'Not available: this mock has no report card (GET /admin/report).')
          : h('p', { class: 'bad' }, `Could not read the report: ${describe(error)}`),
      );
    }
  }

  /** @param {Finding} finding */
  finding(finding) {
    const severity = ['error', 'warn', 'info'].includes(finding.severity) ? finding.severity : 'info';
    return h(
      'li',
      { class: `finding ${severity}${finding.accepted ? ' accepted' : ''}` },
      h('div', { class: 'finding-head' }, h('span', { class: `severity ${severity}` }, finding.severity), h('span', { class: 'finding-title' }, finding.title), h('span', { class: 'count' }, `×${finding.count}`)),
      h('p', { class: 'advice' }, finding.advice),
      h('p', { class: 'small' }, h('code', { class: 'finding-id' }, finding.id), finding.accepted ? h('span', { class: 'accepted-mark' }, ' ✓ accepted') : null),
      finding.examples.length === 0
        ? null
        : h('p', { class: 'examples small' }, 'e.g. ', finding.examples.map((id) => h('button', { type: 'button', class: 'link mono', onclick: () => this.openEntry(id) }, `#${id}`))),
    );
  }
}
