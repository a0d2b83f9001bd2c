/**
 * `npm run bench`: measures the mock against a bare Node https server on the same machine, with
 * the two run **interleaved** (A, B, A, B, … at least three pairs per figure) so that the
 * machine's ups and downs hit both sides alike; each figure is judged on the median of the
 * paired ratios, and the spread (lowest–highest ratio) is printed beside it. Writes
 * bench/results.json, bench/chart.svg and the results section of bench/README.md (a full run),
 * else bench/tmp/results.json. Expects a build in dist/ (the npm script builds first).
 *
 *   node bench/run.mjs [PART…] [--quick] [--pairs N] [--threads N] [--baseline DIR]
 *   npm run bench -- keepalive handshake      # only some figures (a quick A/B)
 *
 * PARTS: keepalive autocannon handshake rsa resume rules store delay memory startup (default: all;
 * `--only a,b` is the same as `a b`). `--baseline DIR`: side A is the mock built in DIR (another
 * worktree, e.g. the round before) instead of bare Node, so the ratios say this build / that one.
 *
 * Each server runs as its own child process and the load generator as another
 * (bench/load.mjs), so /proc/<pid>/stat gives each server's own CPU time.
 */
import { spawn, fork, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdirSync, openSync, closeSync, rmSync, writeFileSync, readFileSync, readdirSync, copyFileSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import { readCpu, readCpuExact, readRss } from './proc.mjs';
import { renderChart } from './chart.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const tmp = join(here, 'tmp');
const cli = join(root, 'bin', 'entitlement-mock.js');

const PARTS = ['keepalive', 'autocannon', 'handshake', 'rsa', 'resume', 'rules', 'store', 'delay', 'memory', 'startup', 'workers', 'workers-load'];
/** Investigations run only when named (a full run leaves them out). */
const NAMED_ONLY = new Set(['workers-load']);
const { quick, parts, pairsOption, threadsOption, baselineRoot } = parseArgs(process.argv.slice(2));
const wants = (part) => (parts === null ? !NAMED_ONLY.has(part) : parts.has(part));

/** Pairs (A then B) per figure; the figure is the median of the pairs' ratios. */
const PAIRS = pairsOption ?? 3;
/** Seconds per measurement window (and warm-up before it). */
const WINDOW_MS = quick ? 3000 : 6000;
const WARMUP_MS = quick ? 1000 : 2000;
const KEEPALIVE_CONNECTIONS = 50;
/** Load generator threads: one per core the server does not use. */
const GENERATOR_THREADS = threadsOption ?? Math.max(1, os.cpus().length - 1);
const HANDSHAKE_CONCURRENCY = 20;
const DELAY_CONNECTIONS = 200;
const DELAY_MS = 200;
const DELAY_WINDOW_MS = quick ? 4000 : 10_000;
const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? (quick ? 60_000 : 300_000));
const RULE_COUNT = 100_000;
const PATTERN_RULE_COUNT = 300;
const STARTUP_PAIRS = pairsOption ?? (quick ? 5 : 9);
/** The memory figure's load: keep-alive clients and clients with a new TLS connection per request, at the same time. */
const MIXED_KEEPALIVE_CONNECTIONS = 40;
const MIXED_HANDSHAKE_CONNECTIONS = 10;

/** Issue 18's targets (and issue 5's that still stand), each on the median of paired ratios. */
const TARGETS = {
  keepaliveCpuRatio: 1.5,
  keepaliveP99Ratio: 1.5,
  keepaliveThroughputRatio: 0.8,
  handshakeCpuRatio: 1.15,
  handshakeRatio: 0.9,
  resumeCpuRatio: 1.15,
  rulesThroughputRatio: 0.9,
  rulesLoadSeconds: 3,
  storeStatelessCpuRatio: 1.1,
  delayP99ErrorMs: 10,
  peakRssMiB: 150,
  rssGrowthMiddleToEnd: 0.1,
  startupSeconds: 0.5,
  firstAnswerRatio: 1.3,
  workersCpuRatio: 1.1,
};

function parseArgs(argv) {
  const out = { quick: false, parts: null, pairsOption: null, threadsOption: null, baselineRoot: null };
  const named = new Set();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--quick') out.quick = true;
    else if (arg === '--only') value().split(',').forEach((part) => named.add(part));
    else if (arg === '--pairs') out.pairsOption = positiveInteger(arg, value());
    else if (arg === '--threads') out.threadsOption = positiveInteger(arg, value());
    else if (arg === '--baseline') out.baselineRoot = resolve(value());
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else named.add(arg);
  }
  for (const part of named) if (!PARTS.includes(part)) usage(`unknown part "${part}"`);
  if (named.size > 0) out.parts = named;
  return out;
}

function positiveInteger(option, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usage(`${option} wants a whole number ≥ 1, got "${text}"`);
  return n;
}

function usage(problem) {
  console.error(`bench: ${problem}\nusage: node bench/run.mjs [${PARTS.join('|')} …] [--quick] [--pairs N] [--threads N] [--baseline DIR]`);
  process.exit(2);
}

for (const dir of [root, ...(baselineRoot ? [baselineRoot] : [])]) {
  if (!existsSync(join(dir, 'dist', 'cli', 'entry.js'))) {
    console.error(`bench: ${join(dir, 'dist')} is missing; run \`npm run build\` there first (npm run bench does it here)`);
    process.exit(1);
  }
}

// A fresh bench/tmp, but for the profiles bench/profile.mjs keeps there.
mkdirSync(tmp, { recursive: true });
for (const entry of readdirSync(tmp)) if (!entry.startsWith('profile')) rmSync(join(tmp, entry), { recursive: true, force: true });
const benchStartedAt = performance.now();
const children = new Set();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const results = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverageAtStart: os.loadavg().map((l) => round(l, 1)) },
  settings: { pairs: PAIRS, startupPairs: STARTUP_PAIRS, windowMs: WINDOW_MS, warmupMs: WARMUP_MS, keepaliveConnections: KEEPALIVE_CONNECTIONS, handshakeConcurrency: HANDSHAKE_CONCURRENCY, generatorThreads: GENERATOR_THREADS, quick, baseline: baselineRoot },
  targets: TARGETS,
};

// --- fixtures ------------------------------------------------------------------------------

const pki = { ec: join(tmp, 'pki-ec'), rsa: join(tmp, 'pki-rsa') };
for (const [keyType, dir] of Object.entries(pki)) {
  execFileSync(process.execPath, [cli, 'certs', '--out', dir, '--key-type', keyType], { stdio: 'ignore' });
}
const clientTls = (dir) => ({ ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') });

/** A build's bundled scenarios plus one with a delay, so one mock can switch to it. */
function scenarioDirOf(buildRoot, name) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const file of readdirSync(join(buildRoot, 'scenarios'))) copyFileSync(join(buildRoot, 'scenarios', file), join(dir, file));
  // Every request counted (times:): with --workers each one asks the primary for its count.
  writeFileSync(join(dir, 'bench-counted.yaml'), `description: every answer counted\nrules:\n  - name: counted\n    times: 1000000000\n    respond: { isAllowed: true }\n`);
  writeFileSync(join(dir, 'bench-delay.yaml'), `description: every answer ${DELAY_MS} ms late\nrules:\n  - name: late\n    respond: { isAllowed: true, delay: ${DELAY_MS}ms }\n`);
  return dir;
}
const scenarioDir = scenarioDirOf(root, 'scenarios');
const baselineScenarioDir = baselineRoot ? scenarioDirOf(baselineRoot, 'scenarios-baseline') : null;

