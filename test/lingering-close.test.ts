/**
 * Every answer that ends the connection (413, 408, 400 framing) reaches a client that writes its
 * whole request before it reads, on both listeners: the mock sends the answer, half-closes, and
 * drains what is still coming (for a bounded time and size) before it closes. Closing at once
 * made the client's next segments meet a reset: "Broken pipe" while writing, or a reset that
 * threw away the unread answer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { entitlementRequest, startTestMock, type TestMock } from './helpers/mock.js';
import { httpPost } from './helpers/raw-tls.js';
import { slack } from './helpers/slack.js';
import { eventually } from './helpers/eventually.js';
import { once } from 'node:events';
import { closeLingering } from '../src/server/linger.js';

const TEN_MB = 10 * 1024 * 1024;
const CHUNK = 64 * 1024;
const HEADER_TIMEOUT_MS = 500;
const BODY_TIMEOUT_MS = 500;

/** `mock` keeps the default time limits (a loaded machine must not turn a 413 into a 408); `strict` is for the 408s. */
let mock: TestMock;
let strict: TestMock;
test.before(async () => {
  [mock, strict] = await Promise.all([
    startTestMock({ logLevel: 'warn' }),
    startTestMock({ headerTimeoutMs: HEADER_TIMEOUT_MS, bodyTimeoutMs: BODY_TIMEOUT_MS, logLevel: 'warn' }),
  ]);
});
test.after(async () => {
  await Promise.all([mock.close(), strict.close()]);
});

type Listener = 'admin' | 'entitlement';

/** How a license server with the test PKI's client certificate connects to `to`'s entitlement listener. */
function entitlementClient(to: TestMock): tls.ConnectionOptions {
  return { host: '127.0.0.1', port: to.port, servername: 'localhost', ca: to.pki.caPem, cert: to.pki.client.certPem, key: to.pki.client.keyPem };
}

async function connect(listener: Listener, to: TestMock = mock): Promise<net.Socket> {
  const socket = listener === 'admin' ? net.connect({ host: '127.0.0.1', port: to.adminPort }) : tls.connect(entitlementClient(to));
  await new Promise<void>((resolve, reject) => {
    socket.once(listener === 'admin' ? 'connect' : 'secureConnect', () => resolve());
    socket.once('error', reject);
  });
  // Like Python's urllib: nothing is read until the request is written.
  socket.pause();
  return socket;
}

interface Outcome {
  /** The error that stopped the writing (e.g. EPIPE, ECONNRESET), or null when every byte was written. */
  writeError: string | null;
  /** Everything read once writing was over, up to the server's close. */
  received: string;
  readError: string | null;
  /** True when the server closed the connection afterwards (within the test's patience). */
  closedByServer: boolean;
}

/** Writes each piece (waiting for each write to be taken), then reads until the server closes. */
async function writeAllThenRead(socket: net.Socket, pieces: Buffer[], readTimeoutMs = 10_000): Promise<Outcome> {
  let firstError: string | null = null;
  socket.on('error', (error: NodeJS.ErrnoException) => (firstError ??= error.code ?? error.message));
  for (const piece of pieces) {
    const written = await new Promise<boolean>((resolve) => {
      if (socket.destroyed) return resolve(false);
      socket.write(piece, (error) => resolve(!error));
    });
    if (!written) break;
  }
  const writeError = firstError;
  const received: Buffer[] = [];
  const closedByServer = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), readTimeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.once('end', () => socket.end());
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
  socket.destroy();
  return { writeError, received: Buffer.concat(received).toString('latin1'), readError: writeError === null ? firstError : null, closedByServer };
}

function inChunks(bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) pieces.push(bytes.subarray(offset, offset + CHUNK));
  return pieces;
}

/** A chunked body of `total` bytes, in 64 KiB chunks with their size lines. */
function chunkedBody(total: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let sent = 0; sent < total; sent += CHUNK) pieces.push(Buffer.from(`${CHUNK.toString(16)}\r\n${'x'.repeat(CHUNK)}\r\n`));
  pieces.push(Buffer.from('0\r\n\r\n'));
  return pieces;
}

