/**
 * `entitlement-mock certs --client NAME [--expired | --not-yet-valid | --untrusted | --wrong-usage]`:
 * client certificates the mock refuses, each for its own reason, checked against a running mock
 * over real TLS (the handshake is refused; GET /admin/tls-failures names the reason), and a plain
 * `--client NAME` the mock accepts under that CN.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { run as runCerts } from '../src/cli/certs.js';
import { runCaptured } from './helpers/cli.js';
import { entitlementRequest, eventually, startTestMock, type TestMock } from './helpers/mock.js';
import { tempDir } from './helpers/temp.js';

let mock: TestMock;
let out: string;
test.before(async () => {
  mock = await startTestMock({ logLevel: 'warn' });
  out = tempDir('bad-clients');
});
test.after(async () => {
  await mock.close();
});

const KINDS = [
  ['--expired', 'expired certificate'],
  ['--not-yet-valid', 'certificate not yet valid'],
  ['--untrusted', 'unknown CA'],
  ['--wrong-usage', 'certificate not usable for client authentication'],
] as const;

function clientFiles(name: string): { certPem: string; keyPem: string } {
  return { certPem: readFileSync(join(out, `${name}.crt`), 'utf8'), keyPem: readFileSync(join(out, `${name}.key`), 'utf8') };
}

async function lastFailure(): Promise<any> {
  const { json } = await mock.admin('GET', '/admin/tls-failures');
  return json.failures.at(-1);
}

test('each kind makes a certificate the mock refuses for its reason; the CA in --certs signs all but --untrusted', async () => {
  const ca = new X509Certificate(readFileSync(join(mock.pki.dir, 'ca.crt')));
  for (const [flag, reason] of KINDS) {
    const name = `bad${flag.replace(/-/g, '_')}`;
    const made = await runCaptured(runCerts, ['--client', name, flag, '--certs', mock.pki.dir, '--out', out]);
    assert.is(made.code, 0, `${flag}: ${made.stderr}`);
    assert.match(made.stdout, `wrote ${join(out, `${name}.crt`)}`);
    assert.match(made.stdout, `"${reason}"`, `${flag}: the output names the reason the mock gives`);
    const certificate = new X509Certificate(clientFiles(name).certPem);
    assert.match(certificate.subject, `CN=${name}`);
    assert.is(certificate.checkIssued(ca), flag !== '--untrusted', `${flag}: issued by the mock's CA`);

    await mock.admin('POST', '/admin/reset');
    try {
      const reply = await mock.entitle(entitlementRequest(), { client: clientFiles(name), timeoutMs: 5000 });
      assert.unreachable(`${flag}: expected the handshake to be refused, got HTTP ${reply.status}`);
    } catch (error) {
      assert.ok(!(error instanceof assert.Assertion), (error as Error).message);
    }
    const failure = await eventually(lastFailure);
    assert.is(failure.reason, reason, flag);
    assert.is((await mock.admin('GET', '/admin/requests/count')).json.count, 0, `${flag}: nothing reached the journal`);
  }
});

test('a plain --client NAME is a good client certificate: answered, journaled under its CN', async () => {
  const made = await runCaptured(runCerts, ['--client', 'second-server', '--certs', mock.pki.dir, '--out', out]);
  assert.is(made.code, 0, made.stderr);
  const sent = entitlementRequest();
  assert.is((await mock.entitle(sent, { client: clientFiles('second-server') })).status, 200);
  const { json } = await mock.admin('GET', `/admin/requests?contentID=${sent.contentID}`);
  assert.is(json.requests[0].clientCN, 'second-server');
});

test('--out alone: the CA in that folder signs; existing files are never overwritten; no CA, a bad name or two kinds: a clear error', async () => {
  const folder = tempDir('bad-clients-own');
  // The dev PKI is generated in --out when it holds none, then its CA signs.
  const first = await runCaptured(runCerts, ['--client', 'late', '--expired', '--out', folder]);
  assert.is(first.code, 0, first.stderr);
  const files = await readdir(folder);
  for (const file of ['ca.crt', 'ca.key', 'late.crt', 'late.key']) assert.ok(files.includes(file), file);
  const ca = new X509Certificate(readFileSync(join(folder, 'ca.crt')));
  assert.ok(new X509Certificate(readFileSync(join(folder, 'late.crt'))).checkIssued(ca));

  const before = readFileSync(join(folder, 'late.crt'), 'utf8');
  const again = await runCaptured(runCerts, ['--client', 'late', '--not-yet-valid', '--out', folder]);
  assert.is(again.code, 1);
  assert.match(again.stderr, `${join(folder, 'late.crt')} exists`);
  assert.is(readFileSync(join(folder, 'late.crt'), 'utf8'), before);

  const noCa = tempDir('bad-clients-no-ca');
  const serverOnly = await runCaptured(runCerts, ['--client', 'x', '--expired', '--certs', mock.pki.dir, '--out', noCa]);
  assert.is(serverOnly.code, 0, 'the CA comes from --certs; --out needs none');
  const missing = await runCaptured(runCerts, ['--client', 'y', '--expired', '--certs', join(noCa, 'nothing-here'), '--out', noCa]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, join(noCa, 'nothing-here', 'ca.crt'));

  for (const [args, named] of [
    [['--client', 'a/b', '--out', folder], '--client'],
    [['--client', '', '--out', folder], '--client'],
    [['--client', 'z', '--expired', '--untrusted', '--out', folder], '--expired'],
    [['--expired', '--out', folder], '--client'],
  ] as const) {
    const refused = await runCaptured(runCerts, [...args]);
    assert.is(refused.code, 2, args.join(' '));
    assert.ok(refused.stderr.includes(named) && refused.stderr.trim().split('\n').length === 1, refused.stderr);
  }
});

test('certs --help describes --client and the four kinds', async () => {
  const help = await runCaptured(runCerts, ['--help']);
  assert.is(help.code, 0);
  for (const flag of ['--client NAME', '--expired', '--not-yet-valid', '--untrusted', '--wrong-usage', '--certs DIR']) assert.match(help.stdout, flag);
});

test.run();
