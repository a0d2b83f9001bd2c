/**
 * `entitlement-mock record` as a process (start, forward, SIGTERM, file written) and
 * its option parsing: required options, env variables, bad values as one line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecordCommand, run } from '../src/cli/record.js';
import { run as validate } from '../src/cli/validate.js';
import { UsageError } from '../src/cli/args.js';
import { loadScenarioPath } from '../src/scenario/registry/load.js';
import { testPki } from './helpers/pki.js';
import { runCaptured, spawnCli, startLineOf } from './helpers/cli.js';
import { entitlementRequest, sendEntitlementRequest } from './helpers/mock.js';
import { tempDir } from './helpers/temp.js';
import { startUpstream } from './helpers/upstream.js';

const SERVICE = `
rules:
  - match: { contentID: movie-1 }
    respond: { isAllowed: false, error: -2033, errorText: not entitled }
`;

test('record runs as a process: ready line, forwards a request, writes the scenario on SIGTERM and exits 0', async () => {
  const upstream = await startUpstream(SERVICE);
  const pki = await testPki();
  const out = join(tempDir('cli-record'), 'captured.yaml');
  const child = spawnCli(
    [
      'record',
      '--upstream', upstream.mock.entitlementUrl,
      '--upstream-cert', join(upstream.certs, 'client.crt'),
      '--upstream-key', join(upstream.certs, 'client.key'),
      '--out', out,
      '--host', '127.0.0.1', '--port', '0', '--admin-host', '127.0.0.1', '--admin-port', '0', '--no-watch',
    ],
    { EM_CERTS: pki.dir, EM_UPSTREAM_CA: join(upstream.certs, 'ca.crt') },
  );
  try {
    const { startLine, lines } = await startLineOf(child);
    assert.equal(startLine.recording, { upstream: upstream.mock.entitlementUrl, out });
    const port = Number(new URL(startLine.entitlementUrl).port);
    const request = entitlementRequest({ contentID: 'movie-1', requestType: 1 });
    const reply = await sendEntitlementRequest({ port, ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' }, request);
    assert.is(reply.status, 200);
    assert.equal(reply.json, { messageID: request.messageID, version: 1, isAllowed: false, epTokenURL: '', error: -2033, errorText: 'not entitled' });
    assert.is(existsSync(out), false, 'written at stop, not before');

    const finalLines: Record<string, any>[] = [];
    lines.on('line', (line) => finalLines.push(JSON.parse(line)));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.is(code, 0);
    assert.ok(finalLines.some((line) => line.file === out && line.rules === 1), 'the log says where it wrote');
    const validated = await runCaptured(validate, [out]);
    assert.is(validated.code, 0, validated.stdout);
    assert.is(validated.stdout, `ok: ${out} (scenario captured)\n`);
    const loaded = loadScenarioPath(out);
    assert.equal(loaded.scenarios[0]!.definition.rules, [
      {
        name: 'movie-1 type 1',
        match: { contentID: 'movie-1', requestType: 1 },
        respond: { isAllowed: false, epTokenURL: '', error: -2033, errorText: 'not entitled' },
      },
    ]);
    assert.match(readFileSync(out, 'utf8'), new RegExp(`# Replay offline: entitlement-mock serve --scenarios ${out} --scenario captured`));
  } finally {
    child.kill('SIGKILL');
    await upstream.mock.close();
  }
});

test('record options: flags and EM_* variables, defaults, and one-line errors', async () => {
  const upstream = await startUpstream(SERVICE);
  await upstream.mock.close();
  const cert = join(upstream.certs, 'client.crt');
  const key = join(upstream.certs, 'client.key');
  const base = ['--upstream', 'https://staging.example.com/entitlement', '--upstream-cert', cert, '--upstream-key', key];

  const parsed = parseRecordCommand([...base, '--port', '9443', '--template-tokens'], { EM_UPSTREAM_TIMEOUT: '2s', EM_RECORD_MATCH_COOKIE: 'true' }, new Date('2026-12-04T05:06:07.890Z'));
  assert.is(parsed.port, 9443, 'serve options still apply');
  assert.ok(parsed.record);
  assert.is(parsed.record.upstream.url.href, 'https://staging.example.com/entitlement');
  assert.is(parsed.record.upstream.timeoutMs, 2000);
  assert.is(parsed.record.upstream.caPem, null, 'system CAs by default');
  assert.is(parsed.record.out, 'recorded-2026-12-04T05-06-07Z.yaml');
  assert.equal([parsed.record.templateTokens, parsed.record.matchCookie, parsed.record.recordFailures, parsed.record.overwrite], [true, true, false, false]);
  assert.match(parsed.scenarios, /scenarios$/);
  assert.ok(existsSync(join(parsed.scenarios, 'default.yaml')), 'the bundled scenarios, whatever the working folder');

  const usage = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      parseRecordCommand(args, env);
    } catch (error) {
      if (error instanceof UsageError) return error.message;
      throw error;
    }
    return 'no error';
  };
  assert.is(usage(base.slice(2)), '--upstream is required (or EM_UPSTREAM)');
  assert.is(usage(['--upstream', 'http://plain.example.com/', ...base.slice(2)]), '--upstream: expected an https:// URL (the service is reached over mTLS), got "http://plain.example.com/"');
  assert.is(usage([...base, '--upstream-ca', '/nonexistent/ca.crt']), '--upstream-ca: cannot read /nonexistent/ca.crt: ENOENT');
  assert.match(usage(['--upstream', 'https://x.example.com/', '--upstream-cert', cert, '--upstream-key', cert]), /^--upstream-cert\/--upstream-key\/--upstream-ca: not usable for TLS: /);
  assert.is(usage([...base, '--upstream-timeout', 'soon']), '--upstream-timeout: expected a duration from 1ms to 3600s (e.g. 10s, 500ms), got "soon"');
  assert.is(usage([...base, '--out', 'recording.txt']), '--out: expected a .yaml or .yml file name, got "recording.txt"');
  assert.is(usage(base, { EM_RECORD_FAILURES: 'maybe' }), 'EM_RECORD_FAILURES: expected true or false, got "maybe"');

  const help = await runCaptured(run, ['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /--upstream-ca <value> +EM_UPSTREAM_CA +CA bundle/);
  assert.match(help.stdout, /\nServe options:\n {2}--scenarios <value>/);

  const missing = await runCaptured(run, ['--upstream-cert', cert]);
  assert.is(missing.code, 2);
  assert.is(missing.stderr, 'entitlement-mock record: --upstream is required (or EM_UPSTREAM)\n');

  const out = join(tempDir('cli-record'), 'taken.yaml');
  writeFileSync(out, 'rules: []\n');
  const taken = await runCaptured(run, [...base, '--out', out, '--certs', (await testPki()).dir, '--port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--admin-host', '127.0.0.1', '--log-level', 'silent']);
  assert.is(taken.code, 1);
  assert.match(taken.stderr, /exists; choose another file or pass --overwrite/);
  assert.is(readFileSync(out, 'utf8'), 'rules: []\n');
});

test.run();