function head(method: string, path: string, headers: Record<string, string | number>): Buffer {
  const lines = Object.entries({ Host: 'localhost', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  return Buffer.from(`${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n`, 'latin1');
}

const tenMegabytes = () => Buffer.alloc(TEN_MB, 'x');

function assertAnswered(outcome: Outcome, status: number, label: string): void {
  assert.is(outcome.writeError, null, `${label}: the client could write its whole request`);
  assert.match(outcome.received, new RegExp(`^HTTP/1\\.1 ${status} `), `${label}: the client read the ${status}; got ${JSON.stringify(outcome.received.slice(0, 80))} (${outcome.readError ?? 'no read error'})`);
  assert.match(outcome.received.slice(0, outcome.received.indexOf('\r\n\r\n')), /\r\nConnection: close/i, `${label}: the answer says the connection ends`);
  assert.ok(outcome.closedByServer, `${label}: the mock closed the connection once the client was done`);
}

// --- 413: a body over the listener's limit ---------------------------------------------------------

test('admin: POST /admin/scenarios with a 10 MB body written whole before reading gets the 413', async () => {
  const socket = await connect('admin');
  const outcome = await writeAllThenRead(socket, [Buffer.concat([head('POST', '/admin/scenarios', { 'Content-Type': 'application/yaml', 'Content-Length': TEN_MB }), tenMegabytes()])]);
  assertAnswered(outcome, 413, 'one write');
  assert.match(outcome.received, /"error":/, 'the JSON error body');
});

test('admin: the same 10 MB written in 64 KiB chunks, and sent chunked without a length, gets the 413', async () => {
  const byChunks = await writeAllThenRead(await connect('admin'), [
    head('POST', '/admin/scenarios', { 'Content-Type': 'application/yaml', 'Content-Length': TEN_MB }),
    ...inChunks(tenMegabytes()),
  ]);
  assertAnswered(byChunks, 413, '64 KiB writes');
  const chunked = await writeAllThenRead(await connect('admin'), [
    head('POST', '/admin/scenarios', { 'Content-Type': 'application/yaml', 'Transfer-Encoding': 'chunked' }),
    ...chunkedBody(TEN_MB),
  ]);
  assertAnswered(chunked, 413, 'chunked');
});

test('entitlement: a 10 MB body written whole before reading gets the 413; so do 64 KiB writes and a chunked body', async () => {
  const declared = head('POST', '/entitlement', { 'Content-Type': 'application/json', 'Content-Length': TEN_MB });
  const outcomes = [
    ['one write', await writeAllThenRead(await connect('entitlement'), [Buffer.concat([declared, tenMegabytes()])])],
    ['64 KiB writes', await writeAllThenRead(await connect('entitlement'), [declared, ...inChunks(tenMegabytes())])],
    [
      'chunked',
      await writeAllThenRead(await connect('entitlement'), [
        head('POST', '/entitlement', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }),
        ...chunkedBody(TEN_MB),
      ]),
    ],
  ] as const;
  for (const [label, outcome] of outcomes) {
    assertAnswered(outcome, 413, label);
    assert.match(outcome.received, /"errorText":"body larger than 65536 bytes"/, label);
  }
});

// --- 400: framing the HTTP parser refuses ----------------------------------------------------------

test('admin and entitlement: a request line the parser refuses, followed by 10 MB, gets the 400', async () => {
  for (const listener of ['admin', 'entitlement'] as const) {
    const outcome = await writeAllThenRead(await connect(listener), [Buffer.from('NOT HTTP AT ALL\r\n\r\n'), ...inChunks(tenMegabytes())]);
    assertAnswered(outcome, 400, listener);
  }
});

test('entitlement: a broken chunk size in the body, followed by 10 MB, gets the 400', async () => {
  const outcome = await writeAllThenRead(await connect('entitlement'), [
    head('POST', '/entitlement', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }),
    Buffer.from('zz\r\n'),
    ...inChunks(tenMegabytes()),
  ]);
  assertAnswered(outcome, 400, 'bad chunk');
  assert.match(outcome.received, /malformed body/);
});

// --- 408: the time limits --------------------------------------------------------------------------

/** Resolves once the first bytes of an answer have arrived, leaving them unread in the socket. */
function answerArrived(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('readable', () => resolve()));
}

test('entitlement: a body that stalls gets the 408 even when the client then sends the rest (10 MB) before reading', async () => {
  const socket = await connect('entitlement', strict);
  const arrived = answerArrived(socket);
  socket.write(httpPost('/entitlement', JSON.stringify(entitlementRequest()).slice(0, 10), { 'Content-Length': 1000 }));
  await arrived;
  assertAnswered(await writeAllThenRead(socket, inChunks(tenMegabytes())), 408, 'stalled body');
});

