/**
 * The order of a start: the start scenario's file is read before the entitlement listener
 * opens, the other files (and the admin API) after it; when the start line is logged, every
 * file has been read, skipped files are reported before it, and both listeners answer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { entitlementRequest, scenarioFolder, startTestMock, type TestMock } from './helpers/mock.js';

const allow = (rule: string) => `rules:\n  - name: ${rule}\n    respond: { isAllowed: true }\n`;

let mock: TestMock | null = null;
test.after.each(async () => {
  await mock?.close();
  mock = null;
});

test('when the start line is logged, every scenario file was read and skipped files were reported before it', async () => {
  const folder = await scenarioFolder({
    'a-first.yaml': allow('a-rule'),
    'default.yaml': allow('default-rule'),
    'broken.yaml': 'rules:\n  - respond: { isAlowed: true }\n',
  });
  mock = await startTestMock({ scenarios: folder });
  const messages = mock.logs.map((line) => String(line.msg));
  const started = messages.findIndex((msg) => msg.startsWith('entitlement-mock listening on'));
  const skipped = messages.findIndex((msg) => msg === 'scenario file skipped');
  assert.ok(started >= 0 && skipped >= 0 && skipped < started, `log order: ${messages.join(' | ')}`);
  assert.is(String((mock.logs[skipped]!.error as string).split(':')[0]), join(folder, 'broken.yaml'));

  const listing = (await mock.admin('GET', '/admin/scenarios')).json;
  assert.is(listing.active, 'default');
  assert.equal(listing.scenarios.map((scenario: { name: string }) => scenario.name), ['a-first', 'default']);
  assert.equal(listing.errors.map((error: { file: string }) => error.file), [join(folder, 'broken.yaml')]);
  assert.is((await mock.entitle(entitlementRequest())).json.isAllowed, true);
  assert.is((await mock.admin('PUT', '/admin/scenarios/active', { name: 'a-first' })).status, 200);
});

test('a start scenario defined in a file of another name still starts (every file read first)', async () => {
  const folder = await scenarioFolder({ 'one.yaml': `name: renamed\n${allow('r')}`, 'two.yaml': allow('t') });
  mock = await startTestMock({ scenarios: folder, scenario: 'renamed' });
  assert.is((await mock.admin('GET', '/admin/scenarios')).json.active, 'renamed');
  assert.is((await mock.entitle(entitlementRequest())).status, 200);
});

test.run();