/** Content IDs the requests cycle through: GUIDs, the same in every run (the 100k-rule scenario has a rule for each). */
const allContentIDs = Array.from({ length: RULE_COUNT }, () => randomUUID());
const requestContentIDs = allContentIDs.filter((_, i) => i % 97 === 0);

// --- processes -----------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * How the mock is started. `bin`: the bin itself, as `npm start`, `npx` and the image run it;
 * `node`: `node bin/entitlement-mock.js serve`; `in-process`: startMock() inside a plain node
 * process (bench/in-process.mjs), as a test suite runs it.
 */
const LAUNCHES = ['bin', 'node', 'in-process'];

/** Starts the mock as `entitlement-mock serve` with stdout in a file (as in a container), at the default log level. */
async function startMock({ certs, buildRoot = root, scenarios, scenario = 'default', extra = [], name = 'mock', firstAnswer = false, launch = 'bin', nodeFlagsText = process.env.BENCH_NODE_FLAGS }) {
  scenarios ??= buildRoot === root ? scenarioDir : baselineScenarioDir;
  const [port, adminPort] = [await freePort(), await freePort()];
  const logFile = join(tmp, `${name}.log`);
  const out = openSync(process.env.BENCH_MOCK_STDOUT ?? logFile, 'w');
  // The bin as npm start and the image run it: the launcher (bin/entitlement-mock, which starts the snapshot) where the build has one.
  const launcher = join(buildRoot, 'bin', 'entitlement-mock');
  const bin = join(buildRoot, 'bin', 'entitlement-mock.js');
  const serveArgs = ['serve', '--scenarios', scenarios, '--scenario', scenario, '--certs', certs, '--host', '127.0.0.1', '--port', String(port),
    '--admin-host', '127.0.0.1', '--admin-port', String(adminPort), ...extra];
  // BENCH_NODE_FLAGS: node with these flags runs the bin (to A/B a V8 flag; BENCH_BASELINE_NODE_FLAGS for side A of --baseline).
  const nodeFlags = (nodeFlagsText ?? '').split(' ').filter(Boolean);
  const [program, programArgs] =
    launch === 'in-process'
      ? [process.execPath, [...nodeFlags, join(here, 'in-process.mjs'), JSON.stringify({ buildRoot, certs, scenarios, scenario, port, adminPort })]]
      : launch === 'node' || nodeFlags.length > 0
        ? [process.execPath, [...nodeFlags, bin, ...serveArgs]]
        : [existsSync(launcher) ? launcher : bin, serveArgs];
  const spawnedAt = performance.now();
  const child = spawn(program, programArgs, { cwd: buildRoot, stdio: ['ignore', out, 'pipe'], env: { ...process.env, EM_LOG_LEVEL: 'info' } });
  closeSync(out);
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const url = `https://127.0.0.1:${port}/entitlement`;
  // Start to first answered request: polled the same way as the bare server's.
  const firstAnswerMs = firstAnswer ? (await waitForFirstAnswer(url, certs, () => child.exitCode !== null && `mock exited ${child.exitCode}: ${stderr}`)) - spawnedAt : null;
  // CPU time the process spent until then: unlike the wall time, it does not grow with the other processes on the machine.
  const firstAnswerCpuS = firstAnswer ? readCpuExact(child.pid) : null;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mock exited ${child.exitCode}: ${stderr}`);
    try {
      const health = await fetch(`${adminUrl}/health`);
      if (health.ok && (await health.json()).status === 'ok') break;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  const readyMs = performance.now() - spawnedAt;
  // --workers: CPU is summed over the primary and its workers (their pids are on the start line).
  const pid = extra.includes('--workers') ? [child.pid, ...(await workerPidsOf(logFile, child))] : child.pid;
  return { child, pid, url, adminUrl, logFile, readyMs, firstAnswerMs, firstAnswerCpuS, stop: () => stop(child) };
}

async function workerPidsOf(logFile, child) {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mock exited ${child.exitCode}`);
    const line = readFileSync(logFile, 'utf8').split('\n').find((text) => text.includes('"workerPids"'));
    if (line) return JSON.parse(line).workerPids;
    await sleep(10);
  }
}

async function startBare({ certs, firstAnswer = false }) {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [join(here, 'bare-server.mjs'), certs, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const url = `https://127.0.0.1:${port}/entitlement`;
  const firstAnswerMs = firstAnswer ? (await waitForFirstAnswer(url, certs, () => child.exitCode !== null && `bare server exited ${child.exitCode}`)) - spawnedAt : null;
  const firstAnswerCpuS = firstAnswer ? readCpuExact(child.pid) : null;
  if (!firstAnswer) await once(child.stdout, 'data');
  return { child, pid: child.pid, url, firstAnswerMs, firstAnswerCpuS, stop: () => stop(child) };
}

/** Side A of every pair: bare Node, or (--baseline DIR) the mock built in DIR, started the same way as side B. */
const sideA = baselineRoot
  ? {
      name: 'baseline',
      // BENCH_BASELINE_ARGS: serve options for side A only (with --baseline . : one build, two settings).
      start: (options) =>
        startMock({
          ...options,
          buildRoot: baselineRoot,
          name: `baseline-${options.name ?? 'mock'}`,
          extra: [...(options.extra ?? []), ...(process.env.BENCH_BASELINE_ARGS ?? '').split(' ').filter(Boolean)],
          nodeFlagsText: process.env.BENCH_BASELINE_NODE_FLAGS ?? process.env.BENCH_NODE_FLAGS,
        }),
    }
  : { name: 'bare', start: (options) => startBare(options) };
const sideB = { name: 'mock', start: (options) => startMock(options) };

/**
 * Sends an Entitlement Request every 2 ms (refused connections fail at once) until one is
 * answered with 200; returns the performance.now() of that answer.
 */
async function waitForFirstAnswer(url, certs, exited) {
  const { ca, cert, key } = clientTls(certs);
  const secureContext = tls.createSecureContext({ ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) });
  const body = JSON.stringify({ messageID: randomUUID(), version: 1, contentID: randomUUID() });
  const attempt = () =>
    new Promise((resolve) => {
      const request = https.request(url, { method: 'POST', agent: false, secureContext, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200 ? performance.now() : null));
        response.on('error', () => resolve(null));
      });
      request.on('error', () => resolve(null));
      request.end(body);
    });
  for (;;) {
    const problem = exited();
    if (problem) throw new Error(problem);
    const answeredAt = await attempt();
    if (answeredAt !== null) return answeredAt;
    await sleep(2);
  }
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(timer);
  children.delete(child);
}

/** Runs one load job in its own process (bench/load.mjs, or bench/autocannon.mjs) and returns its report. */
async function load(server, certs, job, script = 'load.mjs') {
  const generator = fork(join(here, script), [], { stdio: 'inherit' });
  children.add(generator);
  generator.send({
    url: server.url,
    serverPid: server.pid,
    tls: clientTls(certs),
    contentIDs: requestContentIDs,
    warmupMs: WARMUP_MS,
    durationMs: WINDOW_MS,
    threads: GENERATOR_THREADS,
    ...job,
  });
  const [reply] = await once(generator, 'message');
  await once(generator, 'exit');
  children.delete(generator);
  if (!reply.ok) throw new Error(`load generator failed: ${reply.error}`);
  const report = reply.result;
  if (report.mismatches > 0 || report.errors > 0)
    console.warn(`  ! ${report.mismatches} mismatches, ${report.errors} errors (first: ${report.firstProblem})`);
  return report;
}

