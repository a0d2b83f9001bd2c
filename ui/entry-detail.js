// @ts-check
/** The full journal entry of one request, in a side panel: what came in, what went out, and why. */
import { clockTime, formatDuration, h, replaceChildren } from './dom.js';
import { answerText } from './request-list.js';

/** @typedef {import('./api-types.js').JournalEntry} JournalEntry */

/** Fields shown in their own sections; any other field (added by newer versions) is listed as JSON at the end. */
const SHOWN = new Set([
  'id', 'time', 'remote', 'listener', 'clientCN', 'clientFingerprint', 'clientAuthorized', 'method', 'path', 'headers',
  'request', 'rawBody', 'valid', 'problems', 'warnings', 'scenario', 'rule', 'nearMisses', 'step', 'session', 'response', 'durationMs',
  'state', 'tls', 'upstream',
]);

export class EntryDetail {
  /** @type {number | null} */
  shownId = null;

  /**
   * @param {HTMLElement} panel
   * @param {() => void} onClose
   */
  constructor(panel, onClose) {
    this.panel = panel;
    this.onClose = onClose;
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.shownId !== null) onClose();
    });
  }

  /** @param {JournalEntry} entry */
  show(entry) {
    this.shownId = entry.id;
    const answer = entry.response;
    const session = entry.session ?? null;
    const extra = Object.entries(entry).filter(([key]) => !SHOWN.has(key));
    replaceChildren(
      this.panel,
      h(
        'header',
        { class: 'detail-head' },
        h('h2', {}, `Request #${entry.id}`),
        h('span', { class: 'muted' }, `${clockTime(entry.time)} · ${entry.listener}`),
        h('button', { type: 'button', class: 'close', title: 'Close (Esc)', 'aria-label': 'Close', onclick: () => this.onClose() }, '×'),
      ),
      h(
        'div',
        { class: 'detail-body' },
        keyValues([
          ['Answer', `${answerText(entry)}${answer.delayMs > 0 ? ` after a ${answer.delayMs} ms delay` : ''}`],
          ['Duration', formatDuration(entry.durationMs)],
          ['Scenario', entry.scenario ?? '—'],
          ['Rule', ruleText(entry)],
          ['Session', session ?? '—'],
          ...(entry.state ? /** @type {[string, string][]} */ ([['State', `${entry.state.key}: ${entry.state.before ?? '(none)'} → ${entry.state.after ?? '(none)'}`]]) : []),
          ['Time', entry.time],
        ]),
        entry.problems.length > 0 ? section('Problems', h('ul', { class: 'problems' }, entry.problems.map((text) => h('li', {}, text)))) : null,
        entry.warnings.length > 0 ? section('Warnings', h('ul', { class: 'warnings' }, entry.warnings.map((text) => h('li', {}, text)))) : null,
        entry.nearMisses && entry.nearMisses.length > 0
          ? section(
              'Near misses',
              h(
                'ul',
                { class: 'near-misses' },
                entry.nearMisses.map((miss) =>
                  h('li', {}, h('strong', {}, miss.rule), h('ul', {}, miss.failed.map((failed) => h('li', {}, h('code', {}, failed.key), ': ', failed.reason)))),
                ),
              ),
            )
          : null,
        section(
          'Client',
          keyValues([
            ['Certificate CN', entry.clientCN ?? 'none'],
            ['Fingerprint', entry.clientFingerprint ?? '—'],
            ['Trusted', entry.clientAuthorized ? 'yes' : 'no'],
            ['Remote', entry.remote],
            ...(entry.tls ? /** @type {[string, string][]} */ ([['TLS', `${entry.tls.version ?? '?'}, connection #${entry.tls.connection}${entry.tls.resumed ? ', resumed session' : ''}`]]) : []),
          ]),
        ),
        entry.upstream
          ? section(
              'Upstream (record mode)',
              keyValues([
                ['URL', entry.upstream.url],
                ['Outcome', entry.upstream.outcome === 'answered' ? `answered ${entry.upstream.status}` : `failed: ${entry.upstream.reason ?? ''}`],
                ['Took', `${entry.upstream.ms} ms`],
              ]),
              entry.upstream.body === null || entry.upstream.body === undefined ? null : codeBlock(typeof entry.upstream.body === 'string' ? entry.upstream.body : json(entry.upstream.body), 'upstream body'),
            )
          : null,
        section(
          'Request',
          h('p', { class: 'mono' }, `${entry.method} ${entry.path}`),
          ...requestBody(entry),
          h('details', {}, h('summary', {}, 'Headers'), codeBlock(json(entry.headers))),
        ),
        section(
          'Response as sent',
          keyValues([
            ['Status', answer.status === null ? 'none sent' : String(answer.status)],
            ['Fault', answer.fault ?? '—'],
            ['Delay', `${answer.delayMs} ms`],
          ]),
          answer.body === null ? null : codeBlock(typeof answer.body === 'string' ? answer.body : json(answer.body), 'body'),
        ),
        extra.length > 0 ? section('More', codeBlock(json(Object.fromEntries(extra)))) : null,
      ),
    );
    this.panel.hidden = false;
    this.panel.scrollTop = 0;
  }

  hide() {
    this.shownId = null;
    this.panel.hidden = true;
    this.panel.replaceChildren();
  }
}

