/**
 * Keep-alive load with autocannon (the well-kept load generator the issue names), in its own
 * process: `fork('bench/autocannon.mjs')`, send one job, get one report back.
 *
 * Job: { url, tls: { ca, cert, key } (file paths), contentIDs, connections, warmupMs, durationMs, serverPid }.
 * Every request carries a fresh GUID messageID; a reply that is not 200, does not echo it, or is
 * not `isAllowed: true` counts as a mismatch. The warm-up is a run of its own whose figures are dropped.
 * Server CPU is read from /proc at the edges of the measured run.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { readCpu } from './proc.mjs';

process.once('message', async (job) => {
  try {
    process.send({ ok: true, result: await run(job) });
  } catch (error) {
    process.send({ ok: false, error: String(error?.stack ?? error) });
  }
  process.disconnect();
});

async function run(job) {
  const tlsOptions = { ca: readFileSync(job.tls.ca), cert: readFileSync(job.tls.cert), key: readFileSync(job.tls.key) };
  let mismatches = 0;
  let firstProblem = null;
  let next = 0;
  const options = (seconds) => ({
    url: job.url,
    method: 'POST',
    connections: job.connections,
    duration: seconds,
    tlsOptions,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest(request, context) {
          context.messageID = randomUUID();
          const contentID = job.contentIDs[next++ % job.contentIDs.length];
          request.body = `{"messageID":"${context.messageID}","version":1,"requestType":1,"contentID":"${contentID}","customerCookie":"bench"}`;
          return request;
        },
        onResponse(status, body, context) {
          let ok = false;
          try {
            const reply = JSON.parse(body);
            ok = status === 200 && reply.messageID === context.messageID && reply.isAllowed === true;
          } catch {}
          if (!ok) {
            mismatches++;
            firstProblem ??= `${status} ${String(body).slice(0, 200)}`;
          }
        },
      },
    ],
  });
  await autocannon(options(Math.max(1, Math.round(job.warmupMs / 1000))));
  mismatches = 0;
  const cpuBefore = readCpu(job.serverPid);
  const result = await autocannon(options(Math.max(1, Math.round(job.durationMs / 1000))));
  const cpuAfter = readCpu(job.serverPid);
  const completed = result.requests.total;
  const seconds = result.duration;
  const cpuSeconds = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
  return {
    mode: 'keepalive',
    generator: `autocannon ${autocannonVersion()}`,
    requestsPerSecond: completed / seconds,
    // autocannon's latencies are whole milliseconds.
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    serverCpuSeconds: cpuSeconds,
    serverCpuMicrosPerRequest: cpuSeconds !== null && completed > 0 ? (cpuSeconds * 1e6) / completed : null,
    serverCpuCores: cpuSeconds !== null ? cpuSeconds / seconds : null,
    completed,
    mismatches,
    errors: result.errors + result.timeouts + result.non2xx,
    firstProblem,
  };
}

function autocannonVersion() {
  return JSON.parse(readFileSync(new URL('../node_modules/autocannon/package.json', import.meta.url), 'utf8')).version;
}
