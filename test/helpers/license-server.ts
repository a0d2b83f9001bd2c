/**
 * The reference license server (examples/license-server/) asking a test mock over mutual TLS, for
 * driving conformance runs: one server per set of planted bugs, started when first asked, and a
 * harness's way to ask it a case (as the reference's own conformance test does).
 *
 *   const servers = own(licenseServers(mock, TIMEOUT_MS));
 *   const outcome = await servers.ask(ticket, ['truthy-is-allowed']); // post it as the case's outcome
 */
import type { BugFlag } from '../../examples/license-server/bugs.js';
import { startLicenseServer, type StartedLicenseServer } from '../../examples/license-server/license-server.js';
import { askForLicense, type LicenseOutcome, type LicenseQuery } from '../../examples/license-server/license-client.js';
import { GIVE_UP_SLACK_MS } from '../../src/conformance/runs.js';
import type { TestMock } from './mock.js';
import { slack } from './slack.js';

export interface LicenseServers {
  /** Asks the server with exactly these bugs (none: the correct one) for the case's license; what its client got. */
  ask(query: LicenseQuery, bugs?: readonly BugFlag[]): Promise<LicenseOutcome>;
  /** Stops every server started (ending what they still wait on, e.g. a hang under no-timeout). */
  stop(): Promise<void>;
}

/**
 * `timeoutMs` is each server's budget per license request, and should be the run's timeout. The
 * harness stops waiting a while after the run's givesUpWithin (timeout + GIVE_UP_SLACK_MS) and
 * then reports a refusal: by then the mock has seen whether the license server gave up in time.
 */
export function licenseServers(mock: TestMock, timeoutMs: number): LicenseServers {
  const started = new Map<string, Promise<StartedLicenseServer>>();
  const patienceMs = timeoutMs + GIVE_UP_SLACK_MS + slack(250);
  const serverWith = (bugs: readonly BugFlag[]) => {
    const key = [...bugs].sort().join(',');
    let server = started.get(key);
    if (server === undefined) {
      server = startLicenseServer({
        entitlementUrl: mock.entitlementUrl,
        cert: mock.pki.client.certPem,
        key: mock.pki.client.keyPem,
        ca: mock.pki.caPem,
        timeoutMs,
        maxRetries: 1,
        bugs,
      });
      started.set(key, server);
    }
    return server;
  };
  return {
    ask: async (query, bugs = []) => askForLicense((await serverWith(bugs)).url, query, patienceMs),
    stop: async () => {
      const servers = [...started.values()];
      started.clear();
      await Promise.all(servers.map(async (server) => (await server).stop()));
    },
  };
}
