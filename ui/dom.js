// @ts-check
/**
 * Building DOM nodes. Everything the license server sent reaches the page through
 * here as text nodes or attribute values, never as HTML: there is no innerHTML in
 * the dashboard.
 */

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * An element with attributes and children; strings become text nodes.
 * `class` sets className, `on<event>` adds a listener, other values become attributes
 * (false/null/undefined leave them out).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  appendChildren(element, children);
  return element;
}

/**
 * @param {Node} parent
 * @param {(Child | Child[])[]} children
 */
export function appendChildren(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replace an element's children.
 * @param {Element} parent
 * @param {...(Child | Child[])} children
 */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  appendChildren(parent, children);
}

/**
 * The element with this id; throws when the page lacks it (a broken index.html, not a runtime condition).
 * @template {Element} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`index.html has no ${type.name} #${id}`);
  return element;
}

/** Tasks to run in the next animation frame, each once however often it was asked for. */
const frameTasks = new Set();
let frameRequested = false;

/**
 * Run `task` in the next animation frame (once, however often this is called before then):
 * DOM updates are batched per frame, whatever the rate of events.
 * @param {() => void} task
 */
export function inNextFrame(task) {
  frameTasks.add(task);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    const tasks = [...frameTasks];
    frameTasks.clear();
    for (const each of tasks) each();
  });
}

/**
 * Local wall-clock time of an ISO timestamp with milliseconds, e.g. 14:03:07.412.
 * @param {string} iso
 */
export function clockTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (/** @type {number} */ value, /** @type {number} */ width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * A duration in ms, short: 0.8 ms, 12 ms, 1.5 s.
 * @param {number | null} ms
 */
export function formatDuration(ms) {
  if (ms === null) return '…';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