// --- pairs ---------------------------------------------------------------------------------

/**
 * Runs `measureA` and `measureB` alternately, `pairs` times, and for each named figure takes the
 * ratio B/A within each pair: a slow moment of the machine then lands on both sides of one ratio
 * rather than on one side of the comparison. Which side goes first alternates (A B, B A, A B, …):
 * an A/A run (one build on both sides) showed the second of a pair ~8% cheaper and its p99 half,
 * an order effect that would otherwise always favour the mock. Returns every report, and per
 * figure the median ratio with its spread.
 */
async function paired(label, names, measureA, measureB, figures, pairs = PAIRS) {
  const a = [];
  const b = [];
  for (let i = 1; i <= pairs; i++) {
    const order = i % 2 === 1 ? [[names[0], measureA, a], [names[1], measureB, b]] : [[names[1], measureB, b], [names[0], measureA, a]];
    for (const [name, measure, reports] of order) {
      log(`${label}, pair ${i}/${pairs}: ${name}`);
      reports.push(await measure());
    }
  }
  const ratios = {};
  for (const [figure, value] of Object.entries(figures)) ratios[figure] = spreadOf(b.map((report, i) => ratio(value(report), value(a[i]))));
  const shown = Object.entries(ratios).map(([figure, r]) => `${figure} ${fmtRatio(r)}`).join(', ');
  log(`  ${names[1]}/${names[0]}: ${shown}`);
  return { a, b, ratios };
}

