// @ts-check
/** Requests per second and latency over the last minutes, drawn as inline SVG (bars and a line). */
import { formatDuration } from './dom.js';

const BUCKET_MS = 5000;
const BUCKETS = 60; // 5 minutes
const HEIGHT = 120;
const PLOT_TOP = 16;
const PLOT_BOTTOM = HEIGHT - 16;
const SVG = 'http://www.w3.org/2000/svg';

/** @typedef {import('./api-types.js').JournalEntry} JournalEntry */

export class RateChart {
  /** Which 5-second interval each slot holds (its start / BUCKET_MS). */
  slots = new Float64Array(BUCKETS).fill(-1);
  requests = new Uint32Array(BUCKETS);
  latencySum = new Float64Array(BUCKETS);
  latencyCount = new Uint32Array(BUCKETS);

  /**
   * @param {SVGSVGElement} svg
   * @param {HTMLElement} now text of the latest full interval
   */
  constructor(svg, now) {
    this.svg = svg;
    this.now = now;
    setInterval(() => this.draw(), 1000);
  }

  /** @param {JournalEntry} entry */
  add(entry) {
    const slot = this.slot(Date.parse(entry.time));
    if (slot === null) return;
    this.requests[slot]++;
    if (entry.durationMs !== null) this.addLatency(slot, entry.durationMs);
  }

  /**
   * An entry's exchange ended after it was added.
   * @param {JournalEntry} entry
   */
  ended(entry) {
    const slot = this.slot(Date.parse(entry.time));
    if (slot !== null && entry.durationMs !== null) this.addLatency(slot, entry.durationMs);
  }

  /**
   * @param {number} slot
   * @param {number} durationMs
   */
  addLatency(slot, durationMs) {
    this.latencySum[slot] += durationMs;
    this.latencyCount[slot]++;
  }

  /**
   * The slot of a time within the window (emptied when it is reused), or null when older.
   * @param {number} timeMs
   */
  slot(timeMs) {
    const interval = Math.floor(timeMs / BUCKET_MS);
    if (!Number.isFinite(interval) || interval <= Math.floor(Date.now() / BUCKET_MS) - BUCKETS) return null;
    const slot = ((interval % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.slots[slot] !== interval) {
      this.slots[slot] = interval;
      this.requests[slot] = 0;
      this.latencySum[slot] = 0;
      this.latencyCount[slot] = 0;
    }
    return slot;
  }

  draw() {
    // Drawn at the size it is shown (not scaled), so text and lines keep their proportions.
    const WIDTH = Math.max(200, Math.round(this.svg.clientWidth || 600));
    this.svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    const newest = Math.floor(Date.now() / BUCKET_MS);
    /** @type {{ rate: number, latency: number | null }[]} */
    const points = [];
    for (let interval = newest - BUCKETS + 1; interval <= newest; interval++) {
      const slot = ((interval % BUCKETS) + BUCKETS) % BUCKETS;
      const held = this.slots[slot] === interval;
      const count = held ? this.latencyCount[slot] : 0;
      points.push({ rate: held ? this.requests[slot] / (BUCKET_MS / 1000) : 0, latency: count > 0 ? this.latencySum[slot] / count : null });
    }
    const maxRate = niceCeiling(Math.max(1, ...points.map((point) => point.rate)));
    const maxLatency = niceCeiling(Math.max(1, ...points.map((point) => point.latency ?? 0)));
    const step = WIDTH / BUCKETS;
    const plotHeight = PLOT_BOTTOM - PLOT_TOP;
    /** @type {SVGElement[]} */
    const shapes = [line(0, PLOT_BOTTOM, WIDTH, PLOT_BOTTOM, 'axis'), line(0, PLOT_TOP, WIDTH, PLOT_TOP, 'grid')];
    points.forEach((point, index) => {
      if (point.rate === 0) return;
      const height = Math.max(1, (point.rate / maxRate) * plotHeight);
      shapes.push(svg('rect', { x: index * step + 1, y: PLOT_BOTTOM - height, width: step - 2, height, class: 'rate-bar' }));
    });
    const path = points
      .map((point, index) => (point.latency === null ? null : `${index * step + step / 2},${PLOT_BOTTOM - (point.latency / maxLatency) * plotHeight}`))
      .filter((xy) => xy !== null);
    if (path.length > 0) shapes.push(svg('polyline', { points: path.join(' '), class: 'latency-line' }));
    shapes.push(
      text(2, 11, `${formatRate(maxRate)} req/s`, 'rate-label'),
      text(WIDTH - 2, 11, formatDuration(maxLatency), 'latency-label', 'end'),
      text(2, HEIGHT - 3, '−5 min', 'axis-label'),
      text(WIDTH - 2, HEIGHT - 3, 'now', 'axis-label', 'end'),
    );
    this.svg.replaceChildren(...shapes);
    const latest = points[points.length - 2]; // the newest complete interval
    this.now.textContent = latest ? `${formatRate(latest.rate)} req/s · ${latest.latency === null ? '—' : formatDuration(latest.latency)} mean latency (last 5 s)` : '';
  }
}

/** @param {number} rate */
function formatRate(rate) {
  return rate >= 10 ? String(Math.round(rate)) : rate.toFixed(1);
}

/**
 * 1, 2, 5, 10, 20, 50, … at or above value.
 * @param {number} value
 */
function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) if (value <= factor * magnitude) return factor * magnitude;
  return 10 * magnitude;
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 */
function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return /** @type {SVGElement} */ (element);
}

/**
 * @param {number} x1
 * @param {number} y1
 * @param {number} x2
 * @param {number} y2
 * @param {string} className
 */
function line(x1, y1, x2, y2, className) {
  return svg('line', { x1, y1, x2, y2, class: className });
}

/**
 * @param {number} x
 * @param {number} y
 * @param {string} content
 * @param {string} className
 * @param {'start' | 'end'} [anchor]
 */
function text(x, y, content, className, anchor = 'start') {
  const element = svg('text', { x, y, class: className, 'text-anchor': anchor });
  element.textContent = content;
  return element;
}
