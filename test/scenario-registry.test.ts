/** The live scenario set: start, switch, post/remove, hot reload with real files (awaited, never slept on). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScenarioRegistry, type ReloadOutcome } from '../src/scenario/registry/registry.js';
import { seededRandom } from '../src/scenario/runtime/random.js';
import type { RequestFacts } from '../src/scenario/runtime/engine.js';

const facts = (contentID: string): RequestFacts => ({
  request: { messageID: '6f1c1d2e-0000-4000-8000-000000000001', version: 1, contentID },
  client: { cn: 'license-server', fingerprint: null, authorized: true },
});

/** Which rule (and step) of the active scenario answers contentID. */
const ask = (registry: ScenarioRegistry, contentID: string) => {
  const decision = registry.active().answer(facts(contentID));
  return decision.step === null ? decision.rule : `${decision.rule}#${decision.step}`;
};

const allow = (rule: string) => `rules:\n  - name: ${rule}\n    respond: {isAllowed: true}\n`;
const steps = 'rules:\n  - name: steps\n    sequence: [{isAllowed: true}, {isAllowed: false}, {status: 503}]\n';

let folder = '';
let registries: ScenarioRegistry[] = [];

function tempFolder(files: Record<string, string>): string {
  folder = mkdtempSync(join(tmpdir(), 'em-registry-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
  return folder;
}

function registry(initial: string, options: { watch?: boolean; path?: string; onReload?: (outcome: ReloadOutcome) => void } = {}) {
  const created = new ScenarioRegistry({
    path: options.path ?? folder,
    initial,
    random: seededRandom(1),
    watch: options.watch ?? false,
    debounceMs: 20,
    ...(options.onReload ? { onReload: options.onReload } : {}),
  });
  registries.push(created);
  return created;
}

test.after.each(() => {
  for (const created of registries) created.close();
  registries = [];
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = '';
});

// --- start ----------------------------------------------------------------------

test('start scenario first: its file alone answers, then the other files give the view load() gives', async () => {
  tempFolder({ 'a.yaml': allow('a-rule'), 'b.yaml': steps, 'broken.yaml': 'rules:\n  - respond: {isAlowed: true}\n' });
  const scenarios = registry('b');
  const first = await scenarios.loadStartScenarioFirst();
  assert.equal({ ok: first.ok, remaining: first.remaining, known: first.known, errors: first.errors }, { ok: true, remaining: true, known: ['b'], errors: [] });
  assert.is(ask(scenarios, 'x'), 'steps#0');
  const rest = await scenarios.loadRemaining();
  assert.equal(rest.known, ['a', 'b']);
  assert.equal(rest.errors.map((error) => error.file), [join(folder, 'broken.yaml')]);
  assert.is(scenarios.activeName(), 'b');
  assert.is(ask(scenarios, 'x'), 'steps#1', 'the start file was not read again: its counters carry on');
  const full = registry('b');
  assert.ok((await full.load()).ok);
  assert.equal(scenarios.list(), full.list());
});

test('start scenario first: falls back to reading every file when no file is named after it, or it has errors', async () => {
  tempFolder({ 'a.yaml': 'name: renamed\n' + allow('a-rule'), 'b.yaml': steps, 'c.yaml': 'rules:\n  - respond: {isAlowed: true}\n' });
  const byName = await registry('renamed').loadStartScenarioFirst();
  assert.equal({ ok: byName.ok, remaining: byName.remaining, known: byName.known }, { ok: true, remaining: false, known: ['renamed', 'b'] });
  const broken = await registry('c').loadStartScenarioFirst();
  assert.equal({ ok: broken.ok, remaining: broken.remaining }, { ok: false, remaining: false });
  assert.match(broken.message ?? '', 'unknown scenario "c"');
});

test('start: the initial scenario is active; a broken file is reported but does not stop the start', async () => {
  tempFolder({ 'a.yaml': allow('a-rule'), 'b.yaml': steps, 'broken.yaml': 'rules:\n  - respond: {isAlowed: true}\n' });
  const scenarios = registry('a');
  const started = await scenarios.load();
  assert.ok(started.ok);
  assert.equal(started.known, ['a', 'b']);
  assert.is(started.errors.length, 1);
  assert.equal([started.errors[0]?.file, started.errors[0]?.line, started.errors[0]?.column], [join(folder, 'broken.yaml'), 2, 15]);
  assert.is(scenarios.activeName(), 'a');
  assert.is(ask(scenarios, 'x'), 'a-rule');
  const listing = scenarios.list();
  assert.is(listing.active, 'a');
  assert.equal(listing.scenarios, [
    { name: 'a', file: join(folder, 'a.yaml'), description: '', rules: ['a-rule'] },
    { name: 'b', file: join(folder, 'b.yaml'), description: '', rules: ['steps'] },
  ]);
  assert.is(listing.errors.length, 1);
});

test('start fails when the initial scenario is unknown, listing the known names', async () => {
  tempFolder({ 'a.yaml': allow('a-rule'), 'b.yaml': steps });
  const started = await registry('default').load();
  assert.not.ok(started.ok);
  assert.is(started.message, 'unknown scenario "default"; known: a, b');
  assert.throws(() => registries[0]?.active(), /load\(\) has not succeeded/);
});

test('start fails when no file is valid, with every file error', async () => {
  tempFolder({ 'a.yaml': 'rules: 5\n', 'b.yaml': 'rules: [\n' });
  const started = await registry('a').load();
  assert.not.ok(started.ok);
  assert.match(started.message ?? '', /no valid scenario in/);
  assert.equal(started.errors.map((error) => error.file), [join(folder, 'a.yaml'), join(folder, 'b.yaml')]);
});

test('start fails for a missing path and an empty folder', async () => {
  tempFolder({});
  const empty = await registry('default').load();
  assert.not.ok(empty.ok);
  assert.match(empty.errors[0]?.message ?? '', /no scenario files/);
  const missing = await registry('default', { path: join(folder, 'nope') }).load();
  assert.not.ok(missing.ok);
  assert.match(missing.errors[0]?.message ?? '', /cannot read/);
});

// --- switching and counters -------------------------------------------------------

test('switching scenario resets the counters of the one activated; unknown names list the known', async () => {
  tempFolder({ 'a.yaml': allow('a-rule'), 'b.yaml': steps });
  const scenarios = registry('b');
  assert.ok((await scenarios.load()).ok);
  assert.equal([ask(scenarios, 'x'), ask(scenarios, 'x')], ['steps#0', 'steps#1']);
  assert.equal(scenarios.setActive('a'), { ok: true });
  assert.is(ask(scenarios, 'x'), 'a-rule');
  assert.equal(scenarios.setActive('b'), { ok: true });
  assert.is(ask(scenarios, 'x'), 'steps#0');
  assert.equal(scenarios.setActive('nope'), { ok: false, error: 'no scenario named "nope"', known: ['a', 'b'] });
  assert.is(scenarios.activeName(), 'b');
});

test('resetCounters and reload() (POST /admin/reset) start every counter from zero', async () => {
  tempFolder({ 'b.yaml': steps });
  const scenarios = registry('b');
  assert.ok((await scenarios.load()).ok);
  ask(scenarios, 'x');
  ask(scenarios, 'x');
  scenarios.resetCounters();
  assert.is(ask(scenarios, 'x'), 'steps#0');
  ask(scenarios, 'x');
  await scenarios.reload();
  assert.is(ask(scenarios, 'x'), 'steps#0');
});

// --- posted scenarios -----------------------------------------------------------------

test('a posted scenario hides the file scenario of the same name until removed', async () => {
  tempFolder({ 'a.yaml': allow('from-file'), 'b.yaml': steps });
  const scenarios = registry('b');
  assert.ok((await scenarios.load()).ok);
  const posted = scenarios.post('name: a\nrules:\n  - name: from-post\n    respond: {isAllowed: false}\n', { activate: true });
  assert.equal(posted, { ok: true, name: 'a', replaced: true, warnings: [] });
  assert.is(scenarios.activeName(), 'a');
  assert.is(ask(scenarios, 'x'), 'from-post');
  assert.equal(
    scenarios.list().scenarios.map((scenario) => [scenario.name, scenario.file]),
    [['a', '(posted)'], ['b', join(folder, 'b.yaml')]],
  );
  await scenarios.reload();
  assert.is(ask(scenarios, 'x'), 'from-post', 'posted scenarios survive a reset');
  assert.equal(scenarios.remove('a'), { ok: true, active: 'b', fellBackTo: 'previous' }, 'b was active before the posted a');
  assert.ok(scenarios.setActive('a').ok);
  assert.is(ask(scenarios, 'x'), 'from-file', 'the file scenario is back');
  assert.equal(scenarios.remove('a'), { ok: false }, 'file scenarios cannot be removed');
});

test('post: JSON, ?activate=false, replacing, removing the active one falls back to the one active before', async () => {
  tempFolder({ 'b.yaml': steps });
  const scenarios = registry('b');
  assert.ok((await scenarios.load()).ok);
  const quiet = scenarios.post('{"name": "new", "rules": [{"name": "v1", "respond": {}}]}', { activate: false });
  assert.equal(quiet, { ok: true, name: 'new', replaced: false, warnings: [] });
  assert.is(scenarios.activeName(), 'b');
  assert.ok(scenarios.setActive('new').ok);
  assert.is(ask(scenarios, 'x'), 'v1');
  const replaced = scenarios.post('{"name": "new", "rules": [{"name": "v2", "respond": {}}]}', { activate: false });
  assert.ok(replaced.ok && replaced.replaced);
  assert.is(ask(scenarios, 'x'), 'v2', 'the active name now means the new version');
  assert.equal(scenarios.remove('new'), { ok: true, active: 'b', fellBackTo: 'previous' });
  assert.is(scenarios.activeName(), 'b');
});

const postedAs = (name: string, rule = name) => `name: ${name}\nrules:\n  - name: ${rule}\n    respond: {isAllowed: true}\n`;

test('removing the active posted scenario goes back to the one active before it was activated, through chains', async () => {
  tempFolder({ 'start.yaml': allow('from-start'), 'other.yaml': allow('from-other') });
  const scenarios = registry('start');
  assert.ok((await scenarios.load()).ok);
  assert.ok(scenarios.setActive('other').ok);
  scenarios.post(postedAs('a'), { activate: true });
  scenarios.post(postedAs('b'), { activate: true });
  assert.equal(scenarios.remove('b'), { ok: true, active: 'a', fellBackTo: 'previous' }, 'upload A, upload B, delete B: A');
  assert.is(ask(scenarios, 'x'), 'a');
  assert.equal(scenarios.remove('a'), { ok: true, active: 'other', fellBackTo: 'previous' }, 'then delete A: other, not the start scenario');
  assert.is(ask(scenarios, 'x'), 'from-other');

  scenarios.post(postedAs('a'), { activate: true });
  scenarios.post(postedAs('b'), { activate: true });
  assert.equal(scenarios.remove('a'), { ok: true, active: 'b', fellBackTo: null }, 'delete A while B is active: B stays');
  assert.equal(scenarios.remove('b'), { ok: true, active: 'other', fellBackTo: 'previous' }, 'then delete B: past A, which is gone');
  assert.equal(scenarios.remove('b'), { ok: false });
});

test('going back skips switches to the same scenario and re-posts of it; a file scenario it hid is what was active before', async () => {
  tempFolder({ 'start.yaml': allow('from-start'), 'other.yaml': allow('from-other') });
  const scenarios = registry('start');
  assert.ok((await scenarios.load()).ok);
  scenarios.post(postedAs('a', 'a-v1'), { activate: true });
  assert.ok(scenarios.setActive('other').ok);
  assert.ok(scenarios.setActive('a').ok);
  assert.ok(scenarios.setActive('a').ok);
  scenarios.post(postedAs('a', 'a-v2'), { activate: true });
  assert.is(ask(scenarios, 'x'), 'a-v2');
  assert.equal(scenarios.remove('a'), { ok: true, active: 'other', fellBackTo: 'previous' }, 'start, a, other, a: other was active before a');

  // A posted scenario that replaced the active file scenario of its name: that file scenario was active before it.
  scenarios.post(postedAs('other', 'posted-other'), { activate: true });
  assert.is(ask(scenarios, 'x'), 'posted-other');
  assert.equal(scenarios.remove('other'), { ok: true, active: 'other', fellBackTo: 'previous' });
  assert.is(ask(scenarios, 'x'), 'from-other');
});

test('a scenario posted without activating, then activated, goes back to the one active when it was activated', async () => {
  tempFolder({ 'start.yaml': allow('from-start'), 'other.yaml': allow('from-other') });
  const scenarios = registry('start');
  assert.ok((await scenarios.load()).ok);
  scenarios.post(postedAs('quiet'), { activate: false });
  assert.ok(scenarios.setActive('other').ok);
  assert.ok(scenarios.setActive('quiet').ok);
  assert.equal(scenarios.remove('quiet'), { ok: true, active: 'other', fellBackTo: 'previous' });
});

test('post: invalid text gives positioned errors in (posted); a name is required', async () => {
  tempFolder({ 'b.yaml': steps });
  const scenarios = registry('b');
  assert.ok((await scenarios.load()).ok);
  const invalid = scenarios.post('name: x\nrules:\n  - respond: {delay: soon}\n', { activate: true });
  assert.not.ok(invalid.ok);
  if (!invalid.ok) {
    assert.equal([invalid.errors[0]?.file, invalid.errors[0]?.line, invalid.errors[0]?.column], ['(posted)', 3, 22]);
  }
  const nameless = scenarios.post('rules: []\n', { activate: true });
  assert.not.ok(nameless.ok);
  assert.is(scenarios.activeName(), 'b');
});

// --- hot reload -------------------------------------------------------------------------

test('hot reload: a good edit is served; unchanged scenarios keep their counters and object', async () => {
  tempFolder({ 'a.yaml': allow('old-rule'), 'b.yaml': steps });
  const outcomes: ReloadOutcome[] = [];
  const scenarios = registry('b', { watch: true, onReload: (outcome) => outcomes.push(outcome) });
  assert.ok((await scenarios.load()).ok);
  const activeBefore = scenarios.active();
  ask(scenarios, 'x');

  const reloaded = scenarios.nextReload(() => scenarios.list().scenarios.some((s) => s.rules.includes('new-rule')));
  writeFileSync(join(folder, 'a.yaml'), allow('new-rule'));
  const outcome = await reloaded;
  assert.equal(outcome.changed, [join(folder, 'a.yaml')]);
  assert.equal(outcome.errors, []);
  assert.is(scenarios.active(), activeBefore, 'b did not change: same compiled scenario');
  assert.is(ask(scenarios, 'x'), 'steps#1', 'and its counter went on');
  assert.ok(outcomes.some((seen) => seen.trigger === 'watch' && seen.names.includes('a')), 'onReload was told');
});

test('hot reload: a broken edit keeps the last good version and lists the error until fixed', async () => {
  tempFolder({ 'a.yaml': allow('good-rule') });
  const scenarios = registry('a', { watch: true });
  assert.ok((await scenarios.load()).ok);

  const broken = scenarios.nextReload((outcome) => outcome.errors.some((error) => error.message.includes('isAlowed')));
  writeFileSync(join(folder, 'a.yaml'), 'rules:\n  - name: bad\n    respond: {isAlowed: true}\n');
  const outcome = await broken;
  assert.equal(outcome.keptLastGood, [join(folder, 'a.yaml')]);
  assert.is(ask(scenarios, 'x'), 'good-rule');
  const [error] = scenarios.list().errors;
  assert.equal([error?.file, error?.line, error?.column], [join(folder, 'a.yaml'), 3, 15]);

  const fixed = scenarios.nextReload(() => scenarios.list().errors.length === 0);
  writeFileSync(join(folder, 'a.yaml'), allow('fixed-rule'));
  await fixed;
  assert.is(ask(scenarios, 'x'), 'fixed-rule');
});

test('hot reload: a save by rename (write a temporary file, rename it over) is picked up', async () => {
  tempFolder({ 'a.yaml': allow('before') });
  const scenarios = registry('a', { watch: true });
  assert.ok((await scenarios.load()).ok);
  const reloaded = scenarios.nextReload(() => ask(scenarios, 'x') === 'after');
  writeFileSync(join(folder, '.a.yaml.tmp'), allow('after'));
  renameSync(join(folder, '.a.yaml.tmp'), join(folder, 'a.yaml'));
  await reloaded;
  assert.is(ask(scenarios, 'x'), 'after');
});

test('hot reload: new files appear, deleted ones go; a deleted active scenario keeps answering, with an error', async () => {
  tempFolder({ 'a.yaml': allow('a-rule'), 'b.yaml': steps });
  const scenarios = registry('a', { watch: true });
  assert.ok((await scenarios.load()).ok);

  const added = scenarios.nextReload((outcome) => outcome.names.includes('c'));
  writeFileSync(join(folder, 'c.yml'), allow('c-rule'));
  await added;

  const removed = scenarios.nextReload((outcome) => !outcome.names.includes('a'));
  unlinkSync(join(folder, 'a.yaml'));
  const outcome = await removed;
  assert.is(outcome.active, 'a');
  assert.is(ask(scenarios, 'x'), 'a-rule', 'still answering from its last version');
  assert.match(scenarios.list().errors[0]?.message ?? '', /the active scenario "a" is no longer defined/);
  assert.ok(scenarios.list().scenarios.some((scenario) => scenario.name === 'a'));

  assert.ok(scenarios.setActive('c').ok);
  assert.equal(scenarios.list().errors, []);
  assert.equal(scenarios.list().scenarios.map((scenario) => scenario.name), ['b', 'c']);
});

test('hot reload of a single file watches only that file', async () => {
  tempFolder({ 'only.yaml': allow('one'), 'other.yaml': allow('other') });
  const scenarios = registry('only', { watch: true, path: join(folder, 'only.yaml') });
  const started = await scenarios.load();
  assert.equal(started.known, ['only']);
  const reloaded = scenarios.nextReload(() => ask(scenarios, 'x') === 'two');
  writeFileSync(join(folder, 'other.yaml'), allow('ignored'));
  writeFileSync(join(folder, 'only.yaml'), allow('two'));
  await reloaded;
  assert.equal(scenarios.list().scenarios.map((scenario) => scenario.name), ['only']);
});

test('hot reload of a single file: deleted, then written again, it comes back', async () => {
  tempFolder({ 'only.yaml': allow('one') });
  const scenarios = registry('only', { watch: true, path: join(folder, 'only.yaml') });
  assert.ok((await scenarios.load()).ok);
  const gone = scenarios.nextReload((outcome) => outcome.errors.some((error) => error.message.includes('cannot read')));
  unlinkSync(join(folder, 'only.yaml'));
  await gone;
  assert.is(ask(scenarios, 'x'), 'one', 'still serving meanwhile');
  const back = scenarios.nextReload(() => ask(scenarios, 'x') === 'two');
  writeFileSync(join(folder, 'only.yaml'), allow('two'));
  await back;
  assert.equal(scenarios.list().errors, []);
});

test('close() stops watching', async () => {
  tempFolder({ 'a.yaml': allow('before') });
  const scenarios = registry('a', { watch: true });
  assert.ok((await scenarios.load()).ok);
  scenarios.close();
  const late = scenarios.nextReload(() => true, 300);
  writeFileSync(join(folder, 'a.yaml'), allow('after'));
  await late.then(
    () => assert.unreachable('no reload after close'),
    (error: Error) => assert.match(error.message, /no matching scenario reload within 300 ms/),
  );
  assert.is(ask(scenarios, 'x'), 'before');
});

test.run();
