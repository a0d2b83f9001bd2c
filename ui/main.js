// @ts-check
/** The dashboard page: wires the live feed to the store, the request list, the chart and the panels. */
import { adminJson } from './admin-client.js';
import { byId, inNextFrame } from './dom.js';
import { EntryDetail } from './entry-detail.js';
import { EntryStore, STORE_LIMIT } from './entry-store.js';
import { FILTER_KEYS, NO_FILTERS, entryFilter, filtersFrom, isFiltering, readUrl, writeUrl } from './filters.js';
import { startLiveFeed } from './live-feed.js';
import { RateChart } from './rate-chart.js';
import { ROW_LIMIT, RequestList } from './request-list.js';
import { ScenarioPanel } from './scenario-panel.js';
import { ReportPanel, TlsFailuresPanel } from './side-panels.js';
import { ConformancePanel } from './conformance-panel.js';

/** @typedef {import('./filters.js').Filters} Filters */

const store = new EntryStore();
const fromUrl = readUrl(location.search);
let filters = fromUrl.filters;
/** The entry open in the side panel (or asked for by the URL and not arrived yet). */
let openId = fromUrl.entry;

const status = byId('connection', HTMLElement);
const notice = byId('notice', HTMLElement);
const rowCount = byId('row-count', HTMLElement);
const emptyHint = byId('empty-hint', HTMLElement);
const noMatch = byId('no-match', HTMLElement);
const filterForm = byId('filters', HTMLFormElement);
const pausedNote = byId('paused-note', HTMLElement);
const tableWrap = byId('table-wrap', HTMLElement);

const detail = new EntryDetail(byId('entry-detail', HTMLElement), () => closeEntry());
const list = new RequestList(byId('request-rows', HTMLElement), {
  open: (id) => openEntry(id),
  lookup: (id) => store.byId.get(id),
  onRendered: () => renderCounts(),
});
const chart = new RateChart(byId('rate-chart', SVGSVGElement), byId('chart-now', HTMLElement));
const scenarioPanel = new ScenarioPanel({
  hitsOf: (scenario, rule) => store.hitsOf(scenario, rule),
  showRule: (rule) => setFilters({ ...filters, rule }),
});
const tlsPanel = new TlsFailuresPanel();
const reportPanel = new ReportPanel((id) => openEntry(id));
const conformancePanel = new ConformancePanel();
void conformancePanel.load();

// ---- filters ---------------------------------------------------------------

/** @param {Filters} next */
function setFilters(next) {
  filters = next;
  fillFilterForm();
  writeUrl(filters, openId);
  const accept = entryFilter(filters);
  list.reset(accept, store.newest(accept, ROW_LIMIT));
  list.select(openId);
}

function fillFilterForm() {
  for (const key of FILTER_KEYS) {
    const field = filterForm.elements.namedItem(key);
    if (field instanceof HTMLInputElement && field.type === 'checkbox') field.checked = filters[key] === 'true';
    else if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = filters[key];
  }
}

