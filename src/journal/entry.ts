/** One request as the journal keeps it (GET /admin/requests; docs/admin-api.md, "A journal entry"). */
import type { NearMiss, StateTransition } from '../scenario/engine.js';
import type { JournaledUpstream } from '../record/journaled-upstream.js';

/** What the TLS handshake of a connection settled; one frozen object per connection, shared by its journal entries. */
export interface ConnectionTls {
  /** Numbered from 1 per process: entries with the same number came over one (keep-alive) connection. */
  readonly connection: number;
  /** `TLSv1.2`, `TLSv1.3`, … as negotiated. */
  readonly version: string | null;
  /** The client resumed an earlier TLS session (an abbreviated handshake). */
  readonly resumed: boolean;
}

export type ListenerName = 'main' | 'expired' | 'wrong-host' | 'untrusted-ca' | 'self-signed';

export interface JournaledResponse {
  /** HTTP status sent, or null when a fault sent no response. */
  status: number | null;
  /** The body as sent: the JSON object, the raw string, or null when nothing was sent. */
  body: unknown;
  fault: string | null;
  delayMs: number;
}

export interface JournalEntry {
  id: number;
  time: string;
  remote: string;
  listener: ListenerName;
  clientCN: string | null;
  clientFingerprint: string | null;
  clientAuthorized: boolean;
  /** The connection's TLS facts (null when it never completed a handshake the mock saw, e.g. in unit tests). */
  tls: ConnectionTls | null;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or null when the body was not valid JSON. */
  request: unknown;
  /** The body as received when it was not valid JSON (else absent). */
  rawBody?: string;
  valid: boolean;
  problems: string[];
  warnings: string[];
  /**
   * The session the request belonged to (its key matched), else null. When the session's
   * rules answered, `scenario` is null and `rule` names the session's rule; when none of
   * them matched, the active scenario answered and `scenario` names it.
   */
  session: string | null;
  /** The scenario whose rules answered (or that gave the unmatched/invalid answer); null when a session's rule answered or no rule was asked. */
  scenario: string | null;
  rule: string | null;
  nearMisses?: NearMiss[];
  step: number | null;
  /** In a scenario that uses state: the request's state key and its state before and after; else null. */
  state: StateTransition | null;
  response: JournaledResponse;
  /** Record mode only: what the real service answered, or why it did not. */
  upstream?: JournaledUpstream;
  /** Filled in when the exchange ends (for a hang: when the socket closes); null until then. */
  durationMs: number | null;
}

export type NewJournalEntry = Omit<JournalEntry, 'id'>;