/** Median, lowest and highest of a list of ratios (nulls left out). */
function spreadOf(values) {
  const known = values.filter((v) => v !== null && Number.isFinite(v));
  return { median: round(median(known), 3), min: round(Math.min(...known), 3), max: round(Math.max(...known), 3), values: values.map((v) => round(v, 3)) };
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmtRatio(r) {
  return r.median === null ? '–' : `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
}

/** Each field of brief() as its median over the runs, for the table's mock and bare columns. */
function medianBrief(reports) {
  const briefs = reports.map(brief);
  const out = {};
  for (const key of Object.keys(briefs[0])) {
    const values = briefs.map((b) => b[key]).filter((v) => typeof v === 'number');
    out[key] = key === 'mismatches' || key === 'errors' ? values.reduce((n, v) => n + v, 0) : values.length > 0 ? round(median(values), 2) : null;
  }
  return out;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function brief(report) {
  return {
    requestsPerSecond: round(report.requestsPerSecond, 0),
    p50Ms: round(report.latencyMs.p50, 2),
    p99Ms: round(report.latencyMs.p99, 2),
    serverCpuMicrosPerRequest: round(report.serverCpuMicrosPerRequest, 1),
    serverCpuCores: round(report.serverCpuCores, 2),
    completed: report.completed,
    mismatches: report.mismatches,
    errors: report.errors,
    ...(report.mode === 'resume' ? { sessionsReused: report.sessionsReused } : {}),
  };
}

function round(value, digits) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function log(text) {
  const at = ((performance.now() - benchStartedAt) / 1000).toFixed(0).padStart(4);
  console.log(`[${at}s] ${text}`);
}

const cpu = (report) => report.serverCpuMicrosPerRequest;
const p99 = (report) => report.latencyMs.p99;
const rate = (report) => report.requestsPerSecond;
/** The figure's record in results: the medians of each side's runs, every run, and the paired ratios. */
const figureOf = ({ a, b, ratios }) => ({
  [sideA.name]: medianBrief(a),
  mock: medianBrief(b),
  runs: { [sideA.name]: a.map(brief), mock: b.map(brief) },
  ratios,
});

// --- the measurements ----------------------------------------------------------------------

const A = sideA.name;

if (wants('startup')) {
  log(`start-up: process start to the first answered request, ${STARTUP_PAIRS} pairs (${A}, mock), and to /health ok; bundled scenarios, existing certificates`);
  const pairs = await paired(
    'start-up',
    [A, 'mock'],
    async () => {
      const server = await sideA.start({ certs: pki.ec, scenarios: baselineRoot ? join(baselineRoot, 'scenarios') : undefined, name: 'startup', firstAnswer: true });
      await server.stop();
      return server;
    },
    async () => {
      const server = await sideB.start({ certs: pki.ec, scenarios: join(root, 'scenarios'), name: 'startup', firstAnswer: true });
      await server.stop();
      return server;
    },
    { firstAnswer: (server) => server.firstAnswerMs, firstAnswerCpu: (server) => server.firstAnswerCpuS },
    STARTUP_PAIRS,
  );
  const seconds = (servers, key) => servers.map((server) => round(server[key] / 1000, 3));
  results.startup = {
    firstAnswer: { [A]: seconds(pairs.a, 'firstAnswerMs'), mock: seconds(pairs.b, 'firstAnswerMs') },
    firstAnswerMedian: { [A]: round(median(seconds(pairs.a, 'firstAnswerMs')), 3), mock: round(median(seconds(pairs.b, 'firstAnswerMs')), 3) },
    firstAnswerCpu: { [A]: pairs.a.map((server) => server.firstAnswerCpuS), mock: pairs.b.map((server) => server.firstAnswerCpuS) },
    health: seconds(pairs.b, 'readyMs'),
    healthMedian: round(median(seconds(pairs.b, 'readyMs')), 3),
    ratios: pairs.ratios,
  };
  log(`  /health ok, median: mock ${results.startup.healthMedian} s (${results.startup.health.join(', ')})`);
}

if (['keepalive', 'autocannon', 'handshake', 'resume', 'delay'].some(wants)) {
  const a = await sideA.start({ certs: pki.ec, name: 'mock-ec' });
  const mock = await sideB.start({ certs: pki.ec, name: 'mock-ec' });
  if (wants('keepalive')) {
    const job = { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS };
    const pairs = await paired(`keep-alive, ${KEEPALIVE_CONNECTIONS} connections`, [A, 'mock'], () => load(a, pki.ec, job), () => load(mock, pki.ec, job), { cpu, p99, throughput: rate });
    results.keepalive = figureOf(pairs);
  }
  if (wants('autocannon')) {
    // The same with autocannon, a well-kept generator (the kind the reference figures of issue 5 came from).
    const job = { connections: KEEPALIVE_CONNECTIONS };
    const pairs = await paired(`keep-alive with autocannon, ${KEEPALIVE_CONNECTIONS} connections`, [A, 'mock'], () => load(a, pki.ec, job, 'autocannon.mjs'), () => load(mock, pki.ec, job, 'autocannon.mjs'), { throughput: rate, cpu });
    results.keepaliveAutocannon = { generator: pairs.b[0].generator, ...figureOf(pairs) };
  }
  if (wants('handshake')) {
    const job = { mode: 'handshake', connections: HANDSHAKE_CONCURRENCY };
    const pairs = await paired(`full handshakes (ECDSA P-256), ${HANDSHAKE_CONCURRENCY} concurrent`, [A, 'mock'], () => load(a, pki.ec, job), () => load(mock, pki.ec, job), { cpu, throughput: rate });
    results.handshake ??= {};
    results.handshake.ec = figureOf(pairs);
  }
  if (wants('resume')) {
    const job = { mode: 'resume', connections: HANDSHAKE_CONCURRENCY };
    const pairs = await paired(`new connections resuming the TLS session (ECDSA), ${HANDSHAKE_CONCURRENCY} concurrent`, [A, 'mock'], () => load(a, pki.ec, job), () => load(mock, pki.ec, job), { cpu, throughput: rate });
    results.resume = figureOf(pairs);
  }
  if (wants('delay')) {
    log(`delay accuracy: ${DELAY_CONNECTIONS} keep-alive connections on delay: ${DELAY_MS}ms`);
    const switched = await fetch(`${mock.adminUrl}/admin/scenarios/active`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench-delay' }),
    });
    if (!switched.ok) throw new Error(`cannot switch to the delay scenario: ${switched.status}`);
    const report = await load(mock, pki.ec, {
      mode: 'keepalive',
      connections: DELAY_CONNECTIONS,
      durationMs: DELAY_WINDOW_MS,
      // The connections start spread over one delay: 1,000 requests a second arrive steadily,
      // not as 200 at once every 200 ms (which would measure a burst's queue, not the delay).
      staggerMs: DELAY_MS,
      warmupMs: 1000,
      returnLatencies: true,
    });
    const errors = report.latencies.map((ms) => ms - DELAY_MS);
    const at = (q) => errors[Math.min(errors.length - 1, Math.floor(q * errors.length))];
    results.delay = {
      connections: DELAY_CONNECTIONS,
      delayMs: DELAY_MS,
      completed: report.completed,
      mismatches: report.mismatches,
      errors: report.errors,
      errorP50Ms: round(at(0.5), 2),
      errorP99Ms: round(at(0.99), 2),
      errorMaxMs: round(errors[errors.length - 1], 2),
      earliestMs: round(errors[0], 2),
    };
    log(`  ${JSON.stringify(results.delay)}`);
  }
  await mock.stop();
  await a.stop();
}

if (wants('rsa')) {
  const a = await sideA.start({ certs: pki.rsa, name: 'mock-rsa' });
  const mock = await sideB.start({ certs: pki.rsa, name: 'mock-rsa' });
  const job = { mode: 'handshake', connections: HANDSHAKE_CONCURRENCY };
  const pairs = await paired(`full handshakes (RSA-2048), ${HANDSHAKE_CONCURRENCY} concurrent`, [A, 'mock'], () => load(a, pki.rsa, job), () => load(mock, pki.rsa, job), { cpu, throughput: rate });
  results.handshake ??= {};
  results.handshake.rsa = figureOf(pairs);
  await mock.stop();
  await a.stop();
}

if (wants('rules')) {
  // Both sides are this build's mock: one rule (A) against 100k rules (B).
  log(`${RULE_COUNT.toLocaleString('en')}-rule scenario vs one rule`);
  const dir = join(tmp, 'scenarios-100k');
  mkdirSync(dir);
  writeFileSync(join(dir, 'many.yaml'), manyRulesYaml());
  const oneDir = join(tmp, 'scenarios-1');
  mkdirSync(oneDir);
  writeFileSync(join(oneDir, 'one.yaml'), 'rules:\n  - name: allow-all\n    respond: { isAllowed: true }\n');
  const fileMiB = statSync(join(dir, 'many.yaml')).size / 2 ** 20;

  const one = await startMock({ certs: pki.ec, scenarios: oneDir, scenario: 'one', name: 'mock-1-rule' });
  const many = await startMock({ certs: pki.ec, scenarios: dir, scenario: 'many', name: 'mock-100k-rules', extra: ['--no-watch'] });
  log(`  ${RULE_COUNT} rules ready after ${(many.readyMs / 1000).toFixed(2)} s`);
  const job = { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS };
  const pairs = await paired('keep-alive, one rule vs 100k rules', ['1 rule', '100k rules'], () => load(one, pki.ec, job), () => load(many, pki.ec, job), { throughput: rate, cpu });
  const rss = readRss(many.pid);
  await many.stop();
  await one.stop();
  results.rules = {
    ruleCount: RULE_COUNT + PATTERN_RULE_COUNT,
    exactRules: RULE_COUNT,
    patternRules: PATTERN_RULE_COUNT,
    fileMiB: round(fileMiB, 1),
    loadSeconds: round(many.readyMs / 1000, 2),
    oneRuleStartSeconds: round(one.readyMs / 1000, 2),
    rssMiB: rss ? round(rss.rss / 2 ** 20, 0) : null,
    oneRule: medianBrief(pairs.a),
    manyRules: medianBrief(pairs.b),
    runs: { oneRule: pairs.a.map(brief), manyRules: pairs.b.map(brief) },
    ratios: pairs.ratios,
  };
}

if (wants('workers')) {
  // 2 workers against 1 process, both the mock; CPU summed over every process of the group.
  const one = await startMock({ certs: pki.ec, name: 'workers-1' });
  const two = await startMock({ certs: pki.ec, name: 'workers-2', extra: ['--workers', '2'] });
  const keepaliveJob = { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS };
  const handshakeJob = { mode: 'handshake', connections: HANDSHAKE_CONCURRENCY };
  const keepalive = await paired(`--workers 2 / 1 process, keep-alive`, ['1 process', '2 workers'], () => load(one, pki.ec, keepaliveJob), () => load(two, pki.ec, keepaliveJob), { cpu, throughput: rate });
  const handshake = await paired(`--workers 2 / 1 process, full handshakes`, ['1 process', '2 workers'], () => load(one, pki.ec, handshakeJob), () => load(two, pki.ec, handshakeJob), { cpu, throughput: rate });
  const activate = async (name) => {
    const switched = await fetch(`${two.adminUrl}/admin/scenarios/active`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    if (!switched.ok) throw new Error(`cannot switch to ${name}: ${switched.status}`);
  };
  // The same group, alternately a stateless rule and a counted one (each request asks the primary).
  const counted = await paired(
    '--workers 2, counted rule / stateless rule, keep-alive',
    ['stateless', 'counted'],
    async () => (await activate('default'), load(two, pki.ec, keepaliveJob)),
    async () => (await activate('bench-counted'), load(two, pki.ec, keepaliveJob)),
    { cpu },
  );
  const addedMicros = spreadOf(counted.b.map((report, i) => cpu(report) - cpu(counted.a[i])));
  log(`  counted rule through the primary adds ${addedMicros.median} µs of CPU per request (spread ${addedMicros.min}–${addedMicros.max})`);
  results.workers = {
    keepalive: { 'one process': medianBrief(keepalive.a), 'two workers': medianBrief(keepalive.b), ratios: keepalive.ratios },
    handshake: { 'one process': medianBrief(handshake.a), 'two workers': medianBrief(handshake.b), ratios: handshake.ratios },
    counted: { stateless: medianBrief(counted.a), counted: medianBrief(counted.b), addedMicrosPerRequest: addedMicros },
  };
  await Promise.all([one.stop(), two.stop()]);
}

if (wants('workers-load')) {
  // Where the CPU of --workers 2 comes from (named only: node bench/run.mjs workers-load). Driven as
  // hard as the generator can, two workers share the load one process takes alone: each handles
  // about half as many requests a second. For keep-alive requests, then full handshakes:
  // calibration, the group's rate driven so (warm), PER_PROCESS half of it; then three pairs, CPU
  // per request over every process:
  //   A  one process driven as hard as it goes / one process paced at PER_PROCESS (load level alone);
  //   B  one process paced at 80% of PER_PROCESS / two workers paced at twice that in all (the same
  //      rate per process, cores to spare: what the cluster itself adds);
  //   C  one process / two workers, both driven as hard as they go (the workers figure).
  // Beside CPU, the context switches of the servers' event loops per request (bench/proc.mjs).
  const one = await startMock({ certs: pki.ec, name: 'workers-load-1' });
  const two = await startMock({ certs: pki.ec, name: 'workers-load-2', extra: ['--workers', '2'] });
  const switches = (reports) =>
    Object.fromEntries(['voluntary', 'involuntary'].map((kind) => [kind, round(median(reports.map((report) => report.serverContextSwitchesPerRequest?.[kind]).filter((v) => typeof v === 'number')), 4)]));
  const sides = ({ a, b, ratios }, [nameA, nameB]) => ({
    [nameA]: { ...medianBrief(a), contextSwitchesPerRequest: switches(a) },
    [nameB]: { ...medianBrief(b), contextSwitchesPerRequest: switches(b) },
    ratios,
  });
  const investigate = async (label, driven) => {
    await load(two, pki.ec, driven);
    const calibration = await load(two, pki.ec, driven);
    const perProcess = Math.round(calibration.requestsPerSecond / 2);
    log(`${label}: two workers driven: ${Math.round(calibration.requestsPerSecond)} requests/s, ${perProcess} per worker; paced runs from that`);
    const paced = (ratePerSecond) => ({ ...driven, ratePerSecond: Math.round(ratePerSecond) });
    const levelAlone = await paired(`${label}: one process, paced at a worker's share / driven`, ['driven', 'paced'], () => load(one, pki.ec, driven), () => load(one, pki.ec, paced(perProcess)), { cpu, throughput: rate });
    const clusterAlone = await paired(`${label}: the same rate per process, 2 workers / 1 process`, ['one process', 'two workers'], () => load(one, pki.ec, paced(0.8 * perProcess)), () => load(two, pki.ec, paced(1.6 * perProcess)), { cpu, throughput: rate });
    const both = await paired(`${label}: driven, 2 workers / 1 process`, ['one process', 'two workers'], () => load(one, pki.ec, driven), () => load(two, pki.ec, driven), { cpu, throughput: rate });
    return {
      perProcessRequestsPerSecond: perProcess,
      pacedOverDriven: sides(levelAlone, ['driven', 'paced']),
      sameRatePerProcess: sides(clusterAlone, ['one process', 'two workers']),
      driven: sides(both, ['one process', 'two workers']),
    };
  };
  results.workersLoad = {
    keepalive: await investigate('keep-alive', { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS }),
    handshake: await investigate('full handshakes', { mode: 'handshake', connections: HANDSHAKE_CONCURRENCY }),
    schedulingPolicy: process.env.NODE_CLUSTER_SCHED_POLICY ?? 'rr',
    loadAverage: os.loadavg().map((l) => round(l, 1)),
  };
  await Promise.all([one.stop(), two.stop()]);
}

