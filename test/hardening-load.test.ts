/**
 * Issue 6, part 4: nothing lost under load. 200 keep-alive clients send for a
 * few seconds while the test resets the mock, switches scenario, posts one and
 * rewrites a scenario file. No request fails unless the scenario says so, every
 * answer belongs to its own request, sequence steps are handed out once each,
 * and the journal holds exactly the requests sent since the last reset.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startTestMock, scenarioFolder, type TestMock } from './helpers/mock.js';
import { seededRandom } from './helpers/adversarial-corpus.js';
import { closeAfter } from './helpers/cleanup.js';
import { eventually } from './helpers/eventually.js';
import { slack } from './helpers/slack.js';

const own = closeAfter(test.after.each);

const CLIENTS = 200;
/** The chaos lasts this long, and longer if a loaded machine has not yet sent MIN_REQUESTS and made MIN_ACTIONS. */
const CHAOS_MS = 3000;
const MIN_REQUESTS = CLIENTS * 5;
const MIN_ACTIONS = 5;
const STEPS = 50;

/** A scenario whose `counted` rule hands out STEPS numbered steps in a loop; `tag` tells which scenario answered. */
function scenarioText(tag: string, comment = ''): string {
  const steps = Array.from({ length: STEPS }, (_, step) => `      - { errorText: "counted {{messageID}}", extra: { step: ${step}, scenario: ${tag} } }`);
  return [
    `# ${comment}`,
    `name: ${tag}`,
    'rules:',
    '  - name: scripted-503',
    '    match: { contentID: scripted-503 }',
    '    respond: { status: 503, isAllowed: false, error: 503, errorText: "scripted {{messageID}}" }',
    '  - name: scripted-close',
    '    match: { contentID: scripted-close }',
    '    respond: { fault: close }',
    '  - name: counted',
    '    match: { contentID: counted }',
    '    loop: true',
    '    sequence:',
    ...steps,
    '  - name: plain',
    `    respond: { errorText: "plain {{messageID}}", extra: { scenario: ${tag} } }`,
  ].join('\n');
}

interface Sent {
  messageID: string;
  contentID: string;
  sentAt: number;
  answeredAt: number;
  status: number | null;
  body: any;
  error: string | null;
}

let mock: TestMock;
let folder: string;
test.before(async () => {
  folder = await scenarioFolder({ 'seq-a.yaml': scenarioText('seq-a'), 'seq-b.yaml': scenarioText('seq-b') });
  mock = await startTestMock({ scenarios: folder, scenario: 'seq-a', watch: true, journalSize: 1_000_000, logLevel: 'warn' });
});
test.after(async () => {
  await mock.close();
});

function send(agent: https.Agent, contentID: string): Promise<Sent> {
  const messageID = randomUUID();
  const sentAt = Date.now();
  const record = (status: number | null, body: any, error: string | null): Sent => ({ messageID, contentID, sentAt, answeredAt: Date.now(), status, body, error });
  return mock.entitle({ messageID, version: 1, contentID }, { agent, timeoutMs: slack(2500) }).then(
    (reply) => record(reply.status, reply.json, null),
    (error: NodeJS.ErrnoException) => record(null, null, error.code ?? error.message),
  );
}

