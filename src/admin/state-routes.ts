/** GET /admin/state, DELETE /admin/state: the per-key states of the active scenario and of each session. */
import type Router from '@koa/router';
import type { AdminContext } from './context.js';
import { route } from './api/register.js';
import * as api from './api/state.js';
import type { StateListing } from '../scenario/runtime/engine.js';
import { scenarioScope, sessionScope, type SharedRuleState } from '../scenario/runtime/state/shared.js';
import { storeUnavailable } from './shared-store.js';

export function stateRoutes(router: Router, { scenarios, sessions, shared }: AdminContext): void {
  route(router, api.getState, async () => {
    const scenario = scenarios.stateListing();
    const bySession = sessions.stateListings();
    if (shared === null) return { status: 200, body: { scenario, sessions: bySession } };
    // With --store the states live in Redis: the listings keep their key form and lifetime, the keys come from there.
    try {
      await withSharedKeys(shared.rules, scenario, scenarioScope(scenario.name));
      for (const [id, listing] of Object.entries(bySession)) await withSharedKeys(shared.rules, listing, sessionScope(id));
    } catch (error) {
      return storeUnavailable(shared, error, 'the shared states cannot be listed');
    }
    return { status: 200, body: { scenario, sessions: bySession } };
  });
  route(router, api.clearState, async () => {
    let cleared = scenarios.clearState() + sessions.clearStates();
    if (shared !== null) {
      try {
        cleared += await shared.rules.clear(scenarioScope(scenarios.activeName()), 'states');
        for (const { id } of sessions.list()) cleared += await shared.rules.clear(sessionScope(id), 'states');
      } catch (error) {
        return storeUnavailable(shared, error, 'the shared states were not cleared; retry once the store answers');
      }
    }
    return { status: 200, body: { cleared } };
  });
}

async function withSharedKeys(rules: SharedRuleState, listing: StateListing, scope: string): Promise<void> {
  if (listing.stateKey === null) return;
  const states = await rules.listStates(scope);
  listing.keys = Object.fromEntries(
    states.map(([key, record]) => [
      key,
      { state: record.state, setAt: new Date(record.setAt).toISOString(), expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString() },
    ]),
  );
}