/** @returns {Filters} */
function filtersFromForm() {
  return filtersFrom((key) => {
    const field = filterForm.elements.namedItem(key);
    if (field instanceof HTMLInputElement && field.type === 'checkbox') return field.checked ? 'true' : '';
    return field instanceof HTMLInputElement || field instanceof HTMLSelectElement ? field.value : '';
  });
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let typing;
filterForm.addEventListener('input', (event) => {
  clearTimeout(typing);
  // Typing waits for a pause; a select or checkbox applies at once.
  const delay = event.target instanceof HTMLInputElement && event.target.type !== 'checkbox' ? 150 : 0;
  typing = setTimeout(() => setFilters(filtersFromForm()), delay);
});
filterForm.addEventListener('submit', (event) => event.preventDefault());
byId('filters-clear', HTMLButtonElement).addEventListener('click', () => setFilters(NO_FILTERS));

// ---- pausing: rows do not move while the reader points at them or has scrolled down ----

tableWrap.addEventListener('mouseenter', () => {
  list.hold('pointer', true);
  inNextFrame(renderCounts);
});
tableWrap.addEventListener('mouseleave', () => {
  list.hold('pointer', false);
  inNextFrame(renderCounts);
});
tableWrap.addEventListener(
  'scroll',
  () => {
    list.hold('scrolled', tableWrap.scrollTop > 30);
    inNextFrame(renderCounts);
  },
  { passive: true },
);

// ---- the open entry ----------------------------------------------------------

/** @param {number} id */
function openEntry(id) {
  const entry = store.byId.get(id);
  if (!entry) {
    showNotice(`Request #${id} is no longer held by this page (it keeps the newest ${STORE_LIMIT}).`);
    return;
  }
  openId = id;
  detail.show(entry);
  list.select(id);
  writeUrl(filters, openId);
}

function closeEntry() {
  openId = null;
  detail.hide();
  list.select(null);
  writeUrl(filters, openId);
}

// ---- counts, notices, connection status --------------------------------------

function renderCounts() {
  const shown = list.size;
  rowCount.textContent =
    `${shown} shown${shown >= ROW_LIMIT ? ` (the newest ${ROW_LIMIT})` : ''}` +
    ` · ${store.received} received since the last clear${isFiltering(filters) ? ' · filtered' : ''}`;
  pausedNote.hidden = !list.paused;
  pausedNote.textContent = `paused while the pointer is on the list${list.waiting > 0 ? ` · ${list.waiting} new` : ''}`;
  emptyHint.hidden = store.received > 0;
  noMatch.hidden = shown > 0 || store.received === 0;
  scenarioPanel.renderHits();
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let noticeTimer;
/** @param {string} text */
function showNotice(text) {
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 6000);
}

/**
 * @param {'connecting' | 'live' | 'retrying' | 'failed'} state
 * @param {string} [why]
 */
function showStatus(state, why) {
  status.className = `status ${state}`;
  status.textContent = { connecting: 'connecting…', live: 'live', retrying: 'reconnecting…', failed: 'offline' }[state];
  status.title = why ?? '';
}

// ---- the live feed -------------------------------------------------------------

/** Every held entry is gone (the journal was cleared, or the mock restarted). */
function dropEverything() {
  store.clear();
  if (openId !== null) closeEntry();
  list.reset(entryFilter(filters), []);
}

/** @type {string | null} which journal the page mirrors: `<process>.<clears>` */
let epoch = null;
/** The report card is rebuilt from the whole journal by the mock: asked for again at most every 10 s while traffic goes on. */
let reportStale = false;
setInterval(() => {
  if (!reportStale) return;
  reportStale = false;
  reportPanel.refresh();
}, 10_000);
/** Entries of the replay (announced by `hello`) still to come: rows are drawn once, when it is complete. */
let replayLeft = 0;

const reconnectNow = startLiveFeed({
  resumeFrom: () => store.resumeFrom(),
  firstLoadLimit: STORE_LIMIT,
  status: showStatus,
  event(event) {
    switch (event.name) {
      case 'hello': {
        const before = epoch;
        epoch = event.data.epoch;
        if (before !== null && before !== event.data.epoch) {
          dropEverything();
          // Another process: its ids start again from 1, so resuming by id would miss entries.
          if (before.split('.')[0] !== event.data.epoch.split('.')[0]) {
            store.forget();
            reconnectNow();
            return;
          }
        }
        replayLeft = event.data.replay;
        list.hold('replay', replayLeft > 0);
        void scenarioPanel.refresh();
        tlsPanel.refresh();
        reportPanel.refresh();
        return;
      }
      case 'entry': {
        if (replayLeft > 0 && --replayLeft === 0) list.hold('replay', false);
        if (store.add(event.data)) {
          chart.add(event.data);
          list.add(event.data);
          if (list.paused) inNextFrame(renderCounts);
          reportStale = true;
        } else {
          list.update(event.data);
        }
        if (event.data.id === openId) inNextFrame(() => (openId === event.data.id ? openEntry(event.data.id) : undefined));
        return;
      }
      case 'ended': {
        const entry = store.ended(event.data.id, event.data.durationMs);
        if (!entry) return;
        chart.ended(entry);
        list.update(entry);
        if (detail.shownId === entry.id) inNextFrame(() => (detail.shownId === entry.id ? detail.show(entry) : undefined));
        return;
      }
      case 'cleared':
        epoch = event.data.epoch;
        replayLeft = 0; // the rest of a replay was dropped with the journal
        list.hold('replay', false);
        dropEverything();
        tlsPanel.refresh();
        reportPanel.refresh();
        return;
      case 'scenario':
        void scenarioPanel.refresh();
        if (event.data.cause === 'reset') tlsPanel.refresh();
        return;
      case 'tls-failure':
        tlsPanel.refresh();
        reportStale = true;
        return;
    }
  },
});

// ---- buttons -------------------------------------------------------------------

byId('clear-button', HTMLButtonElement).addEventListener('click', async () => {
  if (!confirm('Clear the journal? Every recorded request is forgotten; scenario counters and refused handshakes are kept.')) return;
  await adminJson('/admin/requests', { method: 'DELETE' }).catch((error) => showNotice(`Clear failed: ${error.message}`));
});
byId('reset-button', HTMLButtonElement).addEventListener('click', async () => {
  if (!confirm('Reset the mock? This clears the journal and the refused handshakes, re-reads the scenario files and restarts every counter.')) return;
  await adminJson('/admin/reset', { method: 'POST' }).catch((error) => showNotice(`Reset failed: ${error.message}`));
});

fillFilterForm();
setFilters(filters);
