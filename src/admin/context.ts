/** What the admin handlers act on. Each handler takes only what it needs from here. */
import type { Journal } from '../journal/journal.js';
import type { JournalWaits } from '../journal/waits.js';
import type { SessionStore } from '../session/store.js';
import type { SeenMessageIds } from '../journal/seen-message-ids.js';
import type { PositionedError } from '../scenario/format/loaded.js';
import type { StateListing } from '../scenario/runtime/engine.js';
import type { RemoveOutcome } from '../scenario/registry/registry.js';
import type { ScenarioListing } from '../scenario/registry/listing.js';
import type { MockMetrics } from '../server/metrics.js';
import type { LiveEvents } from './live-events.js';
import type { Recording } from '../record/recording.js';
import type { ConformanceRuns } from '../conformance/runs.js';
import type { JournalFederation } from '../federation/federation.js';
import type { SharedStore } from './shared-store.js';
import type { AdminPeers } from './peer-requests.js';

/** The scenario operations of the admin API (implemented by the scenario registry). */
export interface ScenarioCatalog {
  activeName(): string;
  list(): ScenarioListing;
  setActive(name: string): { ok: true } | { ok: false; known: string[] };
  post(text: string, options: { activate: boolean }): { ok: true; name: string; replaced: boolean } | { ok: false; errors: PositionedError[] };
  remove(name: string): RemoveOutcome;
  /** Re-read files from disk (keeping the active scenario) and reset every counter. */
  reload(): Promise<void>;
  /** The active scenario's per-key states (GET /admin/state). */
  stateListing(): { name: string } & StateListing;
  /** Forget the active scenario's states; how many keys held one. */
  clearState(): number;
}

export interface AdminContext {
  startedAt: number;
  /** This process's own journal (conformance runs read it). */
  journal: Journal;
  /** Journal queries, counts, the report's input and refusals over every journal source (this process, workers, peers). */
  federation: JournalFederation;
  /** Pending waits on the journal (GET /admin/requests?wait=...). */
  waits: JournalWaits;
  seenMessageIds: SeenMessageIds;
  scenarios: ScenarioCatalog;
  sessions: SessionStore;
  /** The conformance runs (each one a session underneath). */
  conformance: ConformanceRuns;
  /** The dashboard's live feed (GET /admin/events). */
  liveEvents: LiveEvents;
  /** Record mode only (else null). */
  recording: Pick<Recording, 'status' | 'snapshot' | 'clear' | 'text'> | null;
  /** This process's id among replicas (each admin answer carries it, so a replica recognises itself among its peers). */
  replica: string;
  /** With --peers: the other replicas, looked up again before each question over the journals (else null). */
  peers: AdminPeers | null;
  /** With --store: what replicas share, and where (else null). */
  shared: SharedStore | null;
  /** When set, every route but /health needs `Authorization: Bearer <token>`. */
  adminToken: string | null;
  /** With workers: awaited before each answer, so what the route changed has reached every worker. */
  settle: (() => Promise<void>) | null;
  metrics: Pick<MockMetrics, 'render' | 'contentType'>;
  /** Told of a failure of an admin route itself (the caller gets a JSON 500 pointing at the log). */
  onInternalError: (error: unknown) => void;
}
