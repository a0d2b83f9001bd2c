/**
 * The load generator: a separate process (forked by bench/run.mjs) so that its CPU is
 * never counted as the server's. It drives one server over mutual TLS with a
 * lean HTTP/1.1 client on raw TLS sockets, from worker threads:
 *
 *   keepalive  — `connections` persistent connections, one request in flight on each;
 *   handshake  — a new TLS connection per request, no session cache (full handshakes);
 *   resume     — a new TCP connection per request, offering the last TLS session;
 *   mixed      — both kinds of client at once: `connections` persistent connections and
 *                `handshakeConnections` more that open a new TLS connection per request.
 *
 * Every request carries a fresh GUID messageID; every reply is parsed and must echo it
 * (plus status 200 and isAllowed true) or it counts as a mismatch.
 *
 * The job arrives on IPC: { url, tls: {ca, cert, key}, mode, connections, threads,
 * warmupMs, durationMs | requests, contentIDs, serverPid, sampleMemory, staggerMs,
 * handshakeConnections, ratePerSecond }. `ratePerSecond` (optional) paces the connections so
 * that together they send at most that many requests a second (each on its own schedule, one
 * request in flight as always): a server driven below its saturation. Only requests
 * that start and end inside the measurement window count; the server's CPU time and
 * RSS are read from /proc/<serverPid> at the window's edges.
 */
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { readContextSwitches, readCpu, readRss } from './proc.mjs';

const PHASE_WARMUP = 0;
const PHASE_MEASURE = 1;
const PHASE_STOP = 2;
/** Shared counters: [phase, tickets taken, requests completed in the window]. */
const PHASE = 0;
const TICKETS = 1;
const COMPLETED = 2;

if (isMainThread) {
  process.once('message', async (job) => {
    try {
      process.send({ ok: true, result: await runJob(job) });
    } catch (error) {
      process.send({ ok: false, error: error.stack ?? String(error) });
    }
    process.disconnect();
  });
} else {
  await runWorker(workerData);
}

// --- main thread: windows, workers, /proc readings ---------------------------------------

