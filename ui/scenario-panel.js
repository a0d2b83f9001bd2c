// @ts-check
/** The active scenario: a switcher, its rules with hit counts, and the files that failed to load. */
import { adminJson, jsonBody } from './admin-client.js';
import { byId, h, replaceChildren } from './dom.js';

/** @typedef {import('./api-types.js').ScenarioListing} ScenarioListing */

export class ScenarioPanel {
  /** @type {ScenarioListing | null} */
  listing = null;
  select = byId('scenario-select', HTMLSelectElement);
  about = byId('scenario-about', HTMLElement);
  rules = byId('scenario-rules', HTMLTableSectionElement);
  errors = byId('scenario-errors', HTMLElement);
  message = byId('scenario-message', HTMLElement);
  ruleNames = byId('rule-names', HTMLDataListElement);
  /** @type {Map<string, HTMLTableCellElement>} */
  hitCells = new Map();

  /**
   * @param {object} options
   * @param {(scenario: string, rule: string) => number} options.hitsOf
   * @param {(rule: string) => void} options.showRule filter the request list by a rule
   */
  constructor({ hitsOf, showRule }) {
    this.hitsOf = hitsOf;
    this.showRule = showRule;
    this.select.addEventListener('change', () => void this.activate(this.select.value));
  }

  async refresh() {
    try {
      this.render(await adminJson('/admin/scenarios'));
    } catch (error) {
      this.message.textContent = `Could not read the scenarios: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** @param {string} name */
  async activate(name) {
    this.message.textContent = '';
    try {
      await adminJson('/admin/scenarios/active', jsonBody('PUT', { name }));
    } catch (error) {
      this.message.textContent = `Could not switch to ${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
    await this.refresh();
  }

  /** Update the hit counts in place (called once per frame at most). */
  renderHits() {
    const active = this.listing?.active;
    if (active === undefined) return;
    for (const [rule, cell] of this.hitCells) cell.textContent = String(this.hitsOf(active, rule));
  }

  /** @param {ScenarioListing} listing */
  render(listing) {
    this.listing = listing;
    this.message.textContent = '';
    replaceChildren(
      this.select,
      listing.scenarios.map((scenario) => h('option', { value: scenario.name, selected: scenario.name === listing.active }, scenario.name)),
    );
    this.select.value = listing.active;
    const active = listing.scenarios.find((scenario) => scenario.name === listing.active);
    replaceChildren(
      this.about,
      active?.description ? h('p', {}, active.description) : null,
      active ? h('p', { class: 'muted mono small' }, active.file) : null,
    );
    replaceChildren(this.ruleNames, (active?.rules ?? []).map((rule) => h('option', { value: rule })));
    this.hitCells.clear();
    const rows = (active?.rules ?? []).map((rule) => this.ruleRow(rule, rule, false));
    rows.push(this.ruleRow('(unmatched)', 'no rule matched', true), this.ruleRow('(invalid)', 'invalid requests', true));
    replaceChildren(this.rules, rows);
    this.renderHits();
    replaceChildren(
      this.errors,
      listing.errors.length === 0
        ? null
        : [
            h('h3', { class: 'bad' }, `Load errors (${listing.errors.length})`),
            h('ul', { class: 'load-errors' }, listing.errors.map((error) => h('li', {}, h('code', {}, `${error.file}:${error.line}:${error.column}`), ' ', error.message))),
          ],
    );
  }

  /**
   * @param {string} key the rule name, or `(unmatched)` / `(invalid)`
   * @param {string} label
   * @param {boolean} pseudo not a rule of the scenario
   */
  ruleRow(key, label, pseudo) {
    const cell = h('td', { class: 'num' }, '0');
    this.hitCells.set(key, cell);
    const name = pseudo
      ? h('span', { class: 'muted' }, label)
      : h('button', { type: 'button', class: 'link', title: 'Show only this rule’s requests', onclick: () => this.showRule(key) }, label);
    return h('tr', {}, h('td', {}, name), cell);
  }
}
