// @ts-check
/**
 * The request list's filters, kept in the page's URL query (and the open entry
 * with them) so a view can be shared and survives a reload.
 */
import { asText, isUnmatched, requestField } from './entry-store.js';

/** @typedef {import('./api-types.js').JournalEntry} JournalEntry */

/**
 * @typedef {object} Filters
 * @property {string} contentID contained in the contentID
 * @property {string} cookie contained in the customerCookie
 * @property {string} rule the rule that answered, exactly
 * @property {'' | 'true' | 'false'} valid
 * @property {'' | 'true'} unmatched valid requests no rule answered
 * @property {string} session exactly
 * @property {string} listener exactly
 */

/** @type {(keyof Filters)[]} */
export const FILTER_KEYS = ['contentID', 'cookie', 'rule', 'valid', 'unmatched', 'session', 'listener'];

/**
 * @param {string} search location.search
 * @returns {{ filters: Filters, entry: number | null }}
 */
export function readUrl(search) {
  const query = new URLSearchParams(search);
  const entry = Number(query.get('entry'));
  return {
    filters: filtersFrom((key) => query.get(key) ?? ''),
    entry: Number.isSafeInteger(entry) && entry > 0 ? entry : null,
  };
}

/**
 * Filters from their values as text (a URL query, a form), anything unexpected ignored.
 * @param {(key: keyof Filters) => string} text
 * @returns {Filters}
 */
export function filtersFrom(text) {
  const valid = text('valid');
  return {
    contentID: text('contentID'),
    cookie: text('cookie'),
    rule: text('rule'),
    valid: valid === 'true' || valid === 'false' ? valid : '',
    unmatched: text('unmatched') === 'true' ? 'true' : '',
    session: text('session'),
    listener: text('listener'),
  };
}

/** @type {Filters} */
export const NO_FILTERS = filtersFrom(() => '');

/**
 * Put the filters and the open entry into the URL without a reload or a history entry per keystroke.
 * @param {Filters} filters
 * @param {number | null} entry
 */
export function writeUrl(filters, entry) {
  const query = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key] !== '') query.set(key, filters[key]);
  if (entry !== null) query.set('entry', String(entry));
  const search = query.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
}

/** @param {Filters} filters */
export function isFiltering(filters) {
  return FILTER_KEYS.some((key) => filters[key] !== '');
}

/**
 * @param {Filters} filters
 * @returns {(entry: JournalEntry) => boolean}
 */
export function entryFilter(filters) {
  const { contentID, cookie, rule, valid, unmatched, session, listener } = filters;
  return (entry) =>
    (contentID === '' || asText(requestField(entry, 'contentID')).includes(contentID)) &&
    (cookie === '' || asText(requestField(entry, 'customerCookie')).includes(cookie)) &&
    (rule === '' || entry.rule === rule) &&
    (valid === '' || String(entry.valid) === valid) &&
    (unmatched === '' || isUnmatched(entry)) &&
    (session === '' || entry.session === session) &&
    (listener === '' || entry.listener === listener);
}