if (wants('store')) {
  // --store (issue 17), both sides this build's mock: a stateless rule without and with a store
  // (it must never touch Redis: the same CPU), then a counted rule (times:) whose every answer
  // is one atomic count in Redis, against the stateless rule with the same store.
  log('--store: stateless rule without / with a store; counted rule through Redis');
  const redis = await startRedisServer();
  const dir = join(tmp, 'scenarios-store');
  mkdirSync(dir);
  writeFileSync(join(dir, 'stateless.yaml'), 'rules:\n  - name: allow-all\n    respond: { isAllowed: true }\n');
  writeFileSync(join(dir, 'counted.yaml'), 'rules:\n  - name: counted\n    times: 1000000000\n    respond: { isAllowed: true }\n');
  const job = { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS };
  const plain = await startMock({ certs: pki.ec, scenarios: dir, scenario: 'stateless', name: 'mock-no-store', extra: ['--no-watch'] });
  // Two Redis databases: each mock keeps its own active scenario.
  const stateless = await startMock({ certs: pki.ec, scenarios: dir, scenario: 'stateless', name: 'mock-store-stateless', extra: ['--no-watch', '--store', `${redis.url}/0`] });
  const counted = await startMock({ certs: pki.ec, scenarios: dir, scenario: 'counted', name: 'mock-store-counted', extra: ['--no-watch', '--store', `${redis.url}/1`] });
  const withoutStore = await paired('keep-alive, stateless rule', ['no store', '--store'], () => load(plain, pki.ec, job), () => load(stateless, pki.ec, job), { cpu, throughput: rate });
  /** The counted load, with Redis's own CPU per request over the same load (warm-up included, so per request sent). */
  const countedLoad = async () => {
    const before = readCpu(redis.pid);
    const report = await load(counted, pki.ec, job);
    const redisSeconds = readCpu(redis.pid) - before;
    report.redisCpuMicrosPerRequest = (redisSeconds * 1e6) / (report.requestsPerSecond * ((WARMUP_MS + WINDOW_MS) / 1000));
    return report;
  };
  const throughRedis = await paired('keep-alive, stateless vs counted rule, both with --store', ['stateless', 'counted'], () => load(stateless, pki.ec, job), countedLoad, { cpu, throughput: rate, p50: (report) => report.latencyMs.p50 });
  await Promise.all([plain.stop(), stateless.stop(), counted.stop()]);
  await redis.stop();
  const added = throughRedis.b.map((report, i) => report.serverCpuMicrosPerRequest - throughRedis.a[i].serverCpuMicrosPerRequest);
  results.store = {
    stateless: { noStore: medianBrief(withoutStore.a), store: medianBrief(withoutStore.b), runs: { noStore: withoutStore.a.map(brief), store: withoutStore.b.map(brief) }, ratios: withoutStore.ratios },
    counted: { stateless: medianBrief(throughRedis.a), counted: medianBrief(throughRedis.b), runs: { stateless: throughRedis.a.map(brief), counted: throughRedis.b.map(brief) }, ratios: throughRedis.ratios },
    addedMockMicrosPerRequest: round(median(added), 1),
    redisCpuMicrosPerRequest: round(median(throughRedis.b.map((report) => report.redisCpuMicrosPerRequest)), 1),
  };
  log(`  counted rule through Redis: +${results.store.addedMockMicrosPerRequest} µs of the mock's CPU per request, ${results.store.redisCpuMicrosPerRequest} µs of Redis's`);
}

