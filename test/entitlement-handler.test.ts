/**
 * The entitlement handler when the mock itself fails: the client gets a JSON 500 (not a hung
 * request), the failure is reported, and the next request is served. Driven over a real HTTP
 * listener; the scenario source is made to throw, as a bug in it would.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createEntitlementHandler } from '../src/server/entitlement-handler.js';
import { Journal } from '../src/journal/journal.js';
import { SeenMessageIds } from '../src/journal/seen-message-ids.js';
import { HeldExchanges } from '../src/respond/deliver.js';
import type { CompiledScenario } from '../src/scenario/runtime/engine.js';

test('a failure inside the mock answers a JSON 500, is reported, and the listener keeps serving', async () => {
  const reported: unknown[] = [];
  let failing = true;
  const handler = createEntitlementHandler({
    path: '/entitlement',
    listener: 'main',
    state: {
      scenarios: {
        active(): CompiledScenario {
          if (failing) throw new Error('scenario engine bug');
          return {
            name: 'stub',
            decide: () => ({ plan: { kind: 'fault', fault: 'close', delayMs: 0 }, scenario: 'stub', rule: 'r', step: null }),
            answerInvalid: () => ({ plan: { kind: 'fault', fault: 'close', delayMs: 0 }, scenario: 'stub', rule: null, step: null }),
          } as unknown as CompiledScenario;
        },
      },
      sessions: { find: () => null },
      journal: new Journal(10),
      seenMessageIds: new SeenMessageIds(10),
      forwarder: null,
      held: new HeldExchanges(),
      observers: [],
    },
    onInternalError: (error) => reported.push(error),
  });
  const server = http.createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/entitlement`;
  const body = () => JSON.stringify({ messageID: randomUUID(), version: 1, requestType: 1, contentID: 'c-1' });
  try {
    const failed = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    assert.is(failed.status, 500);
    assert.is(failed.headers.get('content-type'), 'application/json');
    const answer = (await failed.json()) as { isAllowed: boolean; error: number; errorText: string };
    assert.equal([answer.isAllowed, answer.error], [false, 500]);
    assert.match(answer.errorText, 'internal error');
    assert.is(reported.length, 1);
    assert.match(String(reported[0]), 'scenario engine bug');

    failing = false;
    const closed = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body() }).then(
      () => 'answered',
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    assert.is(closed, 'UND_ERR_SOCKET', 'the next request reached the (now working) scenario, whose rule closes the connection');
    assert.is(reported.length, 1);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test.run();
