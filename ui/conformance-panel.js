// @ts-check
/**
 * GET /admin/conformance/runs[/ID]: the live conformance runs and, for the one chosen (the newest
 * by default), a line per case with its verdict and, unless it passed, why. Polled while a run
 * exists: outcomes are posted to the admin API, so the live feed does not carry them.
 */
import { adminJson } from './admin-client.js';
import { byId, h, replaceChildren } from './dom.js';
import { throttled } from './side-panels.js';

/** @typedef {import('./api-types.js').ConformanceRunSummary} RunSummary */
/** @typedef {import('./api-types.js').ConformanceRunReport} RunReport */

/** How often the chosen run is read again while one exists. */
export const POLL_MS = 2000;

export class ConformancePanel {
  panel = byId('conformance-panel', HTMLElement);
  select = byId('conformance-select', HTMLSelectElement);
  summary = byId('conformance-summary', HTMLElement);
  cases = byId('conformance-cases', HTMLElement);
  /** @type {string | null} the run the user chose; null follows the newest */
  chosen = null;
  refresh = throttled(() => this.load(), 500);

  constructor() {
    this.select.addEventListener('change', () => {
      this.chosen = this.select.value || null;
      void this.load();
    });
    setInterval(() => {
      if (!document.hidden) this.refresh();
    }, POLL_MS);
  }

  async load() {
    try {
      /** @type {{runs: RunSummary[]}} */
      const { runs } = await adminJson('/admin/conformance/runs');
      if (runs.length === 0) {
        this.select.hidden = true;
        this.summary.textContent = 'No run. Start one with entitlement-mock conformance start (docs/conformance.md).';
        this.summary.className = 'small muted';
        replaceChildren(this.cases);
        return;
      }
      const newest = /** @type {RunSummary} */ (runs[runs.length - 1]);
      const id = this.chosen !== null && runs.some((run) => run.id === this.chosen) ? this.chosen : newest.id;
      this.fillSelect(runs, id);
      /** @type {RunReport} */
      const report = await adminJson(`/admin/conformance/runs/${encodeURIComponent(id)}`);
      this.show(report);
    } catch (error) {
      this.summary.textContent = `Could not read the conformance runs: ${error instanceof Error ? error.message : String(error)}`;
      this.summary.className = 'small bad';
    }
  }

  /**
   * @param {RunSummary[]} runs
   * @param {string} id
   */
  fillSelect(runs, id) {
    this.select.hidden = runs.length < 2;
    replaceChildren(
      this.select,
      [...runs].reverse().map((run) => h('option', { value: run.id, selected: run.id === id }, `${run.id} (${run.plan}) ${run.verdict}`)),
    );
  }

  /** @param {RunReport} report */
  show(report) {
    const { counts } = report;
    this.summary.textContent = `Run ${report.id} (${report.plan}): ${report.verdict}: ${counts.pass} pass, ${counts.fail} fail, ${counts.inconclusive} inconclusive, ${counts.notRun} not run, of ${counts.total}`;
    this.summary.className = `small ${report.verdict === 'fail' ? 'bad' : report.verdict === 'pass' ? 'good' : ''}`;
    replaceChildren(
      this.cases,
      report.cases.map((testCase) =>
        h(
          'li',
          { class: testCase.verdict, title: `${testCase.checks.basis}: ${testCase.checks.rule}` },
          h('span', { class: `verdict ${testCase.verdict}` }, testCase.verdict),
          h('span', { class: 'mono small' }, testCase.id),
          testCase.verdict === 'pass' ? null : h('p', { class: 'reason' }, testCase.reason),
        ),
      ),
    );
  }
}