/** @param {JournalEntry} entry */
function ruleText(entry) {
  if (!entry.valid) return 'none (invalid request)';
  if (entry.upstream) return 'none: forwarded upstream (record mode)';
  if (entry.rule === null) return 'none matched';
  return `${entry.rule}${entry.step === null ? '' : `, sequence step ${entry.step} (from 0)`}${entry.scenario === null ? ' (a session rule)' : ''}`;
}

/**
 * The body exactly as received and, when it parsed, the request the mock worked with, with a note
 * where parsing changed a field (a numeric-string version becomes its number).
 * @param {JournalEntry} entry
 * @returns {(Node | null)[]}
 */
function requestBody(entry) {
  if (entry.rawBody === null) return [h('p', { class: 'muted' }, 'no body read')];
  const received = codeBlock(entry.rawBody, entry.request === null ? 'body as received (not parsed)' : 'body as received', 'body-received');
  if (entry.request === null) return [received];
  const differences = parseDifferences(entry.rawBody, entry.request);
  return [
    received,
    differences.length === 0
      ? null
      : h('div', { class: 'parse-differences' }, h('p', {}, 'Parsed differently from what was sent:'), h('ul', {}, differences.map((text) => h('li', {}, text)))),
    h('details', { class: 'body-parsed', open: differences.length > 0 }, h('summary', {}, 'body as parsed'), codeBlock(json(entry.request))),
  ];
}

/**
 * Where the parsed request differs from the JSON of the body as received: one line per top-level field.
 * @param {string} rawBody
 * @param {unknown} request
 * @returns {string[]}
 */
function parseDifferences(rawBody, request) {
  /** @type {unknown} */
  let received;
  try {
    received = JSON.parse(rawBody);
  } catch {
    return [];
  }
  if (!isFields(received) || !isFields(request)) {
    const [before, after] = [JSON.stringify(received), JSON.stringify(request)];
    return before === after ? [] : [`received ${before}, parsed as ${after}`];
  }
  /** @type {string[]} */
  const differences = [];
  for (const field of new Set([...Object.keys(received), ...Object.keys(request)])) {
    const [before, after] = [JSON.stringify(received[field]), JSON.stringify(request[field])];
    if (before !== after) differences.push(`${field}: ${before === undefined ? 'absent' : `received ${before}`}, parsed as ${after ?? 'absent'}`);
  }
  return differences;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isFields(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** @param {unknown} value */
function json(value) {
  return JSON.stringify(value, null, 2);
}

/**
 * @param {string} title
 * @param {...(Node | null)} content
 */
function section(title, ...content) {
  return h('section', { class: 'detail-section' }, h('h3', {}, title), ...content);
}

/** @param {[string, string][]} pairs */
function keyValues(pairs) {
  return h('dl', { class: 'key-values' }, pairs.flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, value)]));
}

/**
 * @param {string} text
 * @param {string} [label]
 * @param {string} [kind] an extra class naming what the block holds
 */
function codeBlock(text, label, kind) {
  return h('div', { class: kind ? `code ${kind}` : 'code' }, label ? h('div', { class: 'code-label' }, label) : null, h('pre', {}, text));
}
