/**
 * `npm run bench`: measures the mock against a bare Node https server in the same run
 * (issue 5) and writes bench/results.json, bench/chart.svg and the results section of
 * bench/README.md. Expects a build in dist/ (the npm script builds first).
 *
 *   node bench/run.mjs [--quick] [--only keepalive,handshake,resume,rsa,delay,rules,memory,startup]
 *
 * Each server runs as its own child process and the load generator as another
 * (bench/load.mjs), so /proc/<pid>/stat gives each server's own CPU time.
 */
import { spawn, fork, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdirSync, openSync, closeSync, rmSync, writeFileSync, readFileSync, readdirSync, copyFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import { readRss } from './proc.mjs';
import { renderChart } from './chart.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const tmp = join(here, 'tmp');
const cli = join(root, 'bin', 'entitlement-mock.js');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1].split(',')) : null;
const wants = (part) => only === null || only.has(part);

/** Seconds per measurement window (and warm-up before it). */
const WINDOW_MS = quick ? 3000 : 8000;
const WARMUP_MS = quick ? 1000 : 2000;
const KEEPALIVE_CONNECTIONS = 50;
const KEEPALIVE_ROUNDS = 2;
const threadsAt = args.indexOf('--threads');
/** Load generator threads: one per core the server does not use. */
const GENERATOR_THREADS = threadsAt >= 0 ? Number(args[threadsAt + 1]) : Math.max(1, os.cpus().length - 1);
const HANDSHAKE_CONCURRENCY = 20;
const DELAY_CONNECTIONS = 200;
const DELAY_MS = 200;
const DELAY_WINDOW_MS = quick ? 4000 : 10_000;
const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? (quick ? 60_000 : 300_000));
const RULE_COUNT = 100_000;
const PATTERN_RULE_COUNT = 300;
const STARTUP_RUNS = quick ? 5 : 9;
/** The memory figure's load: keep-alive clients and clients with a new TLS connection per request, at the same time. */
const MIXED_KEEPALIVE_CONNECTIONS = 40;
const MIXED_HANDSHAKE_CONNECTIONS = 10;

const TARGETS = {
  keepaliveThroughputRatio: 0.8,
  cpuPerRequestRatio: 2,
  handshakeRatio: 0.9,
  rulesThroughputRatio: 0.9,
  rulesLoadSeconds: 3,
  delayP99ErrorMs: 10,
  peakRssMiB: 150,
  rssGrowthMiddleToEnd: 0.1,
  startupSeconds: 0.5,
  firstAnswerRatio: 1.3,
};

if (!existsSync(join(root, 'dist', 'cli', 'entry.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first (npm run bench does)');
  process.exit(1);
}

rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const benchStartedAt = performance.now();
const children = new Set();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const results = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', node: process.version, platform: `${os.platform()} ${os.release()}` },
  settings: { windowMs: WINDOW_MS, warmupMs: WARMUP_MS, keepaliveConnections: KEEPALIVE_CONNECTIONS, keepaliveRounds: KEEPALIVE_ROUNDS, handshakeConcurrency: HANDSHAKE_CONCURRENCY, generatorThreads: GENERATOR_THREADS, quick },
  targets: TARGETS,
};

// --- fixtures ------------------------------------------------------------------------------