/** Debian's redis-server on a free port, no persistence; ready when it says so. */
async function startRedisServer() {
  const port = await freePort();
  const child = spawn(process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  let output = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${output}`)));
  });
  return { pid: child.pid, url: `redis://127.0.0.1:${port}`, stop: () => stop(child) };
}

if (wants('memory')) {
  const shape = `${MIXED_KEEPALIVE_CONNECTIONS} keep-alive clients and ${MIXED_HANDSHAKE_CONNECTIONS} with a new TLS connection per request`;
  const memoryJob = {
    mode: 'mixed',
    connections: MIXED_KEEPALIVE_CONNECTIONS,
    handshakeConnections: MIXED_HANDSHAKE_CONNECTIONS,
    warmupMs: 0,
    durationMs: undefined,
    requests: MEMORY_REQUESTS,
    sampleMemory: true,
  };
  const mib = (bytes) => round(bytes / 2 ** 20, 1);
  /** Peak RSS and the floors at the middle and end of one server's run of the mixed load. */
  const measureMemory = async (server) => {
    const report = await load(server, pki.ec, memoryJob);
    const samples = report.memory.samples;
    // RSS saws up and down with V8's full collections, so a single reading says more about the
    // phase than about growth. "At the middle" and "at the end" are the floors the saw comes
    // back to: the lowest RSS of the second and of the last quarter of the requests. A leak
    // raises the floor.
    const lowest = (from, to) =>
      Math.min(...samples.filter((s) => s.completed >= from * MEMORY_REQUESTS && s.completed <= to * MEMORY_REQUESTS).map((s) => s.rssBytes));
    const middle = lowest(0.25, 0.5);
    const end = lowest(0.75, 1);
    await server.stop();
    return {
      peakRssMiB: mib(Math.max(report.memory.final?.peak ?? 0, ...samples.map((s) => s.rssBytes))),
      middleRssMiB: mib(middle),
      endRssMiB: mib(end),
      growthMiddleToEnd: round(end / middle - 1, 3),
      requests: report.completed,
      newConnections: report.newConnections,
      requestsPerSecond: round(report.requestsPerSecond, 0),
      serverCpuMicrosPerRequest: round(report.serverCpuMicrosPerRequest, 1),
      mismatches: report.mismatches,
      errors: report.errors,
      rssCurveMiB: samples.filter((_, i) => i % 10 === 0).map((s) => [s.completed, mib(s.rssBytes)]),
    };
  };
  results.memory = { shape, requests: MEMORY_REQUESTS };
  log(`memory, ${A}: ${MEMORY_REQUESTS.toLocaleString('en')} requests from ${shape}`);
  results.memory[A] = await measureMemory(await sideA.start({ certs: pki.ec, name: 'memory' }));
  for (const launch of LAUNCHES) {
    log(`memory, mock started ${launch === 'bin' ? 'as the bin' : launch === 'node' ? 'as node bin/entitlement-mock.js' : 'by startMock() in a node process'}: the same, default journal size`);
    results.memory[launch] = await measureMemory(await startMock({ certs: pki.ec, name: `memory-${launch}`, launch }));
  }
  for (const who of [A, ...LAUNCHES]) {
    const { rssCurveMiB: _curve, ...shown } = results.memory[who];
    log(`  ${who}: ${JSON.stringify(shown)}`);
  }
}

// --- report --------------------------------------------------------------------------------

results.totalSeconds = round((performance.now() - benchStartedAt) / 1000, 0);
results.machine.loadAverageAtEnd = os.loadavg().map((l) => round(l, 1));
results.verdicts = verdicts(results);
const table = renderTable(results);
console.log(`\n${table}\n`);
if (parts === null && !quick && !baselineRoot) {
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(here, 'chart.svg'), renderChart(results));
  updateReadme(table, results);
  console.log('wrote bench/results.json, bench/chart.svg and the results section of bench/README.md');
} else {
  writeFileSync(join(tmp, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('partial, quick or baseline run: wrote bench/tmp/results.json (bench/README.md and results.json are left alone)');
}
const missed = results.verdicts.filter((v) => v.met === false);
if (missed.length > 0) console.log(`targets missed: ${missed.map((v) => v.name).join(', ')}`);

// --- helpers for the report ----------------------------------------------------------------

/**
 * The 100k-rule scenario, written in JSON syntax (JSON is YAML, and the file is a .yaml):
 * the loader reads a plain-JSON document with JSON.parse and only re-parses it as YAML
 * to position an error, which is what docs/scenarios.md advises for generated scenarios.
 * (The same rules in YAML flow style take ~4.3 s to load: the positioned YAML parse.)
 */
function manyRulesYaml() {
  const rules = [];
  const every = Math.floor(RULE_COUNT / PATTERN_RULE_COUNT);
  let pattern = 0;
  allContentIDs.forEach((contentID, i) => {
    if (i % every === 0 && pattern < PATTERN_RULE_COUNT) {
      // Globs and regexes that never match a GUID, so every request walks past them.
      const n = pattern++;
      if (n % 3 === 0) rules.push({ name: `glob-${n}`, match: { contentID: `series-${n}-*` }, respond: { isAllowed: false, error: 403 } });
      else if (n % 3 === 1) rules.push({ name: `regex-${n}`, match: { contentID: { regex: `^trailer-${n}-[0-9]+$` } }, respond: { isAllowed: false, error: 403 } });
      else rules.push({ name: `cookie-${n}`, match: { customerCookie: { regex: `^tenant-${n}$` }, contentID: `pack-${n}-?` }, respond: { isAllowed: false, error: 451 } });
    }
    rules.push({ match: { contentID }, respond: {} });
  });
  const scenario = {
    description: '100,000 exact contentID rules with a few hundred glob and regex rules among them',
    defaults: { isAllowed: true },
    rules,
  };
  return `${JSON.stringify(scenario)}\n`;
}

function ratio(a, b) {
  return a === undefined || b === undefined || a === null || b === null || b === 0 ? null : a / b;
}

/**
 * Every target, judged on the median of the paired ratios (or on the figure itself where it has
 * no pair: load time, delay, memory). With --baseline the ratios compare two builds: no verdict.
 */
function verdicts(r) {
  const list = [];
  const judged = baselineRoot === null;
  const add = (name, spread, target, met, unit = '') =>
    list.push({ name, value: spread.median, min: spread.min ?? null, max: spread.max ?? null, target, unit, met: spread.median === null || !judged ? null : met(spread.median) });
  const atMost = (limit) => (v) => v <= limit;
  const atLeast = (limit) => (v) => v >= limit;
  const single = (value) => ({ median: value ?? null });
  if (r.keepalive) {
    add(`server CPU per keep-alive request mock/${A}`, r.keepalive.ratios.cpu, `<= ${TARGETS.keepaliveCpuRatio}`, atMost(TARGETS.keepaliveCpuRatio), 'x');
    add(`p99 keep-alive latency mock/${A}`, r.keepalive.ratios.p99, `<= ${TARGETS.keepaliveP99Ratio}`, atMost(TARGETS.keepaliveP99Ratio), 'x');
  }
  if (r.keepaliveAutocannon)
    add(`keep-alive throughput mock/${A}, autocannon (issue 5)`, r.keepaliveAutocannon.ratios.throughput, `>= ${TARGETS.keepaliveThroughputRatio}`, atLeast(TARGETS.keepaliveThroughputRatio), 'x');
  for (const [kind, label] of [['ec', 'ECDSA'], ['rsa', 'RSA']]) {
    const hs = r.handshake?.[kind];
    if (!hs) continue;
    add(`server CPU per full handshake mock/${A} (${label})`, hs.ratios.cpu, `<= ${TARGETS.handshakeCpuRatio}`, atMost(TARGETS.handshakeCpuRatio), 'x');
    add(`full-handshake rate mock/${A} (${label}, issue 5)`, hs.ratios.throughput, `>= ${TARGETS.handshakeRatio}`, atLeast(TARGETS.handshakeRatio), 'x');
  }
  if (r.resume) {
    add(`server CPU per resumed connection mock/${A}`, r.resume.ratios.cpu, `<= ${TARGETS.resumeCpuRatio}`, atMost(TARGETS.resumeCpuRatio), 'x');
    const reused = r.resume.runs.mock.reduce((n, run) => n + run.sessionsReused, 0) / Math.max(1, r.resume.runs.mock.reduce((n, run) => n + run.completed, 0));
    add('TLS sessions resumed by the mock', single(round(reused, 4)), '> 0.99 of connections', (v) => v > 0.99);
  }
  if (r.rules) {
    add('100k-rule throughput / one-rule', r.rules.ratios.throughput, `>= ${TARGETS.rulesThroughputRatio}`, atLeast(TARGETS.rulesThroughputRatio), 'x');
    add('100k-rule file start to ready', single(r.rules.loadSeconds), `<= ${TARGETS.rulesLoadSeconds} s`, atMost(TARGETS.rulesLoadSeconds), ' s');
  }
  if (r.store) {
    add('server CPU per request, stateless rule, --store / no store', r.store.stateless.ratios.cpu, `<= ${TARGETS.storeStatelessCpuRatio} (equal: it never touches Redis)`, atMost(TARGETS.storeStatelessCpuRatio), 'x');
    add("counted rule through Redis: added mock CPU per request", single(r.store.addedMockMicrosPerRequest), '(reported)', () => true, ' µs');
  }
  if (r.delay) add('delay p99 error', single(r.delay.errorP99Ms), `<= ${TARGETS.delayP99ErrorMs} ms`, (v) => v <= TARGETS.delayP99ErrorMs && r.delay.earliestMs >= 0, ' ms');
  if (r.memory) {
    for (const launch of ['bin', 'node']) {
      const m = r.memory[launch];
      add(`peak RSS, mixed load, mock started ${launch === 'bin' ? 'as the bin' : 'as node bin/entitlement-mock.js'}`, single(m.peakRssMiB), `<= ${TARGETS.peakRssMiB} MiB`, atMost(TARGETS.peakRssMiB), ' MiB');
      add(`RSS growth middle to end (${launch})`, single(m.growthMiddleToEnd), `<= ${TARGETS.rssGrowthMiddleToEnd * 100}%`, atMost(TARGETS.rssGrowthMiddleToEnd));
    }
  }
  if (r.startup) {
    add(`start to first answered request mock/${A}`, r.startup.ratios.firstAnswer, `<= ${TARGETS.firstAnswerRatio}`, atMost(TARGETS.firstAnswerRatio), 'x');
    add('start-up to /health ok (median)', single(r.startup.healthMedian), `<= ${TARGETS.startupSeconds} s`, atMost(TARGETS.startupSeconds), ' s');
  }
  if (r.workers) {
    add('server CPU per keep-alive request, 2 workers / 1 process', r.workers.keepalive.ratios.cpu, `<= ${TARGETS.workersCpuRatio}`, atMost(TARGETS.workersCpuRatio), 'x');
    add('server CPU per full handshake, 2 workers / 1 process', r.workers.handshake.ratios.cpu, `<= ${TARGETS.workersCpuRatio}`, atMost(TARGETS.workersCpuRatio), 'x');
    add('CPU a counted rule adds per request through the primary (2 workers)', r.workers.counted.addedMicrosPerRequest, '(reported)', () => true, ' µs');
  }
  const runsOf = (figure) => (figure ? Object.values(figure.runs).flat() : []);
  const bad = [...runsOf(r.keepalive), ...runsOf(r.keepaliveAutocannon), ...runsOf(r.resume), ...Object.values(r.handshake ?? {}).flatMap(runsOf)]
    .concat(r.rules ? Object.values(r.rules.runs).flat() : [], r.store ? [...Object.values(r.store.stateless.runs), ...Object.values(r.store.counted.runs)].flat() : [], r.delay ? [r.delay] : [], r.memory ? [A, ...LAUNCHES].map((who) => r.memory[who]) : []);
  const mismatches = bad.reduce((n, m) => n + m.mismatches + m.errors, 0);
  list.push({ name: 'replies not echoing the messageID, or failed', value: mismatches, target: '0', unit: '', met: mismatches === 0 });
  return list;
}

function renderTable(r) {
  const rows = [];
  const fmt = (v, unit = '') => (v === null || v === undefined ? '–' : `${typeof v === 'number' ? v.toLocaleString('en') : v}${unit}`);
  const spread = (s) => (s === undefined || s.median === null ? ['', ''] : [`**${s.median.toFixed(2)}×**`, `${s.min.toFixed(2)}–${s.max.toFixed(2)}`]);
  const pair = (label, mock, other, unit, s, target) => rows.push([label, fmt(mock, unit), fmt(other, unit), ...spread(s), target]);
  if (r.keepalive) {
    const { mock, ratios } = r.keepalive;
    const other = r.keepalive[A];
    pair(`keep-alive, ${KEEPALIVE_CONNECTIONS} conns (bench/load.mjs): server CPU per request`, mock.serverCpuMicrosPerRequest, other.serverCpuMicrosPerRequest, ' µs', ratios.cpu, `≤ ${TARGETS.keepaliveCpuRatio}×`);
    pair('  p99 latency', mock.p99Ms, other.p99Ms, ' ms', ratios.p99, `≤ ${TARGETS.keepaliveP99Ratio}×`);
    pair('  req/s (= 1 / CPU per request: the generator saturates either server)', mock.requestsPerSecond, other.requestsPerSecond, '', ratios.throughput, '');
    rows.push(['  p50 latency', fmt(mock.p50Ms, ' ms'), fmt(other.p50Ms, ' ms'), '', '', '']);
  }
  if (r.keepaliveAutocannon) {
    const { mock, ratios, generator } = r.keepaliveAutocannon;
    const other = r.keepaliveAutocannon[A];
    pair(`keep-alive req/s, ${KEEPALIVE_CONNECTIONS} conns, ${generator}`, mock.requestsPerSecond, other.requestsPerSecond, '', ratios.throughput, `≥ ${TARGETS.keepaliveThroughputRatio}× (issue 5)`);
    rows.push(['  p50 / p99 latency (autocannon counts whole ms)', `${mock.p50Ms} / ${mock.p99Ms} ms`, `${other.p50Ms} / ${other.p99Ms} ms`, '', '', '']);
  }
  for (const [kind, label] of [['ec', 'ECDSA P-256'], ['rsa', 'RSA-2048']]) {
    const hs = r.handshake?.[kind];
    if (!hs) continue;
    pair(`full handshake, ${label} (${HANDSHAKE_CONCURRENCY} conc.): server CPU per connection`, hs.mock.serverCpuMicrosPerRequest, hs[A].serverCpuMicrosPerRequest, ' µs', hs.ratios.cpu, `≤ ${TARGETS.handshakeCpuRatio}×`);
    pair('  handshakes/s', hs.mock.requestsPerSecond, hs[A].requestsPerSecond, '', hs.ratios.throughput, `≥ ${TARGETS.handshakeRatio}× (issue 5)`);
  }
  if (r.resume) {
    pair(`resumed TLS session, ECDSA (${HANDSHAKE_CONCURRENCY} conc.): server CPU per connection`, r.resume.mock.serverCpuMicrosPerRequest, r.resume[A].serverCpuMicrosPerRequest, ' µs', r.resume.ratios.cpu, `≤ ${TARGETS.resumeCpuRatio}×`);
    pair('  connections/s', r.resume.mock.requestsPerSecond, r.resume[A].requestsPerSecond, '', r.resume.ratios.throughput, '');
  }
  if (r.rules) {
    const many = r.rules.ruleCount.toLocaleString('en');
    rows.push([`mock with ${many} rules / with 1 rule, keep-alive req/s`, `${fmt(r.rules.manyRules.requestsPerSecond)} / ${fmt(r.rules.oneRule.requestsPerSecond)}`, '', ...spread(r.rules.ratios.throughput), `≥ ${TARGETS.rulesThroughputRatio}×`]);
    rows.push([`  CPU per request, ${many} rules / 1 rule`, `${fmt(r.rules.manyRules.serverCpuMicrosPerRequest)} / ${fmt(r.rules.oneRule.serverCpuMicrosPerRequest)} µs`, '', ...spread(r.rules.ratios.cpu), '']);
    rows.push([`  start to ready with the ${many}-rule file (${r.rules.fileMiB} MiB) / with 1 rule`, `${fmt(r.rules.loadSeconds, ' s')} / ${fmt(r.rules.oneRuleStartSeconds, ' s')}`, '', '', '', `≤ ${TARGETS.rulesLoadSeconds} s`]);
  }
  if (r.store) {
    const { stateless, counted } = r.store;
    rows.push(['--store, stateless rule: server CPU per request, with / without a store', `${fmt(stateless.store.serverCpuMicrosPerRequest)} / ${fmt(stateless.noStore.serverCpuMicrosPerRequest)} µs`, '', ...spread(stateless.ratios.cpu), `≤ ${TARGETS.storeStatelessCpuRatio}× (equal)`]);
    rows.push(['  req/s with / without a store', `${fmt(stateless.store.requestsPerSecond)} / ${fmt(stateless.noStore.requestsPerSecond)}`, '', ...spread(stateless.ratios.throughput), '']);
    rows.push(['--store, counted rule (one Redis count per request) / stateless rule: server CPU per request', `${fmt(counted.counted.serverCpuMicrosPerRequest)} / ${fmt(counted.stateless.serverCpuMicrosPerRequest)} µs`, '', ...spread(counted.ratios.cpu), '']);
    rows.push(['  added per request: the mock\'s CPU; Redis\'s CPU', `+${fmt(r.store.addedMockMicrosPerRequest)} µs; ${fmt(r.store.redisCpuMicrosPerRequest)} µs`, '', '', '', '(reported)']);
    rows.push(['  req/s; p50 latency, counted / stateless', `${fmt(counted.counted.requestsPerSecond)} / ${fmt(counted.stateless.requestsPerSecond)}; ${fmt(counted.counted.p50Ms)} / ${fmt(counted.stateless.p50Ms)} ms`, '', ...spread(counted.ratios.throughput), '']);
  }
  if (r.delay) {
    rows.push([`delay ${DELAY_MS} ms, ${DELAY_CONNECTIONS} conns: observed − ${DELAY_MS} ms, p50 / p99 (one run)`, `${fmt(r.delay.errorP50Ms)} / ${fmt(r.delay.errorP99Ms)} ms`, '', '', '', `p99 ≤ ${TARGETS.delayP99ErrorMs} ms`]);
  }
  if (r.memory) {
    const other = r.memory[A];
    const launchLabel = { bin: 'as the bin (npm start, npx, the image)', node: 'as `node bin/entitlement-mock.js`', 'in-process': 'by startMock() in a node process' };
    for (const launch of LAUNCHES) {
      const m = r.memory[launch];
      rows.push([`peak RSS, ${m.requests.toLocaleString('en')} requests mixed (${r.memory.shape}), mock started ${launchLabel[launch]}`, fmt(m.peakRssMiB, ' MiB'), fmt(other.peakRssMiB, ' MiB'), '', '', launch === 'in-process' ? '(reported)' : `≤ ${TARGETS.peakRssMiB} MiB`]);
      rows.push(['  RSS at the middle → end (lowest of the 2nd → of the last quarter)', `${fmt(m.middleRssMiB)} → ${fmt(m.endRssMiB)} MiB`, '', '', '', 'flat (≤ +10%)']);
    }
    rows.push(['  server CPU per request, mixed (bin)', fmt(r.memory.bin.serverCpuMicrosPerRequest, ' µs'), fmt(other.serverCpuMicrosPerRequest, ' µs'), '', '', '']);
  }
  if (r.startup) {
    pair(`start-up: process start to the first answered request (median of ${r.startup.firstAnswer.mock.length})`, r.startup.firstAnswerMedian.mock, r.startup.firstAnswerMedian[A], ' s', r.startup.ratios.firstAnswer, `≤ ${TARGETS.firstAnswerRatio}×`);
    if (r.startup.ratios.firstAnswerCpu)
      pair('start-up: CPU time of the process until its first answer (all its threads; not judged)', round(median(r.startup.firstAnswerCpu.mock), 3), round(median(r.startup.firstAnswerCpu[A]), 3), ' s', r.startup.ratios.firstAnswerCpu, '');
    rows.push(['start-up: process start to /health ok (median)', fmt(r.startup.healthMedian, ' s'), '', '', '', `≤ ${TARGETS.startupSeconds} s`]);
  }
  if (r.workers) {
    const { keepalive, handshake, counted } = r.workers;
    rows.push(['--workers 2 (mock column) / 1 process (other column), keep-alive: server CPU per request, all processes', fmt(keepalive['two workers'].serverCpuMicrosPerRequest, ' µs'), fmt(keepalive['one process'].serverCpuMicrosPerRequest, ' µs'), ...spread(keepalive.ratios.cpu), `≤ ${TARGETS.workersCpuRatio}×`]);
    rows.push(['  req/s', fmt(keepalive['two workers'].requestsPerSecond), fmt(keepalive['one process'].requestsPerSecond), ...spread(keepalive.ratios.throughput), '']);
    rows.push(['--workers 2 / 1 process, full handshake: server CPU per connection, all processes', fmt(handshake['two workers'].serverCpuMicrosPerRequest, ' µs'), fmt(handshake['one process'].serverCpuMicrosPerRequest, ' µs'), ...spread(handshake.ratios.cpu), `≤ ${TARGETS.workersCpuRatio}×`]);
    rows.push(['  handshakes/s', fmt(handshake['two workers'].requestsPerSecond), fmt(handshake['one process'].requestsPerSecond), ...spread(handshake.ratios.throughput), '']);
    rows.push(['--workers 2: a counted rule (asks the primary) / a stateless rule, CPU per request', `${fmt(counted.counted.serverCpuMicrosPerRequest)} / ${fmt(counted.stateless.serverCpuMicrosPerRequest)} µs`, '', `+${counted.addedMicrosPerRequest.median} µs`, `${counted.addedMicrosPerRequest.min}–${counted.addedMicrosPerRequest.max} µs`, '(reported)']);
  }
  const otherName = A === 'bare' ? 'bare Node' : 'baseline';
  const header = ['measure', 'mock (median)', `${otherName} (median)`, `mock/${A}: median of paired ratios`, 'spread (lowest–highest ratio)', 'target'];
  const lines = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  const verdictLines = r.verdicts.map(
    (v) => `- ${v.met === true ? 'met' : v.met === false ? '**MISSED**' : 'n/a'}: ${v.name} = ${v.value}${v.unit}${v.min !== null && v.min !== undefined ? ` (spread ${v.min}–${v.max})` : ''} (target ${v.target})`,
  );
  return `${lines.join('\n')}\n\n${verdictLines.join('\n')}`;
}

function updateReadme(table, r) {
  const readme = join(here, 'README.md');
  if (!existsSync(readme)) return;
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < 0) return;
  const section =
    `${start}\nMeasured ${r.date.slice(0, 10)} on ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node} (${r.machine.platform}); ` +
    `${r.settings.pairs} pairs per figure (${r.settings.startupPairs} for start-up); load average ${r.machine.loadAverageAtStart[0]} at the start, ` +
    `${r.machine.loadAverageAtEnd[0]} at the end; bench took ${r.totalSeconds} s.\n\n${table}\n\n![throughput and p99 latency, mock vs bare](chart.svg)\n${end}`;
  writeFileSync(readme, text.slice(0, a) + section + text.slice(b + end.length));
}
