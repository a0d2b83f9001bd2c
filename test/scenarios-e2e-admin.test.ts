/**
 * Steering scenarios through the admin API while a license server talks to
 * the mock over real mTLS: switching, posting inline scenarios, /admin/reset
 * re-reading files, and hot reload of good and broken edits.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { entitlementRequest, eventually, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';

const ALPHA = `
description: the first scenario
rules:
  - name: counted
    match: { contentID: counted }
    sequence: [{ errorText: alpha-0 }, { errorText: alpha-1 }]
  - name: alpha-rest
    respond: { errorText: alpha }
`;
const BETA = `
description: the second scenario
rules:
  - { name: beta-rest, respond: { errorText: beta } }
`;

let mock: TestMock;
let folder: string;
test.before(async () => {
  folder = await scenarioFolder({ 'alpha.yaml': ALPHA, 'beta.yml': BETA });
  mock = await startTestMock({ scenarios: folder, scenario: 'alpha' });
});
test.after(async () => {
  await mock.close();
});

async function said(target: TestMock = mock, contentID = 'any'): Promise<string> {
  const reply = await target.entitle(entitlementRequest({ contentID }));
  return String(reply.json?.errorText ?? `${reply.status} ${reply.bodyText}`);
}

const yaml = { 'content-type': 'application/yaml' };

test('GET /admin/scenarios lists every scenario with its file, description and rule names', async () => {
  const { status, json } = await mock.admin('GET', '/admin/scenarios');
  assert.is(status, 200);
  assert.is(json.active, 'alpha');
  assert.equal(json.errors, []);
  const byName = Object.fromEntries(json.scenarios.map((s: any) => [s.name, s]));
  assert.equal(byName.alpha, { name: 'alpha', file: join(folder, 'alpha.yaml'), description: 'the first scenario', rules: ['counted', 'alpha-rest'] });
  assert.equal(byName.beta, { name: 'beta', file: join(folder, 'beta.yml'), description: 'the second scenario', rules: ['beta-rest'] });
});

test('PUT /admin/scenarios/active switches the answering scenario and resets its counters; unknown names get 404 with the known ones', async () => {
  assert.is(await said(mock, 'counted'), 'alpha-0');
  assert.is(await said(mock, 'counted'), 'alpha-1');
  const toBeta = await mock.admin('PUT', '/admin/scenarios/active', { name: 'beta' });
  assert.is(toBeta.status, 200);
  assert.is(toBeta.json.active, 'beta');
  assert.is(await said(mock, 'counted'), 'beta');
  assert.is((await mock.admin('GET', '/health')).json.scenario, 'beta');
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'alpha' });
  assert.is(await said(mock, 'counted'), 'alpha-0', 'the sequence starts again');

  const unknown = await mock.admin('PUT', '/admin/scenarios/active', { name: 'gamma' });
  assert.is(unknown.status, 404);
  assert.match(unknown.json.message, /gamma/);
  assert.equal([...unknown.json.known].sort(), ['alpha', 'beta']);
  assert.is((await mock.admin('GET', '/admin/scenarios')).json.active, 'alpha', 'a failed switch changes nothing');
  assert.is(await said(), 'alpha');
});

test('POST /admin/scenarios: YAML and JSON bodies load with 201 and become active; ?activate=false only adds', async () => {
  const posted = await mock.admin('POST', '/admin/scenarios', 'name: inline-yaml\nrules:\n  - respond: { errorText: from-yaml }\n', yaml);
  assert.is(posted.status, 201, posted.text);
  assert.equal(posted.json, { name: 'inline-yaml', replaced: false, active: 'inline-yaml' });
  assert.is(await said(), 'from-yaml');

  const json = await mock.admin('POST', '/admin/scenarios', { name: 'inline-json', rules: [{ name: 'j', respond: { errorText: 'from-json' } }] });
  assert.is(json.status, 201, json.text);
  assert.is(json.json.active, 'inline-json');
  assert.is(await said(), 'from-json');
  assert.is((await mock.admin('GET', '/admin/requests?limit=1')).json.requests[0].rule, 'j');

  const quiet = await mock.admin('POST', '/admin/scenarios?activate=false', 'name: inline-quiet\nrules:\n  - respond: { errorText: quiet }\n', yaml);
  assert.is(quiet.status, 201);
  assert.is(quiet.json.active, 'inline-json');
  assert.is(await said(), 'from-json', 'still the active one');
  const listed = (await mock.admin('GET', '/admin/scenarios')).json.scenarios.find((s: any) => s.name === 'inline-quiet');
  assert.is(listed.file, '(posted)');
  assert.is((await mock.admin('PUT', '/admin/scenarios/active', { name: 'inline-quiet' })).status, 200);
  assert.is(await said(), 'quiet');

  const again = await mock.admin('POST', '/admin/scenarios', 'name: inline-quiet\nrules:\n  - respond: { errorText: quiet-2 }\n', yaml);
  assert.is(again.json.replaced, true);
  assert.is(await said(), 'quiet-2');
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'alpha' });
});

test('POST /admin/scenarios: a broken scenario gets 400 with line and column, and changes nothing', async () => {
  const text = ['name: broken', 'rules:', '  - match: { contentID: x }', '    respnd: { isAllowed: true }', ''].join('\n');
  const reply = await mock.admin('POST', '/admin/scenarios', text, yaml);
  assert.is(reply.status, 400);
  assert.ok(Array.isArray(reply.json.errors) && reply.json.errors.length > 0, reply.text);
  const error = reply.json.errors.find((e: any) => /respnd/.test(e.message));
  assert.ok(error, reply.text);
  assert.is(error.line, 4);
  assert.is(error.column, 5);
  assert.is(error.file, '(posted)');

  const badYaml = await mock.admin('POST', '/admin/scenarios', 'name: worse\nrules: [\n  - {', yaml);
  assert.is(badYaml.status, 400);
  assert.type(badYaml.json.errors[0].line, 'number');
  assert.type(badYaml.json.errors[0].column, 'number');

  const names = (await mock.admin('GET', '/admin/scenarios')).json.scenarios.map((s: any) => s.name);
  assert.not.ok(names.includes('broken') || names.includes('worse'));
  assert.is(await said(), 'alpha');
});

test('a posted scenario takes precedence over the file scenario of its name; DELETE brings the file one back', async () => {
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'alpha' });
  const posted = await mock.admin('POST', '/admin/scenarios', 'name: beta\nrules:\n  - respond: { errorText: posted-beta }\n', yaml);
  assert.is(posted.status, 201);
  assert.is(posted.json.replaced, true);
  assert.is(await said(), 'posted-beta');
  const listed = (await mock.admin('GET', '/admin/scenarios')).json.scenarios.filter((s: any) => s.name === 'beta');
  assert.is(listed.length, 1);
  assert.is(listed[0].file, '(posted)');

  await mock.admin('POST', '/admin/reset');
  assert.is(await said(), 'posted-beta', 'posted scenarios survive a reset');

  const removed = await mock.admin('DELETE', '/admin/scenarios/beta');
  assert.is(removed.status, 200);
  assert.equal(removed.json, { removed: 'beta', active: 'alpha', fellBackTo: 'previous' }, 'alpha was active before the posted beta');
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'beta' });
  assert.is(await said(), 'beta', 'the file scenario answers again');
  assert.is((await mock.admin('GET', '/admin/scenarios')).json.scenarios.find((s: any) => s.name === 'beta').file, join(folder, 'beta.yml'));
  assert.is((await mock.admin('DELETE', '/admin/scenarios/beta')).status, 404, 'file scenarios cannot be deleted');
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'alpha' });
});

test('DELETE of the active posted scenario goes back to the one active before it, and says so; chains unwind', async () => {
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'beta' });
  for (const name of ['up-a', 'up-b'])
    assert.is((await mock.admin('POST', '/admin/scenarios', `name: ${name}\nrules:\n  - respond: { errorText: ${name} }\n`, yaml)).status, 201);
  assert.is(await said(), 'up-b');
  assert.equal((await mock.admin('DELETE', '/admin/scenarios/up-b')).json, { removed: 'up-b', active: 'up-a', fellBackTo: 'previous' });
  assert.is(await said(), 'up-a');
  assert.equal((await mock.admin('DELETE', '/admin/scenarios/up-a')).json, { removed: 'up-a', active: 'beta', fellBackTo: 'previous' });
  assert.is(await said(), 'beta', 'the scenario active before, not the start scenario (alpha)');

  for (const name of ['up-a', 'up-b']) await mock.admin('POST', '/admin/scenarios', `name: ${name}\nrules:\n  - respond: { errorText: ${name} }\n`, yaml);
  assert.equal((await mock.admin('DELETE', '/admin/scenarios/up-a')).json, { removed: 'up-a', active: 'up-b', fellBackTo: null }, 'not active: B stays');
  assert.is(await said(), 'up-b');
  assert.equal((await mock.admin('DELETE', '/admin/scenarios/up-b')).json, { removed: 'up-b', active: 'beta', fellBackTo: 'previous' });
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'alpha' });
});

test('POST /admin/reset re-reads the files from disk (without watching), resets counters and clears the journal', async () => {
  await mock.admin('PUT', '/admin/scenarios/active', { name: 'alpha' });
  assert.is(await said(mock, 'counted'), 'alpha-0');
  await writeFile(join(folder, 'alpha.yaml'), ALPHA.replace('errorText: alpha }', 'errorText: alpha-edited }'));
  assert.is(await said(), 'alpha', 'no watching: the edit is not seen yet');

  const reset = await mock.admin('POST', '/admin/reset');
  assert.is(reset.status, 200);
  assert.is(reset.json.active, 'alpha');
  assert.equal((await mock.admin('GET', '/admin/requests')).json.requests, []);
  assert.is(await said(), 'alpha-edited');
  assert.is(await said(mock, 'counted'), 'alpha-0', 'the sequence counter was reset');
  await writeFile(join(folder, 'alpha.yaml'), ALPHA);
  await mock.admin('POST', '/admin/reset');
});

test('hot reload: a good edit is served by the next request; a broken file keeps the last good version and shows its error', async () => {
  const watched = await scenarioFolder({ 'live.yaml': 'rules:\n  - name: v1\n    respond: { errorText: v1 }\n' });
  const live = await startTestMock({ scenarios: watched, scenario: 'live', watch: true });
  const file = join(watched, 'live.yaml');
  const changed = (outcome: { changed: string[] }) => outcome.changed.includes(file);
  try {
    assert.is(await said(live), 'v1');

    let reloaded = live.scenarios.nextReload(changed);
    await writeFile(file, 'rules:\n  - name: v2\n    respond: { errorText: v2 }\n');
    assert.equal((await reloaded).errors, []);
    assert.is(await said(live), 'v2');
    assert.equal((await live.admin('GET', '/admin/scenarios')).json.scenarios[0].rules, ['v2']);

    // A broken edit: the unknown key is on line 3, column 5.
    reloaded = live.scenarios.nextReload(changed);
    await writeFile(file, 'rules:\n  - name: v3\n    respnd: { errorText: v3 }\n');
    const outcome = await reloaded;
    assert.equal(outcome.keptLastGood, [file]);
    assert.is(await said(live), 'v2', 'the last good version keeps serving');
    const { json } = await live.admin('GET', '/admin/scenarios');
    assert.is(json.active, 'live');
    const error = json.errors.find((e: any) => e.file === file);
    assert.ok(error, JSON.stringify(json.errors));
    assert.is(error.line, 3);
    assert.is(error.column, 5);
    assert.match(error.message, /respnd/);
    const logged = await eventually(() => live.logs.find((line) => JSON.stringify(line).includes(`${file}:3:5: `)));
    assert.is(logged.level, 40, 'one warning line names file:line:column');
    assert.match(JSON.stringify(logged), /respnd/);

    // Fixed by an editor that saves to a temporary file and renames it over the original.
    reloaded = live.scenarios.nextReload(changed);
    await writeFile(join(watched, '.live.yaml.tmp'), 'rules:\n  - name: v4\n    respond: { errorText: v4 }\n');
    await rename(join(watched, '.live.yaml.tmp'), file);
    assert.equal((await reloaded).errors, []);
    assert.is(await said(live), 'v4');
    assert.equal((await live.admin('GET', '/admin/scenarios')).json.errors, []);
  } finally {
    await live.close();
  }
});

test('hot reload resets the counters of the edited scenario', async () => {
  const watched = await scenarioFolder({ 'live.yaml': 'rules:\n  - sequence: [{ errorText: s0 }, { errorText: s1 }]\n' });
  const live = await startTestMock({ scenarios: watched, scenario: 'live', watch: true });
  const file = join(watched, 'live.yaml');
  try {
    assert.is(await said(live), 's0');
    assert.is(await said(live), 's1');
    const reloaded = live.scenarios.nextReload((outcome) => outcome.changed.includes(file));
    await writeFile(file, 'rules:\n  - sequence: [{ errorText: t0 }, { errorText: t1 }]\n');
    await reloaded;
    assert.is(await said(live), 't0');
  } finally {
    await live.close();
  }
});

test.run();