const pki = { ec: join(tmp, 'pki-ec'), rsa: join(tmp, 'pki-rsa') };
for (const [keyType, dir] of Object.entries(pki)) {
  execFileSync(process.execPath, [cli, 'certs', '--out', dir, '--key-type', keyType], { stdio: 'ignore' });
}
const clientTls = (dir) => ({ ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') });

// The bundled scenarios plus one with a delay, so one mock can switch to it.
const scenarioDir = join(tmp, 'scenarios');
mkdirSync(scenarioDir);
for (const file of readdirSync(join(root, 'scenarios'))) copyFileSync(join(root, 'scenarios', file), join(scenarioDir, file));
writeFileSync(join(scenarioDir, 'bench-delay.yaml'), `description: every answer ${DELAY_MS} ms late\nrules:\n  - name: late\n    respond: { isAllowed: true, delay: ${DELAY_MS}ms }\n`);

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

/** Starts the mock as `entitlement-mock serve` with stdout in a file (as in a container), at the default log level. */
async function startMock({ certs, scenarios = scenarioDir, scenario = 'default', extra = [], name = 'mock', firstAnswer = false }) {
  const [port, adminPort] = [await freePort(), await freePort()];
  const logFile = join(tmp, `${name}.log`);
  const out = openSync(process.env.BENCH_MOCK_STDOUT ?? logFile, 'w');
  const spawnedAt = performance.now();
  // As users run it: the bin itself, whose first line starts node with the mock's heap flags
  // (BENCH_NODE_FLAGS: node with these flags instead).
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    nodeFlags.length > 0 ? process.execPath : cli,
    [...nodeFlags, ...(nodeFlags.length > 0 ? [cli] : []), 'serve', '--scenarios', scenarios, '--scenario', scenario, '--certs', certs, '--host', '127.0.0.1', '--port', String(port),
      '--admin-host', '127.0.0.1', '--admin-port', String(adminPort), ...extra],
    { cwd: root, stdio: ['ignore', out, 'pipe'], env: { ...process.env, EM_LOG_LEVEL: 'info' } },
  );
  closeSync(out);
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const url = `https://127.0.0.1:${port}/entitlement`;
  // Start to first answered request: polled the same way as the bare server's.
  const firstAnswerMs = firstAnswer ? (await waitForFirstAnswer(url, certs, () => child.exitCode !== null && `mock exited ${child.exitCode}: ${stderr}`)) - spawnedAt : null;
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
  return { child, pid: child.pid, url, adminUrl, logFile, readyMs, firstAnswerMs, stop: () => stop(child) };
}

async function startBare(certs, { firstAnswer = false } = {}) {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [join(here, 'bare-server.mjs'), certs, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const url = `https://127.0.0.1:${port}/entitlement`;
  const firstAnswerMs = firstAnswer ? (await waitForFirstAnswer(url, certs, () => child.exitCode !== null && `bare server exited ${child.exitCode}`)) - spawnedAt : null;
  if (!firstAnswer) await once(child.stdout, 'data');
  return { child, pid: child.pid, url, firstAnswerMs, stop: () => stop(child) };
}

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
  if (value === null || value === undefined) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function log(text) {
  const at = ((performance.now() - benchStartedAt) / 1000).toFixed(0).padStart(4);
  console.log(`[${at}s] ${text}`);
}

// --- the measurements ----------------------------------------------------------------------

if (wants('startup')) {
  log(`start-up: process start to the first answered request (mock and bare, alternating, ${STARTUP_RUNS} runs each) and to /health ok; bundled scenarios, existing certificates`);
  const firstAnswer = { mock: [], bare: [] };
  const health = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const bare = await startBare(pki.ec, { firstAnswer: true });
    firstAnswer.bare.push(bare.firstAnswerMs / 1000);
    await bare.stop();
    const mock = await startMock({ certs: pki.ec, scenarios: join(root, 'scenarios'), name: 'startup', firstAnswer: true });
    firstAnswer.mock.push(mock.firstAnswerMs / 1000);
    health.push(mock.readyMs / 1000);
    await mock.stop();
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rounded = (values) => values.map((t) => round(t, 3));
  results.startup = {
    seconds: rounded(health),
    median: round(median(health), 3),
    firstAnswer: {
      mockSeconds: rounded(firstAnswer.mock),
      bareSeconds: rounded(firstAnswer.bare),
      mockMedian: round(median(firstAnswer.mock), 3),
      bareMedian: round(median(firstAnswer.bare), 3),
    },
  };
  log(`  first answer, median: mock ${results.startup.firstAnswer.mockMedian} s (${results.startup.firstAnswer.mockSeconds.join(', ')}), bare ${results.startup.firstAnswer.bareMedian} s (${results.startup.firstAnswer.bareSeconds.join(', ')})`);
  log(`  /health ok, median: mock ${results.startup.median} s (${results.startup.seconds.join(', ')})`);
}

if (wants('keepalive') || wants('handshake') || wants('resume') || wants('delay')) {
  const bare = await startBare(pki.ec);
  const mock = await startMock({ certs: pki.ec, name: 'mock-ec' });
  if (wants('keepalive')) {
    // Alternating rounds, the best of each side kept: other load on the machine only ever slows a round down.
    const rounds = { bare: [], mock: [] };
    for (let round = 1; round <= KEEPALIVE_ROUNDS; round++) {
      for (const [name, server] of [['bare', bare], ['mock', mock]]) {
        log(`keep-alive, ${KEEPALIVE_CONNECTIONS} connections, round ${round}: ${name}`);
        rounds[name].push(await load(server, pki.ec, { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS }));
      }
    }
    const best = (reports) => reports.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    results.keepalive = {
      bare: brief(best(rounds.bare)),
      mock: brief(best(rounds.mock)),
      rounds: { bare: rounds.bare.map(brief), mock: rounds.mock.map(brief) },
    };
    log(`  best: bare ${JSON.stringify(results.keepalive.bare)}\n        mock ${JSON.stringify(results.keepalive.mock)}`);
    // The same with autocannon, the generator the issue names (and the kind its reference figures came from).
    const acRounds = { bare: [], mock: [] };
    for (let round = 1; round <= KEEPALIVE_ROUNDS; round++) {
      for (const [name, server] of [['bare', bare], ['mock', mock]]) {
        log(`keep-alive with autocannon, ${KEEPALIVE_CONNECTIONS} connections, round ${round}: ${name}`);
        acRounds[name].push(await load(server, pki.ec, { connections: KEEPALIVE_CONNECTIONS }, 'autocannon.mjs'));
      }
    }
    results.keepaliveAutocannon = {
      generator: acRounds.mock[0].generator,
      bare: brief(best(acRounds.bare)),
      mock: brief(best(acRounds.mock)),
      rounds: { bare: acRounds.bare.map(brief), mock: acRounds.mock.map(brief) },
    };
    log(`  best: bare ${JSON.stringify(results.keepaliveAutocannon.bare)}\n        mock ${JSON.stringify(results.keepaliveAutocannon.mock)}`);
  }
  if (wants('handshake')) {
    results.handshake ??= {};
    for (const [name, server] of [['bare', bare], ['mock', mock]]) {
      log(`full handshakes (ECDSA P-256), ${HANDSHAKE_CONCURRENCY} concurrent: ${name}`);
      results.handshake.ec ??= {};
      results.handshake.ec[name] = brief(await load(server, pki.ec, { mode: 'handshake', connections: HANDSHAKE_CONCURRENCY }));
    }
    log(`  ${JSON.stringify(results.handshake.ec)}`);
  }
  if (wants('resume')) {
    results.resume = {};
    for (const [name, server] of [['bare', bare], ['mock', mock]]) {
      log(`new connections resuming the TLS session (ECDSA), ${HANDSHAKE_CONCURRENCY} concurrent: ${name}`);
      results.resume[name] = brief(await load(server, pki.ec, { mode: 'resume', connections: HANDSHAKE_CONCURRENCY }));
    }
    log(`  ${JSON.stringify(results.resume)}`);
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
  await bare.stop();
}

if (wants('rsa')) {
  const bare = await startBare(pki.rsa);
  const mock = await startMock({ certs: pki.rsa, name: 'mock-rsa' });
  results.handshake ??= {};
  results.handshake.rsa = {};
  for (const [name, server] of [['bare', bare], ['mock', mock]]) {
    log(`full handshakes (RSA-2048), ${HANDSHAKE_CONCURRENCY} concurrent: ${name}`);
    results.handshake.rsa[name] = brief(await load(server, pki.rsa, { mode: 'handshake', connections: HANDSHAKE_CONCURRENCY }));
  }
  log(`  ${JSON.stringify(results.handshake.rsa)}`);
  await mock.stop();
  await bare.stop();
}

if (wants('rules')) {
  log(`${RULE_COUNT.toLocaleString('en')}-rule scenario vs one rule`);
  const dir = join(tmp, 'scenarios-100k');
  mkdirSync(dir);
  writeFileSync(join(dir, 'many.yaml'), manyRulesYaml());
  const oneDir = join(tmp, 'scenarios-1');
  mkdirSync(oneDir);
  writeFileSync(join(oneDir, 'one.yaml'), 'rules:\n  - name: allow-all\n    respond: { isAllowed: true }\n');
  const fileMiB = statSync(join(dir, 'many.yaml')).size / 2 ** 20;

  const one = await startMock({ certs: pki.ec, scenarios: oneDir, scenario: 'one', name: 'mock-1-rule' });
  log('  one rule');
  const oneReport = await load(one, pki.ec, { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS });
  await one.stop();
  const many = await startMock({ certs: pki.ec, scenarios: dir, scenario: 'many', name: 'mock-100k-rules', extra: ['--no-watch'] });
  log(`  ${RULE_COUNT} rules (ready after ${(many.readyMs / 1000).toFixed(2)} s)`);
  const manyReport = await load(many, pki.ec, { mode: 'keepalive', connections: KEEPALIVE_CONNECTIONS });
  const rss = readRss(many.pid);
  await many.stop();
  results.rules = {
    ruleCount: RULE_COUNT + PATTERN_RULE_COUNT,
    exactRules: RULE_COUNT,
    patternRules: PATTERN_RULE_COUNT,
    fileMiB: round(fileMiB, 1),
    loadSeconds: round(many.readyMs / 1000, 2),
    oneRuleStartSeconds: round(one.readyMs / 1000, 2),
    rssMiB: rss ? round(rss.rss / 2 ** 20, 0) : null,
    oneRule: brief(oneReport),
    manyRules: brief(manyReport),
    throughputRatio: round(manyReport.requestsPerSecond / oneReport.requestsPerSecond, 2),
  };
  log(`  ${JSON.stringify(results.rules)}`);
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
  log(`memory, bare: ${MEMORY_REQUESTS.toLocaleString('en')} requests from ${shape}`);
  const bare = await startBare(pki.ec);
  const bareReport = await load(bare, pki.ec, memoryJob);
  await bare.stop();
  const bareMemory = {
    peakRssMiB: round(Math.max(bareReport.memory.final?.peak ?? 0, ...bareReport.memory.samples.map((s) => s.rssBytes)) / 2 ** 20, 1),
    requestsPerSecond: round(bareReport.requestsPerSecond, 0),
    newConnections: bareReport.newConnections,
    serverCpuMicrosPerRequest: round(bareReport.serverCpuMicrosPerRequest, 1),
    mismatches: bareReport.mismatches,
    errors: bareReport.errors,
  };
  log(`  bare ${JSON.stringify(bareMemory)}`);
  log(`memory, mock: the same, default journal size`);
  const mock = await startMock({ certs: pki.ec, name: 'mock-memory' });
  const report = await load(mock, pki.ec, memoryJob);
  const samples = report.memory.samples;
  // RSS saws up and down with V8's full collections (by ~80 MiB, over ~100k requests), so a
  // single reading says more about the phase than about growth. "At the middle" and "at the
  // end" are the floors the saw comes back to: the lowest RSS of the second and of the last
  // quarter of the requests. A leak raises the floor.
  const lowest = (from, to) =>
    Math.min(...samples.filter((s) => s.completed >= from * MEMORY_REQUESTS && s.completed <= to * MEMORY_REQUESTS).map((s) => s.rssBytes));
  const middle = { rssBytes: lowest(0.25, 0.5) };
  const end = { ...report.memory.final, rss: lowest(0.75, 1) };
  await mock.stop();
  const mib = (bytes) => round(bytes / 2 ** 20, 1);
  results.memory = {
    shape,
    bare: bareMemory,
    newConnections: report.newConnections,
    requests: report.completed,
    mismatches: report.mismatches,
    errors: report.errors,
    peakRssMiB: mib(Math.max(end.peak, ...samples.map((s) => s.rssBytes))),
    middleRssMiB: mib(middle.rssBytes),
    endRssMiB: mib(end.rss),
    growthMiddleToEnd: round(end.rss / middle.rssBytes - 1, 3),
    requestsPerSecond: round(report.requestsPerSecond, 0),
    serverCpuMicrosPerRequest: round(report.serverCpuMicrosPerRequest, 1),
    rssCurveMiB: samples.filter((_, i) => i % 10 === 0).map((s) => [s.completed, mib(s.rssBytes)]),
  };
  const { rssCurveMiB: _curve, ...shown } = results.memory;
  log(`  ${JSON.stringify(shown)}`);
}

// --- report --------------------------------------------------------------------------------

results.totalSeconds = round((performance.now() - benchStartedAt) / 1000, 0);
results.verdicts = verdicts(results);
const table = renderTable(results);
console.log(`\n${table}\n`);
if (only === null && !quick) {
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(here, 'chart.svg'), renderChart(results));
  updateReadme(table, results);
  console.log('wrote bench/results.json, bench/chart.svg and the results section of bench/README.md');
} else {
  writeFileSync(join(tmp, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('partial or quick run: wrote bench/tmp/results.json (bench/README.md and results.json are left alone)');
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

function verdicts(r) {
  const list = [];
  const add = (name, value, target, met, unit = '') => list.push({ name, value: value === null ? null : round(value, 3), target, unit, met: value === null ? null : met });
  if (r.keepaliveAutocannon) {
    const tput = ratio(r.keepaliveAutocannon.mock.requestsPerSecond, r.keepaliveAutocannon.bare.requestsPerSecond);
    add('keep-alive throughput mock/bare, autocannon', tput, `>= ${TARGETS.keepaliveThroughputRatio}`, tput >= TARGETS.keepaliveThroughputRatio, 'x');
  }
  if (r.keepalive) {
    // No target of its own: with a generator that saturates the server, throughput is 1 / CPU per request.
    const tput = ratio(r.keepalive.mock.requestsPerSecond, r.keepalive.bare.requestsPerSecond);
    list.push({ name: 'keep-alive throughput mock/bare, server-bound generator (= bare/mock CPU per request)', value: round(tput, 3), target: 'none', unit: 'x', met: null });
    const cpu = ratio(r.keepalive.mock.serverCpuMicrosPerRequest, r.keepalive.bare.serverCpuMicrosPerRequest);
    add('server CPU per request mock/bare', cpu, `<= ${TARGETS.cpuPerRequestRatio}`, cpu <= TARGETS.cpuPerRequestRatio, 'x');
  }
  for (const kind of ['ec', 'rsa']) {
    const hs = r.handshake?.[kind];
    if (hs) {
      const value = ratio(hs.mock.requestsPerSecond, hs.bare.requestsPerSecond);
      add(`full-handshake rate mock/bare (${kind === 'ec' ? 'ECDSA' : 'RSA'})`, value, `>= ${TARGETS.handshakeRatio}`, value >= TARGETS.handshakeRatio, 'x');
    }
  }
  if (r.resume) {
    const reused = r.resume.mock.sessionsReused / Math.max(1, r.resume.mock.completed);
    add('TLS sessions resumed by the mock', reused, '> 0.99 of connections', reused > 0.99, '');
  }
  if (r.rules) {
    add('100k-rule throughput / one-rule', r.rules.throughputRatio, `>= ${TARGETS.rulesThroughputRatio}`, r.rules.throughputRatio >= TARGETS.rulesThroughputRatio, 'x');
    add('100k-rule file start to ready', r.rules.loadSeconds, `<= ${TARGETS.rulesLoadSeconds} s`, r.rules.loadSeconds <= TARGETS.rulesLoadSeconds, ' s');
  }
  if (r.delay) add('delay p99 error', r.delay.errorP99Ms, `<= ${TARGETS.delayP99ErrorMs} ms`, r.delay.errorP99Ms <= TARGETS.delayP99ErrorMs && r.delay.earliestMs >= 0, ' ms');
  if (r.memory) {
    add('peak RSS', r.memory.peakRssMiB, `<= ${TARGETS.peakRssMiB} MiB`, r.memory.peakRssMiB <= TARGETS.peakRssMiB, ' MiB');
    add('RSS growth middle to end', r.memory.growthMiddleToEnd, `<= ${TARGETS.rssGrowthMiddleToEnd * 100}%`, r.memory.growthMiddleToEnd <= TARGETS.rssGrowthMiddleToEnd, '');
  }
  if (r.startup) {
    add('start-up to /health ok (median)', r.startup.median, `<= ${TARGETS.startupSeconds} s`, r.startup.median <= TARGETS.startupSeconds, ' s');
    const first = ratio(r.startup.firstAnswer.mockMedian, r.startup.firstAnswer.bareMedian);
    add('start to first answered request mock/bare (medians)', first, `<= ${TARGETS.firstAnswerRatio}`, first <= TARGETS.firstAnswerRatio, 'x');
  }
  const bad = ['keepalive', 'keepaliveAutocannon', 'resume'].flatMap((k) => (r[k] ? [r[k].mock, r[k].bare] : []))
    .concat(Object.values(r.handshake ?? {}).flatMap((h) => [h.mock, h.bare]))
    .concat(r.rules ? [r.rules.oneRule, r.rules.manyRules] : [], r.delay ? [r.delay] : [], r.memory ? [r.memory, r.memory.bare] : []);
  const mismatches = bad.reduce((n, m) => n + m.mismatches + m.errors, 0);
  add('replies not echoing the messageID, or failed', mismatches, '0', mismatches === 0, '');
  return list;
}

function renderTable(r) {
  const rows = [];
  const fmt = (v, unit = '') => (v === null || v === undefined ? '–' : `${typeof v === 'number' ? v.toLocaleString('en') : v}${unit}`);
  const pair = (label, mock, bare, unit, target) => {
    const q = ratio(mock, bare);
    rows.push([label, fmt(mock, unit), fmt(bare, unit), q === null ? '' : `${q.toFixed(2)}×`, target]);
  };
  if (r.keepaliveAutocannon) {
    const { mock, bare, generator } = r.keepaliveAutocannon;
    pair(`keep-alive req/s (${KEEPALIVE_CONNECTIONS} conns), ${generator}`, mock.requestsPerSecond, bare.requestsPerSecond, '', `≥ ${TARGETS.keepaliveThroughputRatio}×`);
    rows.push(['  p50 / p99 latency (autocannon counts whole ms)', `${mock.p50Ms} / ${mock.p99Ms} ms`, `${bare.p50Ms} / ${bare.p99Ms} ms`, '', '']);
  }
  if (r.keepalive) {
    const { mock, bare } = r.keepalive;
    pair(`keep-alive req/s (${KEEPALIVE_CONNECTIONS} conns), server-bound generator (bench/load.mjs)`, mock.requestsPerSecond, bare.requestsPerSecond, '', '');
    pair('  p50 latency', mock.p50Ms, bare.p50Ms, ' ms', '');
    pair('  p99 latency', mock.p99Ms, bare.p99Ms, ' ms', '');
    pair('server CPU per request', mock.serverCpuMicrosPerRequest, bare.serverCpuMicrosPerRequest, ' µs', `≤ ${TARGETS.cpuPerRequestRatio}×`);
  }
  for (const [kind, label] of [['ec', 'ECDSA P-256'], ['rsa', 'RSA-2048']]) {
    const hs = r.handshake?.[kind];
    if (!hs) continue;
    pair(`full handshakes/s, ${label} (${HANDSHAKE_CONCURRENCY} conc.)`, hs.mock.requestsPerSecond, hs.bare.requestsPerSecond, '', `≥ ${TARGETS.handshakeRatio}×`);
    pair(`  server CPU per handshake, ${label}`, hs.mock.serverCpuMicrosPerRequest, hs.bare.serverCpuMicrosPerRequest, ' µs', '');
  }
  if (r.resume) {
    pair(`resumed connections/s, ECDSA (${HANDSHAKE_CONCURRENCY} conc.)`, r.resume.mock.requestsPerSecond, r.resume.bare.requestsPerSecond, '', '');
    pair('  server CPU per resumed connection', r.resume.mock.serverCpuMicrosPerRequest, r.resume.bare.serverCpuMicrosPerRequest, ' µs', '');
    rows.push(['  sessions resumed', `${r.resume.mock.sessionsReused}/${r.resume.mock.completed}`, `${r.resume.bare.sessionsReused}/${r.resume.bare.completed}`, '', 'all']);
  }
  if (r.rules) {
    const many = r.rules.ruleCount.toLocaleString('en');
    rows.push([`mock with ${many} rules / with 1 rule, keep-alive req/s`, `${fmt(r.rules.manyRules.requestsPerSecond)} / ${fmt(r.rules.oneRule.requestsPerSecond)}`, '', `${r.rules.throughputRatio.toFixed(2)}× (many/one)`, `≥ ${TARGETS.rulesThroughputRatio}×`]);
    rows.push([`  CPU per request, ${many} rules / 1 rule`, `${fmt(r.rules.manyRules.serverCpuMicrosPerRequest)} / ${fmt(r.rules.oneRule.serverCpuMicrosPerRequest)} µs`, '', '', '']);
    rows.push([`  start to ready with the ${many}-rule file (${r.rules.fileMiB} MiB) / with 1 rule`, `${fmt(r.rules.loadSeconds, ' s')} / ${fmt(r.rules.oneRuleStartSeconds, ' s')}`, '', '', `≤ ${TARGETS.rulesLoadSeconds} s`]);
  }
  if (r.delay) {
    rows.push([`delay ${DELAY_MS} ms, ${DELAY_CONNECTIONS} conns: observed − ${DELAY_MS} ms, p50 / p99`, `${fmt(r.delay.errorP50Ms)} / ${fmt(r.delay.errorP99Ms)} ms`, '', '', `p99 ≤ ${TARGETS.delayP99ErrorMs} ms`]);
  }
  if (r.memory) {
    pair(`peak RSS over ${r.memory.requests.toLocaleString('en')} requests, mixed: ${r.memory.shape}`, r.memory.peakRssMiB, r.memory.bare.peakRssMiB, ' MiB', `≤ ${TARGETS.peakRssMiB} MiB`);
    pair('  of them on a new connection', r.memory.newConnections, r.memory.bare.newConnections, '', '');
    pair('  server CPU per request, mixed', r.memory.serverCpuMicrosPerRequest, r.memory.bare.serverCpuMicrosPerRequest, ' µs', '');
    rows.push(['  RSS at the middle → end (lowest of the 2nd → of the last quarter)', `${fmt(r.memory.middleRssMiB)} → ${fmt(r.memory.endRssMiB)} MiB`, '', '', 'flat (≤ +10%)']);
  }
  if (r.startup) {
    pair(`start-up: process start to the first answered request (median of ${r.startup.seconds.length})`, r.startup.firstAnswer.mockMedian, r.startup.firstAnswer.bareMedian, ' s', `≤ ${TARGETS.firstAnswerRatio}×`);
    rows.push(['start-up: process start to /health ok (median)', fmt(r.startup.median, ' s'), '', '', `≤ ${TARGETS.startupSeconds} s`]);
  }
  const header = ['measure', 'mock', 'bare Node', 'mock/bare', 'target'];
  const lines = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  const verdictLines = r.verdicts.map((v) => `- ${v.met === true ? 'met' : v.met === false ? '**MISSED**' : 'n/a'}: ${v.name} = ${v.value}${v.unit} (target ${v.target})`);
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
  const section = `${start}\nMeasured ${r.date.slice(0, 10)} on ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node} (${r.machine.platform}); bench took ${r.totalSeconds} s.\n\n${table}\n\n![throughput and p99 latency, mock vs bare](chart.svg)\n${end}`;
  writeFileSync(readme, text.slice(0, a) + section + text.slice(b + end.length));
}
