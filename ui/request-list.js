// @ts-check
/**
 * The live request list, newest first. A bounded window: at most ROW_LIMIT rows
 * are in the DOM, and new rows are added in one batch at most every RENDER_INTERVAL_MS
 * (in an animation frame) whatever the rate of requests, so the page stays responsive
 * at hundreds of requests per second: each batch costs one layout of the list.
 */
import { clockTime, formatDuration, h, inNextFrame } from './dom.js';
import { asText, isUnmatched, requestField } from './entry-store.js';

/** @typedef {import('./api-types.js').JournalEntry} JournalEntry */

export const ROW_LIMIT = 500;
/** Nobody reads faster than this; at 500 requests/s a batch is ~50 rows. */
const RENDER_INTERVAL_MS = 100;

/** Why new rows wait: the pointer is on the list, it is scrolled down, or a replay is still arriving. */
/** @typedef {'pointer' | 'scrolled' | 'replay'} HoldReason */

export class RequestList {
  /** @type {Map<number, HTMLElement>} */
  rows = new Map();
  /** @type {JournalEntry[]} arrived since the last frame, oldest first */
  queued = [];
  /** @type {Set<number>} rows to redraw in the next frame */
  changed = new Set();
  /** @type {(entry: JournalEntry) => boolean} */
  accept = () => true;
  /** @type {number | null} */
  selected = null;
  /** @type {Set<HoldReason>} while not empty, new rows wait (so rows do not move under the reader) */
  holds = new Set();
  /** New rows waiting for the holds to end. */
  waiting = 0;
  lastRender = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  renderTimer = null;

  /**
   * @param {HTMLElement} body
   * @param {object} options
   * @param {(id: number) => void} options.open a row was clicked (or Enter pressed on it)
   * @param {(id: number) => JournalEntry | undefined} options.lookup the entry held under an id
   * @param {() => void} options.onRendered told after each frame that changed the rows
   */
  constructor(body, { open, lookup, onRendered }) {
    this.body = body;
    this.lookup = lookup;
    this.onRendered = onRendered;
    const openRow = (/** @type {Event} */ event) => {
      const row = event.target instanceof Element ? event.target.closest('[data-id]') : null;
      if (row instanceof HTMLElement) open(Number(row.dataset.id));
    };
    body.addEventListener('click', openRow);
    body.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') openRow(event);
    });
  }

  get size() {
    return this.rows.size;
  }

  /**
   * A new entry (shown in the next frame if the filter takes it).
   * @param {JournalEntry} entry
   */
  add(entry) {
    if (!this.accept(entry)) return;
    this.queued.push(entry);
    if (this.holds.size > 0) this.waiting++;
    // Only the newest ROW_LIMIT can be shown; when frames are rare (a background tab), drop the rest now.
    if (this.queued.length > 2 * ROW_LIMIT) this.queued.splice(0, this.queued.length - ROW_LIMIT);
    this.renderSoon();
  }

  renderSoon() {
    if (this.renderTimer !== null) return;
    const wait = Math.max(0, this.lastRender + RENDER_INTERVAL_MS - performance.now());
    this.renderTimer = setTimeout(() => {
      this.renderTimer = null;
      inNextFrame(this.render);
    }, wait);
  }

  /**
   * An entry already shown changed (its exchange ended, or it came again in a replay).
   * @param {JournalEntry} entry
   */
  update(entry) {
    if (!this.rows.has(entry.id)) return;
    this.changed.add(entry.id);
    this.renderSoon();
  }

  /**
   * Show only what `accept` takes, starting from `newestFirst` (at most ROW_LIMIT of them).
   * @param {(entry: JournalEntry) => boolean} accept
   * @param {JournalEntry[]} newestFirst
   */
  reset(accept, newestFirst) {
    this.accept = accept;
    this.queued = [];
    this.waiting = 0;
    this.changed.clear();
    this.rows.clear();
    const fragment = document.createDocumentFragment();
    for (const entry of newestFirst.slice(0, ROW_LIMIT)) fragment.append(this.row(entry));
    this.body.replaceChildren(fragment);
    this.onRendered();
  }

  /** True while new rows wait for the reader (not for a replay). */
  get paused() {
    return this.holds.has('pointer') || this.holds.has('scrolled');
  }

  /**
   * @param {HoldReason} reason
   * @param {boolean} on
   */
  hold(reason, on) {
    if (on === this.holds.has(reason)) return;
    if (on) this.holds.add(reason);
    else this.holds.delete(reason);
    if (this.holds.size === 0) inNextFrame(this.render);
  }

  /** @param {number | null} id */
  select(id) {
    if (this.selected !== null) this.rows.get(this.selected)?.classList.remove('selected');
    this.selected = id;
    if (id !== null) this.rows.get(id)?.classList.add('selected');
  }

  render = () => {
    this.lastRender = performance.now();
    if (this.queued.length > 0 && this.holds.size === 0) {
      this.waiting = 0;
      const fragment = document.createDocumentFragment();
      const start = Math.max(0, this.queued.length - ROW_LIMIT);
      for (let index = this.queued.length - 1; index >= start; index--) {
        const entry = this.queued[index];
        if (entry && !this.rows.has(entry.id)) fragment.append(this.row(entry));
      }
      this.queued = [];
      this.body.prepend(fragment);
      while (this.rows.size > ROW_LIMIT) {
        const last = this.body.lastElementChild;
        if (!(last instanceof HTMLElement)) break;
        this.rows.delete(Number(last.dataset.id));
        last.remove();
      }
    }
    for (const id of this.changed) {
      const row = this.rows.get(id);
      const entry = this.lookup(id);
      // In place: the row keeps its identity (selection, focus, a pointer on it).
      if (row && entry) row.replaceChildren(...this.cells(entry));
    }
    this.changed.clear();
    this.onRendered();
  };

  /**
   * @param {JournalEntry} entry
   * @returns {HTMLElement}
   */
  row(entry) {
    const row = h('div', { 'data-id': entry.id, class: rowClass(entry, this.selected), role: 'row', tabindex: 0 }, this.cells(entry));
    this.rows.set(entry.id, row);
    return row;
  }

  /**
   * @param {JournalEntry} entry
   * @returns {HTMLElement[]}
   */
  cells(entry) {
    const requestType = requestField(entry, 'requestType');
    return [
      cell({ class: 'time', title: entry.time }, clockTime(entry.time)),
      cell({}, h('span', { class: entry.listener === 'main' ? 'listener' : 'listener trouble' }, entry.listener)),
      cell({ class: 'mono', title: entry.clientCN }, entry.clientCN ?? '—'),
      cell({ class: 'mono', title: asText(requestField(entry, 'contentID')) }, asText(requestField(entry, 'contentID'))),
      cell({ class: 'num' }, requestType === undefined ? '' : asText(requestType)),
      cell({ class: 'mono', title: asText(requestField(entry, 'customerCookie')) || null }, asText(requestField(entry, 'customerCookie'))),
      ruleCell(entry),
      cell({ class: answerClass(entry) }, answerText(entry)),
      cell({ class: 'num' }, formatDuration(entry.durationMs)),
      cell({ class: 'marks' }, marks(entry)),
    ];
  }
}

