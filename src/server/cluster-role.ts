/**
 * What startMock does differently in a --workers group (src/cluster/): the primary answers the
 * admin API and holds the shared rule state; each worker answers entitlement requests.
 */
import type { SharedRuleState } from '../scenario/runtime/state/shared.js';
import type { MockCore } from './mock.js';
import type { RunningListener } from './entitlement-listener.js';
import type { MockMetrics } from './metrics.js';
import type { Journal } from '../journal/journal.js';
import type { SharedStore } from '../admin/shared-store.js';

export interface ClusterRole {
  kind: 'primary' | 'worker';
  /**
   * Where the group's counters and per-key states live: the primary's memory (workers ask it),
   * or with --store Redis (every worker asks it directly; null in the primary: its store's).
   */
  shared: SharedRuleState | null;
  /** A worker's journal ids, unique and growing with time across the group (cluster/entry-ids.ts). */
  entryIds?: () => number;
  /** Primary: awaited before each admin answer, so a change has reached every worker first. */
  settle?: () => Promise<void>;
  /** Primary: the shared state as the admin API sees it (GET and DELETE /admin/state read and clear it there). */
  store?: SharedStore;
  /** Primary: /metrics over every worker. */
  metrics?: Pick<MockMetrics, 'render' | 'contentType'>;
  /** Primary: the trouble listeners' ports, filled in when the first worker listens (conformance runs read them). */
  troublePorts?: Record<string, number>;
  /** Primary: the journal conformance runs read (the workers' entries mirrored while a run exists). */
  conformanceJournal?: Journal;
  /** Primary: told of the core as soon as it exists, before the store (if any) brings what other replicas changed. */
  watch?(core: MockCore): void;
  /** Told of the core once made (and the listeners, in a worker; the conformance runs, in the primary). */
  attach(core: MockCore & { listeners: RunningListener[]; conformance: { readonly size: number } | null }): void;
}
