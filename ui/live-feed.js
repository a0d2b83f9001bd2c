// @ts-check
/**
 * The live feed: GET /admin/events read with fetch() streaming instead of
 * EventSource, because EventSource cannot send the Authorization header and the
 * token must stay out of URLs. So reconnecting and resuming are done here: after
 * a drop the feed reconnects (0.5 s, then up to 5 s apart) with Last-Event-ID set
 * to where the page's store wants to resume, and the server replays from there.
 */
import { adminFetch } from './admin-client.js';

/** @typedef {import('./api-types.js').LiveEvent} LiveEvent */

/** No byte (the server sends a heartbeat every 15 s) for this long: the connection is dead. */
const SILENCE_MS = 40_000;
const RETRY_MS = [500, 1000, 2000, 5000];

/**
 * @typedef {object} FeedHandlers
 * @property {() => number | null} resumeFrom the entry id to resume after, or null for a first load
 * @property {number} firstLoadLimit how many of the newest entries a first load replays
 * @property {(event: LiveEvent, id: string | null) => void} event one server-sent event, as GET /admin/events sends them
 * @property {(status: 'connecting' | 'live' | 'retrying' | 'failed', detail?: string) => void} status
 */

/**
 * Connect and keep connected; returns a function that reconnects at once
 * (after the page dropped what it held, e.g. when the mock restarted).
 * @param {FeedHandlers} handlers
 */
export function startLiveFeed(handlers) {
  let failures = 0;
  /** @type {AbortController | null} */
  let current = null;

  const connect = async () => {
    const abort = new AbortController();
    current = abort;
    handlers.status('connecting');
    const resumeFrom = handlers.resumeFrom();
    /** @type {Record<string, string>} */
    const headers = { Accept: 'text/event-stream' };
    let path = '/admin/events';
    if (resumeFrom === null) path += `?since=0&limit=${handlers.firstLoadLimit}`;
    else headers['Last-Event-ID'] = String(resumeFrom);
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let silence;
    let why = 'the stream ended';
    try {
      const response = await adminFetch(path, { headers, signal: abort.signal, cache: 'no-store' });
      if (!response.ok || !response.body) throw new Error(`GET /admin/events answered ${response.status}`);
      silence = setTimeout(() => abort.abort(), SILENCE_MS);
      const parser = eventParser((name, data, id) => handlers.event(/** @type {LiveEvent} */ ({ name, data }), id));
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let announced = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done || abort.signal.aborted) break;
        clearTimeout(silence);
        silence = setTimeout(() => abort.abort(), SILENCE_MS);
        if (!announced) {
          announced = true;
          failures = 0;
          handlers.status('live');
        }
        parser(decoder.decode(value, { stream: true }));
      }
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(silence);
    }
    if (current !== abort) return; // replaced by reconnectNow()
    const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
    failures++;
    handlers.status(failures > RETRY_MS.length ? 'failed' : 'retrying', `${why}; reconnecting in ${wait / 1000} s`);
    setTimeout(() => {
      if (current === abort) void connect();
    }, wait);
  };

  void connect();
  return () => {
    current?.abort();
    failures = 0;
    void connect();
  };
}

/**
 * A text/event-stream parser: feed it chunks, it calls `event` per complete event.
 * @param {(name: string, data: any, id: string | null) => void} event
 * @returns {(chunk: string) => void}
 */
export function eventParser(event) {
  let buffer = '';
  let name = 'message';
  /** @type {string[]} */
  let data = [];
  /** @type {string | null} */
  let id = null;
  return (chunk) => {
    buffer += chunk;
    let start = 0;
    for (let newline = buffer.indexOf('\n', start); newline >= 0; newline = buffer.indexOf('\n', start)) {
      let line = buffer.slice(start, newline);
      start = newline + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length > 0) event(name, JSON.parse(data.join('\n')), id);
        name = 'message';
        data = [];
        id = null;
        continue;
      }
      if (line.startsWith(':')) continue; // a comment: the heartbeat
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    buffer = buffer.slice(start);
  };
}