/**
 * @param {Record<string, unknown>} props
 * @param {...import('./dom.js').Child | import('./dom.js').Child[]} content
 */
function cell(props, ...content) {
  return h('span', { role: 'cell', ...props }, ...content);
}

/**
 * @param {JournalEntry} entry
 * @param {number | null} selected
 */
function rowClass(entry, selected) {
  const classes = ['row'];
  if (!entry.valid) classes.push('invalid');
  else if (isUnmatched(entry)) classes.push('unmatched');
  if (entry.id === selected) classes.push('selected');
  return classes.join(' ');
}

/** @param {JournalEntry} entry */
function ruleCell(entry) {
  if (!entry.valid) return cell({ class: 'rule muted' }, 'invalid');
  if (entry.upstream) return cell({ class: 'rule muted', title: entry.upstream.url }, entry.upstream.outcome === 'answered' ? 'recorded upstream' : 'upstream failed');
  if (entry.rule === null) return cell({ class: 'rule muted' }, 'no rule');
  return cell(
    { class: 'rule', title: entry.rule },
    entry.rule,
    entry.step === null ? null : h('span', { class: 'step', title: `sequence step ${entry.step} (from 0)` }, ` [${entry.step}]`),
  );
}

/**
 * What was answered, in a few words: `200 allowed`, `403 denied`, `fault reset`, `no answer`.
 * @param {JournalEntry} entry
 */
export function answerText(entry) {
  const { status, fault, body } = entry.response;
  if (fault !== null) return `fault ${fault}`;
  if (status === null) return 'no answer';
  const allowed = body !== null && typeof body === 'object' ? /** @type {Record<string, unknown>} */ (body).isAllowed : undefined;
  return allowed === true ? `${status} allowed` : allowed === false ? `${status} denied` : String(status);
}

/** @param {JournalEntry} entry */
function answerClass(entry) {
  const { status, fault } = entry.response;
  if (fault !== null || status === null) return 'answer bad';
  return status >= 400 ? 'answer warn' : 'answer ok';
}

/** @param {JournalEntry} entry */
function marks(entry) {
  const nearMisses = entry.nearMisses ?? [];
  return [
    entry.problems.length > 0 ? h('span', { class: 'mark problem', title: entry.problems.join('\n') }, `✖ ${entry.problems.length}`) : null,
    entry.warnings.length > 0 ? h('span', { class: 'mark warning', title: entry.warnings.join('\n') }, `⚠ ${entry.warnings.length}`) : null,
    nearMisses.length > 0 ? h('span', { class: 'mark near', title: `near misses: ${nearMisses.map((miss) => miss.rule).join(', ')}` }, `≈ ${nearMisses.length}`) : null,
  ];
}
