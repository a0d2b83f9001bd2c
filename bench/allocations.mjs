/**
 * Where the mock allocates, per request: `node bench/allocations.mjs [BUILD_ROOT] [N]`. Starts the
 * mock in this process (as bench/entry-bytes.mjs does) and drives N keep-alive requests (default
 * 20,000) from a child process (bench/load.mjs is not needed: a small https client there), with
 * V8's sampling heap profiler counting every allocation, also of objects the young generation
 * collected. Prints bytes per request by function (self), and by the mock's own files.
 */
import { join, resolve } from 'node:path';
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { once } from 'node:events';

const here = fileURLToPath(new URL('.', import.meta.url));
const buildRoot = resolve(process.argv[2] ?? join(here, '..'));
const count = Number(process.argv[3] ?? 20_000);
const certs = mkdtempSync(join(tmpdir(), 'allocations-'));
execFileSync(process.execPath, [join(buildRoot, 'bin', 'entitlement-mock.js'), 'certs', '--out', certs], { stdio: 'ignore' });
const { startMock } = await import(pathToFileURL(join(buildRoot, 'dist', 'server', 'mock.js')).href);
const { DEFAULT_OPTIONS } = await import(pathToFileURL(join(buildRoot, 'dist', 'server', 'options.js')).href);
const mock = await startMock({ ...DEFAULT_OPTIONS, scenarios: join(buildRoot, 'scenarios'), certs, host: '127.0.0.1', port: 0, adminHost: '127.0.0.1', adminPort: 0, watch: false, logLevel: process.env.LOG_LEVEL ?? 'info' });
const session = new Session();
session.connect();
try {
  const drive = (requests) => {
    const client = fork(join(here, 'load.mjs'));
    client.send({ url: mock.entitlementUrl, tls: { ca: join(certs, 'ca.crt'), cert: join(certs, 'client.crt'), key: join(certs, 'client.key') }, contentIDs: [], mode: 'keepalive', connections: 20, warmupMs: 0, durationMs: 0, requests });
    return once(client, 'message');
  };
  await drive(2000);
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  const [{ result }] = await drive(count);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const done = result.completed ?? count;
  const self = new Map();
  const byFile = new Map();
  // CALLERS=name: also the call paths that allocate in that function.
  const paths = new Map();
  const stack = [];
  const walk = (node) => {
    stack.push(`${node.callFrame.functionName || '(anonymous)'}:${node.callFrame.lineNumber + 1}`);
    if (process.env.CALLERS && node.callFrame.functionName === process.env.CALLERS && node.selfSize > 0) {
      const path = stack.slice(-8).reverse().join(' < ');
      paths.set(path, (paths.get(path) ?? 0) + node.selfSize);
    }
    const { functionName, url, lineNumber } = node.callFrame;
    const bytes = node.selfSize;
    const file = url === '' ? '(native)' : url.includes('node_modules/') ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1') : url.replace(/^file:\/\/.*\/(dist|src|bench)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + bytes);
    byFile.set(file, (byFile.get(file) ?? 0) + bytes);
    for (const child of node.children) walk(child);
    stack.pop();
  };
  walk(profile.head);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.error(`${done} requests: ${(total / done).toFixed(0)} bytes allocated per request (sampled; includes this process's share of the admin side, none under load)`);
  for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40))) console.error(`${(bytes / done).toFixed(0).padStart(7)} B  ${key}`);
  for (const [path, bytes] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.error(`${(bytes / done).toFixed(0).padStart(7)} B  ${path}`);
  console.error('\nby file:');
  for (const [key, bytes] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.error(`${(bytes / done).toFixed(0).padStart(7)} B  ${key}`);
} finally {
  session.disconnect();
  await mock.close();
  rmSync(certs, { recursive: true, force: true });
}
