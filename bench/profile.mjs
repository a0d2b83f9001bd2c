/**
 * Profile the mock under keep-alive load: `node bench/profile.mjs [seconds] [scenario]`.
 * Starts `entitlement-mock serve` with --cpu-prof, drives it with bench/load.mjs, stops it
 * with SIGTERM (which writes the profile) and prints the functions with the most self
 * time. The .cpuprofile is left in bench/tmp/ for Chrome DevTools or speedscope.
 */
import { spawn, fork, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, existsSync, openSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
// BUILD_ROOT=DIR: profile the build in DIR (another worktree, e.g. the round before) with this script.
const root = process.env.BUILD_ROOT ? resolve(process.env.BUILD_ROOT) : join(here, '..');
const tmp = join(here, 'tmp', process.env.BUILD_ROOT ? 'profile-other' : 'profile');
const cli = join(root, 'bin', 'entitlement-mock.js');
const seconds = Number(process.argv[2] ?? 8);
const scenario = process.argv[3] ?? 'default';
mkdirSync(tmp, { recursive: true });
const certs = join(tmp, 'pki');
if (!existsSync(join(certs, 'server.crt'))) execFileSync(process.execPath, [cli, 'certs', '--out', certs], { stdio: 'ignore' });

const port = await freePort();
const adminPort = await freePort();
const before = new Set(readdirSync(tmp));
// As users run it (the bin's first line gives node the mock's heap flags), unless profiling or NODE_FLAGS need node's own arguments.
const viaNode = !process.env.NO_PROFILE || Boolean(process.env.NODE_FLAGS);
const program = viaNode ? process.execPath : cli;
const binFlags = readFileSync(cli, 'utf8').split('\n')[0].split(/\s+/).filter((word) => word.startsWith('--'));
const pin = process.env.PIN ? ['taskset', ['-c', '1', program]] : [program, []];
// BARE=1: profile bench/bare-server.mjs under the same load instead (the yardstick's own costs, for comparison).
const bare = Boolean(process.env.BARE);
// Its stdout (the port line, then whatever NODE_FLAGS such as --trace-gc print) goes to bench/tmp/…/bare.log.
const mock = bare ? spawn(process.execPath, [...(process.env.NO_PROFILE ? [] : ['--cpu-prof', '--cpu-prof-dir', tmp]), ...(process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean), join(here, 'bare-server.mjs'), certs, String(port)], { stdio: ['ignore', openSync(join(tmp, 'bare.log'), 'w'), 'inherit'] }) : spawn(
  pin[0],
  [...pin[1], ...(process.env.NO_PROFILE ? [] : ['--cpu-prof', '--cpu-prof-dir', tmp]), ...(viaNode ? [...binFlags, ...(process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean), cli] : []), 'serve', '--certs', certs, '--scenario', scenario, '--host', '127.0.0.1',
    '--port', String(port), '--admin-host', '127.0.0.1', '--admin-port', String(adminPort),
    ...(process.env.MOCK_ARGS ?? '').split(' ').filter(Boolean)],
  { cwd: root, stdio: ['ignore', openSync(join(tmp, 'mock.log'), 'w'), 'inherit'] },
);
while (bare && !readFileSync(join(tmp, 'bare.log'), 'utf8').includes('"port"')) await new Promise((r) => setTimeout(r, 10));
for (; !bare; ) {
  try {
    if ((await fetch(`http://127.0.0.1:${adminPort}/health`)).ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 10));
}
const generator = fork(join(here, 'load.mjs'));
if (process.env.PIN) execFileSync('taskset', ['-a', '-p', '-c', '0', String(generator.pid)], { stdio: 'ignore' });
generator.send({
  url: `https://127.0.0.1:${port}/entitlement`,
  serverPid: mock.pid,
  tls: { ca: join(certs, 'ca.crt'), cert: join(certs, 'client.crt'), key: join(certs, 'client.key') },
  // CONTENT_IDS_FROM=FILE: every 97th GUID written in that scenario file (to hit its exact rules).
  contentIDs: process.env.CONTENT_IDS_FROM
    ? (readFileSync(process.env.CONTENT_IDS_FROM, 'utf8').match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? []).filter((_, i) => i % 97 === 0)
    : Array.from({ length: 100 }, () => randomUUID()),
  mode: process.env.MODE ?? 'keepalive',
  connections: process.env.MODE ? 20 : 50,
  warmupMs: 1000,
  durationMs: seconds * 1000,
});
const [reply] = await once(generator, 'message');
const r = reply.result;
console.log(`${Math.round(r.requestsPerSecond)} req/s, ${r.serverCpuMicrosPerRequest?.toFixed(1)} µs CPU/request, p99 ${r.latencyMs.p99?.toFixed(2)} ms, mismatches ${r.mismatches}, errors ${r.errors}`);
mock.kill('SIGTERM');
await once(mock, 'exit');
if (process.env.NO_PROFILE) process.exit(0);
const file = readdirSync(tmp).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
const profile = JSON.parse(readFileSync(join(tmp, file), 'utf8'));
const self = new Map();
const dt = new Map();
// Only the samples of the measured window (the last `seconds` before the generator stopped; the
// profile ends ~at SIGTERM): start-up and warm-up would otherwise be spread over the requests.
const sampleTimes = [];
profile.timeDeltas.reduce((at, delta, i) => (sampleTimes[i] = at + delta), profile.startTime);
const windowStart = profile.endTime - (seconds * 1000 + 150) * 1000;
profile.samples.forEach((id, i) => {
  if (sampleTimes[i] >= windowStart) dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
// The share of each function is of the time the main thread was busy ((idle) left out); µs per
// request is that time over the requests of the window. What the profile cannot see (GC helper
// threads, the thread pool: log writes) is the gap to the CPU per request from /proc.
let total = 0;
for (const node of profile.nodes) {
  const t = node.callFrame.functionName === '(idle)' ? 0 : (dt.get(node.id) ?? 0);
  total += t;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + t);
}
console.log(`profile: bench/tmp/profile/${file}`);
const micros = (t) => `${(t / r.completed).toFixed(2).padStart(7)} µs`;
console.log(`main thread busy: ${(total / r.completed).toFixed(1)} µs per request of ${r.serverCpuMicrosPerRequest?.toFixed(1)} µs CPU (all threads)`);
for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40)))
  console.log(`${((100 * t) / total).toFixed(1).padStart(5)}% ${micros(t)}  ${key}`);

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Self time by file (or package), to see which layer costs what.
const byFile = new Map();
for (const node of profile.nodes) {
  const t = node.callFrame.functionName === '(idle)' ? 0 : (dt.get(node.id) ?? 0);
  const url = node.callFrame.url;
  const key = url === '' ? `(native) ${node.callFrame.functionName}` : url.includes('node_modules/') ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1') : url.replace(/^file:\/\/.*\/(dist|src)\//, '$1/');
  byFile.set(key, (byFile.get(key) ?? 0) + t);
}
console.log('\nself time by file:');
for (const [key, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 30))
  console.log(`${((100 * t) / total).toFixed(1).padStart(5)}% ${micros(t)}  ${key}`);