test('admin and entitlement: headers that stall get the 408 even when the client then sends the rest (10 MB) before reading', async () => {
  for (const listener of ['admin', 'entitlement'] as const) {
    const socket = await connect(listener, strict);
    const arrived = answerArrived(socket);
    socket.write('POST /admin/scenarios HTTP/1.1\r\nHost: localhost\r\n');
    await arrived;
    const outcome = await writeAllThenRead(socket, [Buffer.from(`Content-Length: ${TEN_MB}\r\n\r\n`), ...inChunks(tenMegabytes())]);
    assertAnswered(outcome, 408, listener);
  }
});

test('entitlement: a request read whole with Connection: close is closed at once, not kept until the client closes', async () => {
  // The client keeps its side open after the answer (allowHalfOpen) and goes on writing: a lingering
  // close would discard those bytes for up to 5 s; a closed socket answers them with a reset.
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = { ...entitlementClient(mock), allowHalfOpen: true }; // honoured by tls.connect, missing from its types
  const socket = tls.connect(options);
  try {
    const body = JSON.stringify(entitlementRequest());
    socket.write(head('POST', '/entitlement', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }));
    socket.write(body);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const failed = new Promise<string>((resolve) => socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message)));
    await new Promise((resolve) => socket.once('end', resolve));
    assert.match(Buffer.concat(received).toString('latin1'), /^HTTP\/1\.1 200 /);
    const writer = setInterval(() => socket.write('more'), 10);
    const error = await Promise.race([failed, new Promise<null>((resolve) => setTimeout(() => resolve(null), slack(1000)))]);
    clearInterval(writer);
    assert.ok(error !== null, 'the mock had closed: writing on met a reset well before the 5 s a lingering close allows');
  } finally {
    socket.destroy();
  }
});

test('a lingering socket is ended at its time limit, or once it has drained its byte limit, while the client stays', async () => {
  const closed: { after: 'time' | 'bytes'; ms: number }[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const startedAt = performance.now();
    socket.once('data', (first: Buffer) => {
      const after = first.toString() === 'time' ? 'time' : 'bytes';
      socket.once('close', () => closed.push({ after, ms: performance.now() - startedAt }));
      closeLingering(socket, { maxMs: after === 'time' ? 300 : 60_000, maxBytes: 64 * 1024 });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  try {
    for (const kind of ['time', 'bytes']) {
      const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      clients.push(client);
      client.on('error', () => {});
      await once(client, 'connect');
      client.write(kind);
      if (kind === 'bytes') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        client.write(Buffer.alloc(128 * 1024));
      }
    }
    await eventually(() => closed.length === 2, { timeoutMs: slack(3000), what: 'both lingering sockets closed' });
    const byTime = closed.find((c) => c.after === 'time')!;
    assert.ok(byTime.ms >= 300, `not before its time limit (${byTime.ms} ms)`);
    assert.ok(closed.find((c) => c.after === 'bytes')!.ms < 60_000);
  } finally {
    for (const client of clients) client.destroy();
    server.close();
  }
});

test('after all that, both listeners still answer; answers to requests read whole keep the connection', async () => {
  const health = await mock.admin('GET', '/health');
  assert.is(health.status, 200);
  assert.is.not(health.headers.get('connection'), 'close');
  const posted = await mock.admin('POST', '/admin/scenarios?activate=false', 'name: kept\nrules: [{respond: {isAllowed: true}}]\n', { 'content-type': 'application/yaml' });
  assert.is(posted.status, 201);
  assert.is.not(posted.headers.get('connection'), 'close');
  const refused = await mock.admin('POST', '/admin/scenarios', 'rules: [', { 'content-type': 'application/yaml' });
  assert.is(refused.status, 400);
  assert.is.not(refused.headers.get('connection'), 'close', 'a refusal after the whole body was read');
  const agent = new https.Agent({ keepAlive: true });
  const entitled = await mock.entitle(entitlementRequest(), { agent });
  agent.destroy();
  assert.is(entitled.status, 200);
  assert.is(entitled.headers.connection, 'keep-alive');
});

test.run();