async function runJob(job) {
  const shared = new Int32Array(new SharedArrayBuffer(16));
  const handshakeConnections = job.mode === 'mixed' ? (job.handshakeConnections ?? 0) : 0;
  const threads = Math.max(1, Math.min(job.threads ?? 1, job.connections));
  const tls = { ca: readFileSync(job.tls.ca), cert: readFileSync(job.tls.cert), key: readFileSync(job.tls.key) };
  const workers = [];
  for (let t = 0; t < threads; t++) {
    const share = (total) => Math.floor(total / threads) + (t < total % threads ? 1 : 0);
    const connections = share(job.connections);
    workers.push(
      new Promise((resolve, reject) => {
        const worker = new Worker(fileURLToPath(import.meta.url), {
          workerData: { ...job, tls, connections, handshakeConnections: share(handshakeConnections), shared, paceMs: paceMsOf(job) },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
    );
  }

  const memory = [];
  let memoryTimer = null;
  if (job.sampleMemory) {
    memoryTimer = setInterval(() => {
      const rss = readRss(job.serverPid);
      if (rss !== null) memory.push({ completed: Atomics.load(shared, COMPLETED), rssBytes: rss.rss });
    }, 50);
  }

  await sleep(job.warmupMs ?? 0);
  const before = { cpu: readCpu(job.serverPid), switches: readContextSwitches(job.serverPid), at: performance.now() };
  Atomics.store(shared, PHASE, PHASE_MEASURE);
  if (job.requests !== undefined) {
    while (Atomics.load(shared, COMPLETED) < job.requests) await sleep(5);
  } else {
    await sleep(job.durationMs);
  }
  const after = { cpu: readCpu(job.serverPid), switches: readContextSwitches(job.serverPid), at: performance.now() };
  Atomics.store(shared, PHASE, PHASE_STOP);
  if (memoryTimer) clearInterval(memoryTimer);
  const finalRss = job.serverPid ? readRss(job.serverPid) : null;

  const reports = await Promise.all(workers);
  const latencies = concat(reports.map((r) => r.latencies));
  latencies.sort();
  const seconds = (after.at - before.at) / 1000;
  const completed = reports.reduce((n, r) => n + r.completed, 0);
  const cpuSeconds = before.cpu !== null && after.cpu !== null ? after.cpu - before.cpu : null;
  return {
    mode: job.mode,
    connections: job.connections,
    seconds,
    completed,
    requestsPerSecond: completed / seconds,
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      p99: percentile(latencies, 0.99),
      max: latencies.length > 0 ? latencies[latencies.length - 1] : null,
    },
    mismatches: reports.reduce((n, r) => n + r.mismatches, 0),
    errors: reports.reduce((n, r) => n + r.errors, 0),
    firstProblem: reports.map((r) => r.firstProblem).find((p) => p !== null) ?? null,
    sessionsReused: reports.reduce((n, r) => n + r.reused, 0),
    /** Requests that came on a connection of their own (handshake, resume, and the handshake clients of mixed). */
    newConnections: reports.reduce((n, r) => n + r.newConnections, 0),
    serverCpuSeconds: cpuSeconds,
    serverCpuMicrosPerRequest: cpuSeconds !== null && completed > 0 ? (cpuSeconds * 1e6) / completed : null,
    serverCpuCores: cpuSeconds !== null ? cpuSeconds / seconds : null,
    /** Per request, the server's event-loop thread(s): how often they went to sleep, and how often the kernel preempted them. */
    serverContextSwitchesPerRequest:
      before.switches !== null && after.switches !== null && completed > 0
        ? { voluntary: (after.switches.voluntary - before.switches.voluntary) / completed, involuntary: (after.switches.involuntary - before.switches.involuntary) / completed }
        : null,
    memory: job.sampleMemory ? { samples: memory, final: finalRss } : undefined,
    // Sorted latencies, only when asked (delay accuracy is computed by the caller).
    latencies: job.returnLatencies ? Array.from(latencies) : undefined,
  };
}

/** With ratePerSecond: how often each connection sends, so that all of them together send that many a second. */
function paceMsOf(job) {
  if (job.ratePerSecond === undefined) return null;
  const loops = job.connections + (job.mode === 'mixed' ? (job.handshakeConnections ?? 0) : 0);
  return (loops * 1000) / job.ratePerSecond;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function concat(arrays) {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- worker threads: the connections -----------------------------------------------------
//
// A lean HTTP/1.1 client on raw TLS sockets: the request is one pre-built string, the reply
// is read by its Content-Length (both servers always send one; anything else counts as an
// error). Node's own https client costs ~150 µs of CPU per request, which on 2 cores would
// make the generator, not the server, the limit of every figure.

async function runWorker(job) {
  const shared = job.shared;
  const url = new URL(job.url);
  const connectOptions = {
    host: url.hostname,
    port: Number(url.port),
    servername: 'localhost',
    ca: job.tls.ca,
    cert: job.tls.cert,
    key: job.tls.key,
  };
  const secureContext = tls.createSecureContext(connectOptions);
  const contentIDs = job.contentIDs;
  let latencies = new Float64Array(1 << 16);
  let recorded = 0;
  let completed = 0;
  let mismatches = 0;
  let errors = 0;
  let reused = 0;
  let newConnections = 0;
  let firstProblem = null;
  const problem = (text) => {
    if (firstProblem === null) firstProblem = text;
  };
  const head = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n`;
  // In `mixed`, the first `connections` loops keep their connection and the other
  // `handshakeConnections` open a new one per request.
  const keepAliveLoops = job.mode === 'keepalive' || job.mode === 'mixed' ? job.connections : 0;
  const loops = job.connections + (job.mode === 'mixed' ? job.handshakeConnections : 0);
  let session; // the last TLS session, offered by `resume` connections

  /** One connection's socket and the reply it is waiting for. */
  const open = () =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ ...connectOptions, secureContext, session: job.mode === 'resume' ? session : undefined });
      socket.setNoDelay(true);
      if (job.mode === 'resume') socket.on('session', (s) => (session = s));
      const state = { socket, buffer: null, pending: null, ready: false };
      socket.on('data', (chunk) => onData(state, chunk));
      socket.on('error', (error) => fail(state, error));
      socket.on('close', () => fail(state, new Error('connection closed')));
      socket.once('secureConnect', () => {
        state.ready = true;
        resolve(state);
      });
      socket.once('error', reject);
    });

  const fail = (state, error) => {
    state.closed = true;
    if (state.pending) {
      const pending = state.pending;
      state.pending = null;
      pending.resolve({ ok: null, problem: error.message });
    }
  };

  const onData = (state, chunk) => {
    state.buffer = state.buffer === null ? chunk : Buffer.concat([state.buffer, chunk]);
    const pending = state.pending;
    if (pending === null) return;
    const buffer = state.buffer;
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const headers = buffer.toString('latin1', 0, end);
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
    if (match === null) {
      state.pending = null;
      pending.resolve({ ok: null, problem: `no Content-Length: ${headers.slice(0, 200)}` });
      return;
    }
    const length = Number(match[1]);
    if (buffer.length < end + 4 + length) return;
    state.pending = null;
    state.buffer = buffer.length > end + 4 + length ? buffer.subarray(end + 4 + length) : null;
    const status = Number(headers.slice(9, 12));
    const text = buffer.toString('utf8', end + 4, end + 4 + length);
    let ok = false;
    try {
      const reply = JSON.parse(text);
      ok = status === 200 && reply.messageID === pending.messageID && reply.isAllowed === true;
      if (!ok) problem(`status ${status}: ${text.slice(0, 300)}`);
    } catch (error) {
      problem(`unparsable reply (status ${status}): ${error.message}`);
    }
    pending.resolve({ ok, reused: state.socket.isSessionReused() });
  };

  const send = (state, contentID, connection) =>
    new Promise((resolve) => {
      const messageID = randomUUID();
      const body = `{"messageID":"${messageID}","version":1,"requestType":1,"contentID":"${contentID}","customerCookie":"bench"}`;
      state.pending = { messageID, resolve };
      state.socket.write(`${head}Connection: ${connection}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });

  const loop = async (_, index) => {
    const keepAlive = index < keepAliveLoops;
    const connection = keepAlive ? 'keep-alive' : 'close';
    // Spread the first requests evenly over `staggerMs` (arrivals at a steady rate, not in one burst).
    if (job.staggerMs) await sleep((job.staggerMs * index) / loops);
    let pick = Math.floor(Math.random() * contentIDs.length);
    let state = null;
    // Paced: each connection on its own fixed schedule, offset from the others' (no bursts in step).
    let nextAt = job.paceMs === null ? 0 : performance.now() + Math.random() * job.paceMs;
    for (;;) {
      if (job.paceMs !== null) {
        const wait = nextAt - performance.now();
        if (wait > 0) await sleep(wait);
        // Behind schedule (a slow reply): no burst to catch up, at most one interval of it.
        nextAt = Math.max(nextAt, performance.now() - job.paceMs) + job.paceMs;
      }
      const phase = Atomics.load(shared, PHASE);
      if (phase === PHASE_STOP) break;
      if (job.requests !== undefined && phase === PHASE_MEASURE && Atomics.add(shared, TICKETS, 1) >= job.requests) break;
      pick = (pick + 1) % contentIDs.length;
      const startedAt = performance.now();
      let outcome;
      try {
        if (state === null || state.closed) state = await open();
        outcome = await send(state, contentIDs[pick], connection);
      } catch (error) {
        outcome = { ok: null, problem: error.message };
      }
      if (outcome.ok === null) {
        problem(outcome.problem);
        state?.socket.destroy();
        state = null;
      } else if (!keepAlive) {
        state.socket.end();
        state = null;
      }
      const endedAt = performance.now();
      if (phase !== PHASE_MEASURE || Atomics.load(shared, PHASE) !== PHASE_MEASURE) continue;
      Atomics.add(shared, COMPLETED, 1);
      completed++;
      if (outcome.ok === null) errors++;
      else if (!outcome.ok) mismatches++;
      if (outcome.reused) reused++;
      if (!keepAlive) newConnections++;
      if (recorded === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[recorded++] = endedAt - startedAt;
      if (outcome.ok === null) await sleep(10); // refused connections: do not spin
    }
    state?.socket.destroy();
  };
  await Promise.all(Array.from({ length: loops }, loop));
  const kept = latencies.slice(0, recorded);
  parentPort.postMessage({ completed, mismatches, errors, reused, newConnections, firstProblem, latencies: kept }, [kept.buffer]);
}