test('200 keep-alive clients through resets, switches, posts and file reloads: nothing lost, nothing mixed up', async () => {
  const agent = own(new https.Agent({ keepAlive: true, maxSockets: CLIENTS }));
  const random = seededRandom(4);
  const sent: Sent[] = [];
  let stop = false;
  own(() => (stop = true));
  const client = async () => {
    while (!stop) {
      const roll = random();
      const contentID = roll < 0.01 ? 'scripted-close' : roll < 0.05 ? 'scripted-503' : roll < 0.6 ? 'counted' : randomUUID();
      sent.push(await send(agent, contentID));
    }
  };

  // Every action here restarts a sequence counter of some scenario (an "epoch" for the step check).
  const actions: string[] = [];
  const chaos = async () => {
    const started = Date.now();
    const goOn = () =>
      Date.now() < started + slack(CHAOS_MS) && (Date.now() < started + CHAOS_MS || sent.length < MIN_REQUESTS || actions.length < MIN_ACTIONS);
    for (let i = 0; goOn(); i++) {
      switch (i % 5) {
        case 0:
          assert.is((await mock.admin('POST', '/admin/reset')).status, 200);
          actions.push('reset');
          break;
        case 1:
        case 3: {
          const name = i % 10 === 1 ? 'seq-b' : 'seq-a';
          assert.is((await mock.admin('PUT', '/admin/scenarios/active', { name })).status, 200);
          actions.push(`switch ${name}`);
          break;
        }
        case 2: {
          const reloaded = mock.scenarios.nextReload((outcome) => outcome.trigger === 'watch' && outcome.changed.some((file) => file.endsWith('seq-a.yaml')));
          await writeFile(join(folder, 'seq-a.yaml'), scenarioText('seq-a', `edit ${i}`));
          const outcome = await reloaded;
          assert.equal(outcome.errors, []);
          actions.push('file reload seq-a');
          break;
        }
        case 4: {
          const posted = await mock.admin('POST', '/admin/scenarios', scenarioText('seq-c', `post ${i}`), { 'content-type': 'application/yaml' });
          assert.is(posted.status, 201);
          actions.push('post seq-c');
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50)); // let the clients run between two actions
    }
  };

  const clients = Array.from({ length: CLIENTS }, client);
  await chaos();
  // The last reset, then a quiet stretch: the journal must hold exactly what was sent after it.
  const resetSentAt = Date.now();
  assert.is((await mock.admin('POST', '/admin/reset')).status, 200);
  const resetDoneAt = Date.now();
  // Then the clients keep going, with nothing else changing, until the sequence has gone round after the reset.
  await eventually(() => sent.filter((request) => request.contentID === 'counted' && request.sentAt > resetDoneAt).length > STEPS + 10, {
    timeoutMs: slack(2000),
    what: `${STEPS + 10} counted requests sent after the last reset`,
  });
  stop = true;
  await Promise.all(clients);

  // 1. No failures but the scripted ones; every answer is for its own request.
  // (About 10,000 requests and 15 actions on an idle machine; the floor only guards against a test that did nothing.)
  assert.ok(sent.length >= MIN_REQUESTS, `only ${sent.length} requests`);
  assert.ok(actions.length >= MIN_ACTIONS, `only ${actions.length} resets, switches, posts and reloads`);
  const unexpected = sent.filter((request) =>
    request.contentID === 'scripted-close' ? request.error === null : request.contentID === 'scripted-503' ? request.status !== 503 : request.status !== 200,
  );
  assert.equal(unexpected.slice(0, 5), [], `${unexpected.length} requests failed without a script saying so`);
  for (const request of sent.filter((each) => each.body !== null)) {
    assert.is(request.body.messageID, request.messageID, 'the messageID echoed is the request\'s own');
    assert.ok(String(request.body.errorText).endsWith(request.messageID), 'the body was built from its own request');
  }

  // 2. Sequence steps: within one counter epoch, steps 0..49 go round in order, each handed out once.
  //    Across epochs the count of step s can only fall as s grows, by at most one per epoch.
  const counted = sent.filter((request) => request.contentID === 'counted');
  for (const tag of ['seq-a', 'seq-b', 'seq-c']) {
    const counts = new Array(STEPS).fill(0);
    for (const request of counted) if (request.body.scenario === tag) counts[request.body.step]++;
    for (let step = 1; step < STEPS; step++) assert.ok(counts[step] <= counts[step - 1], `${tag}: step ${step} handed out more often than step ${step - 1}: ${counts.join(',')}`);
    assert.ok(counts[0] - counts[STEPS - 1] <= actions.length + 1, `${tag}: more partial rounds than counter resets`);
  }

  // 3. The journal since the last reset: exactly the requests sent after it (those overlapping it may
  //    fall either side), each once, with the answer the client got.
  const journal = (await mock.admin('GET', '/admin/requests')).json;
  assert.is(journal.dropped, 0);
  assert.is(journal.total, journal.requests.length);
  const byMessageID = new Map(sent.map((request) => [request.messageID, request]));
  const journaled = new Set<string>();
  for (const entry of journal.requests) {
    const request = byMessageID.get(entry.request.messageID);
    assert.ok(request, 'every journal entry is a request a client sent');
    assert.not.ok(journaled.has(entry.request.messageID), 'journaled once');
    journaled.add(entry.request.messageID);
    assert.ok(request.answeredAt >= resetSentAt, 'nothing from before the reset survived it');
    if (request.status !== null) assert.is(entry.response.status, request.status);
  }
  const after = sent.filter((request) => request.sentAt > resetDoneAt);
  const overlapping = sent.filter((request) => request.sentAt <= resetDoneAt && request.answeredAt >= resetSentAt);
  for (const request of after) assert.ok(journaled.has(request.messageID), 'every request sent after the reset is journaled');
  assert.ok(journal.total >= after.length && journal.total <= after.length + overlapping.length, `journal ${journal.total}, sent after ${after.length} (+${overlapping.length} overlapping)`);

  // In journal order, the steps of the last epoch run without a gap or a repeat; the one
  // restart allowed is the reset's own (its counters are reset after it re-reads the files).
  const steps: number[] = journal.requests.filter((entry: any) => entry.rule === 'counted').map((entry: any) => entry.step);
  const restarts = steps.filter((step, index) => index > 0 && step !== ((steps[index - 1] as number) + 1) % STEPS);
  assert.ok(restarts.length <= 1 && restarts.every((step) => step === 0), `steps after the last reset: ${steps.slice(0, 120).join(',')}`);
  assert.ok(steps.length > STEPS, 'the sequence went round at least once after the last reset');
});

test.run();
