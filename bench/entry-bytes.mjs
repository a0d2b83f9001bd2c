/**
 * Bytes of heap one journal entry holds, for a typical request: `node --expose-gc
 * bench/entry-bytes.mjs [BUILD_ROOT] [N]`. Starts the mock in this process (dist/server/mock.js
 * of BUILD_ROOT, default this package: a build of an earlier round has it too), sends N requests
 * (default 10,000: the default journal size) over keep-alive connections, then compares the heap
 * after a full collection with the journal full and after clearing it (DELETE /admin/requests).
 *
 * The request is the bench's: a fresh GUID messageID, version, requestType, a GUID contentID and
 * a customerCookie, Content-Type application/json, answered by the default scenario.
 */
import https from 'node:https';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const buildRoot = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
const count = Number(process.argv[3] ?? 10_000);
const certs = mkdtempSync(join(tmpdir(), 'entry-bytes-'));
execFileSync(process.execPath, [join(buildRoot, 'bin', 'entitlement-mock.js'), 'certs', '--out', certs], { stdio: 'ignore' });
const { startMock } = await import(pathToFileURL(join(buildRoot, 'dist', 'server', 'mock.js')).href);
const { DEFAULT_OPTIONS } = await import(pathToFileURL(join(buildRoot, 'dist', 'server', 'options.js')).href);
const mock = await startMock({
  ...DEFAULT_OPTIONS,
  scenarios: join(buildRoot, 'scenarios'),
  certs,
  host: '127.0.0.1',
  port: 0,
  adminHost: '127.0.0.1',
  adminPort: 0,
  watch: false,
  logLevel: 'silent',
  journalSize: count,
});
try {
  const pem = (name) => readFileSync(join(certs, name));
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') });
  const send = () =>
    new Promise((done, fail) => {
      const body = `{"messageID":"${randomUUID()}","version":1,"requestType":1,"contentID":"${randomUUID()}","customerCookie":"bench"}`;
      const req = https.request(mock.entitlementUrl, { method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', fail);
      req.end(body);
    });
  const heapAfterGc = async () => {
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 4; i++) globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  // Warm up (code, pools, the seen-messageID table), then measure with the journal emptied.
  for (let i = 0; i < 500; i++) await send();
  await fetch(`${mock.adminUrl}/admin/requests`, { method: 'DELETE' });
  const empty = await heapAfterGc();
  for (let sent = 0; sent < count; sent += 8) await Promise.all(Array.from({ length: 8 }, send));
  const full = await heapAfterGc();
  const sample = await (await fetch(`${mock.adminUrl}/admin/requests?limit=1`)).json();
  await fetch(`${mock.adminUrl}/admin/requests`, { method: 'DELETE' });
  const cleared = await heapAfterGc();
  agent.destroy();
  const perEntry = (full - Math.min(empty, cleared)) / count;
  console.log(JSON.stringify({ buildRoot, entries: count, bytesPerEntry: Math.round(perEntry), heapMiB: { empty: +(empty / 2 ** 20).toFixed(1), full: +(full / 2 ** 20).toFixed(1), cleared: +(cleared / 2 ** 20).toFixed(1) } }));
  if (process.env.SHOW_ENTRY) console.log(JSON.stringify(sample, null, 1));
} finally {
  await mock.close();
  rmSync(certs, { recursive: true, force: true });
}
