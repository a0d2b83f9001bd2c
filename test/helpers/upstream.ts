/**
 * Record-mode fixtures: a second mock playing the real entitlement service, with a PKI
 * of its own (so the recorder's upstream mTLS is real), and a recording mock in front of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDevPki } from '../../src/pki/generate.js';
import type { UpstreamTarget } from '../../src/record/upstream-client.js';
import type { RecordOptions } from '../../src/record/recording.js';
import { scenarioFolder, startTestMock, type TestMock } from './mock.js';
import { tempDir } from './temp.js';

export interface Upstream {
  mock: TestMock;
  /** The upstream's own PKI folder (ca.crt, client.crt, client.key, …). */
  certs: string;
  /** How a recorder reaches it: its URL, its client certificate and CA. */
  target(overrides?: Partial<UpstreamTarget>): UpstreamTarget;
  /** Stop the service (as mock.close()). */
  close(): Promise<void>;
}

let upstreamCerts: Promise<string> | null = null;

/** One upstream PKI per test process, distinct from testPki(). */
function upstreamPki(): Promise<string> {
  return (upstreamCerts ??= (async () => {
    const dir = tempDir('upstream-pki');
    await generateDevPki({ outDir: dir });
    return dir;
  })());
}

/** The service answers with `scenario`: YAML text (its default scenario), or a bundled scenario by name. */
export async function startUpstream(scenario: string | { bundled: string }): Promise<Upstream> {
  const certs = await upstreamPki();
  const mock = await startTestMock(
    typeof scenario === 'string'
      ? { certs, scenarios: await scenarioFolder({ 'default.yaml': scenario }) }
      : { certs, scenarios: './scenarios', scenario: scenario.bundled },
  );
  const read = (name: string) => readFileSync(join(certs, name), 'utf8');
  return {
    mock,
    certs,
    close: () => mock.close(),
    target: (overrides = {}) => ({
      url: new URL(mock.entitlementUrl),
      certPem: read('client.crt'),
      keyPem: read('client.key'),
      caPem: read('ca.crt'),
      timeoutMs: 5000,
      ...overrides,
    }),
  };
}

/** A mock in record mode in front of `target`, writing to a fresh temp file unless `out` is given. */
export function startRecorder(target: UpstreamTarget, options: Partial<Omit<RecordOptions, 'upstream'>> = {}): Promise<TestMock> {
  return startTestMock({
    record: {
      upstream: target,
      out: join(tempDir('recording'), 'recorded.yaml'),
      overwrite: false,
      recordFailures: false,
      matchCookie: false,
      templateTokens: false,
      ...options,
    },
  });
}
