/**
 * The live sessions: created and removed through the admin API, looked up per request.
 *
 * - A session owns a rule set compiled by the scenario compiler (its own sequence, `times` and
 *   random counters, its own per-key state; its own random source, seeded from the mock's seed
 *   and the session id), so removing the session removes what it counted.
 * - Keys never overlap (see key.ts), so a request belongs to at most one session.
 * - A session with a ttl expires that long after its creation: lookups stop finding it at once
 *   (checked on lookup), and an unref'd timer removes it even when no request comes.
 * - The request path: with no session, one size check; else a Map probe on the key's field
 *   value plus the glob buckets of key-index.ts, never a scan of every session.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ClientIdentity } from '../protocol/types.js';
import { compileScenario } from '../scenario/runtime/compile.js';
import type { CompiledScenario, KeyStats, StateListing } from '../scenario/runtime/engine.js';
import type { PositionedError } from '../scenario/format/loaded.js';
import { seededRandom } from '../scenario/runtime/random.js';
import { sessionScope, type SharedRuleState } from '../scenario/runtime/state/shared.js';
import type { SessionDefinition, SessionKeyField, SessionSummary } from './format.js';
import { compileKey, describeKey, keysOverlap, keyValue, type CompiledKey } from './key.js';
import { KeyIndex } from './key-index.js';
import { parseSession, SESSION_FILE } from './parse.js';

/** More sessions than this at once are refused (each holds a compiled rule set). */
export const MAX_SESSIONS = 10_000;

/** What the request path gets for a request that belongs to a session. */
export interface SessionMatch {
  readonly id: string;
  readonly rules: CompiledScenario;
}

/** Why a session ended. */
export type SessionEndReason = 'deleted' | 'expired' | 'reset';


export type CreateOutcome =
  | { kind: 'created'; session: SessionSummary; warnings: PositionedError[] }
  | { kind: 'invalid'; errors: PositionedError[] }
  | { kind: 'conflict'; message: string; sessions: string[] };

class LiveSession implements SessionMatch {
  requests = 0;
  constructor(
    readonly id: string,
    readonly key: CompiledKey,
    readonly rules: CompiledScenario,
    readonly definition: SessionDefinition,
    readonly createdAt: number,
    readonly ttlMs: number | null,
    /** Date.now() milliseconds; Infinity without a ttl. */
    readonly expiresAt: number,
  ) {}

  summary(): SessionSummary {
    return {
      id: this.id,
      key: this.definition.key,
      description: this.definition.description ?? '',
      rules: [...this.rules.ruleNames],
      createdAt: new Date(this.createdAt).toISOString(),
      ttlMs: this.ttlMs,
      expiresAt: this.ttlMs === null ? null : new Date(this.expiresAt).toISOString(),
      requests: this.requests,
    };
  }
}

export class SessionStore extends EventEmitter<{ ended: [{ id: string; reason: SessionEndReason }] }> {
  private readonly sessions = new Map<string, LiveSession>();
  private index = new KeyIndex<LiveSession>();
  /** The field every live session keys on; null when there is none. */
  private field: SessionKeyField | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private nextExpiry = Infinity;

  constructor(
    /** The mock's seed: each session's random source is seeded from it and the session id. */
    private readonly seed: number,
    private readonly now: () => number = Date.now,
    /** Where the sessions' counters and states are shared with other processes (scope `session:<id>`); default: in each session. */
    private readonly shared: SharedRuleState | null = null,
  ) {
    super();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The session a request belongs to, or null. The request may be invalid (any parsed JSON). */
  find(request: unknown, client: ClientIdentity): SessionMatch | null {
    const field = this.field;
    if (field === null) return null;
    const value = keyValue(field, request, client);
    if (value === null) return null;
    const session = this.index.find(value);
    if (session === null) return null;
    if (session.expiresAt <= this.now()) {
      this.end(session, 'expired');
      return null;
    }
    session.requests++;
    return session;
  }

  /**
   * Create a session from its YAML or JSON document. `as` gives the id and creation time of a
   * session created by another replica (--store), so that its ttl ends it everywhere at once.
   */
  create(text: string, as?: { id: string; createdAt: number }): CreateOutcome {
    this.removeExpired();
    let id = '';
    const parsed = parseSession(text, (definition) => {
      id = as?.id ?? definition.id ?? this.freshId();
      const { id: _id, key: _key, ttl: _ttl, ...ruleSet } = definition;
      const shared = this.shared === null ? null : { store: this.shared, scope: sessionScope(id) };
      return compileScenario({ name: id, file: SESSION_FILE, definition: ruleSet }, seededRandom(this.seed ^ hash(id)), shared);
    });
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    if (this.sessions.has(id)) {
      return { kind: 'conflict', message: `a session with id "${id}" exists; DELETE /admin/sessions/${id} first`, sessions: [id] };
    }
    if (this.sessions.size >= MAX_SESSIONS) {
      return { kind: 'conflict', message: `${MAX_SESSIONS} sessions exist, the most there can be; delete some first`, sessions: [] };
    }
    const key = compileKey(parsed.definition.key);
    const overlapping = this.overlapping(key);
    if (overlapping !== null) {
      const why = overlapping.key.field === key.field ? 'a request can match both' : 'a request carries both fields; sessions alive at the same time must key on the same field';
      return {
        kind: 'conflict',
        message: `session "${id}" (key ${describeKey(key)}) overlaps session "${overlapping.id}" (key ${describeKey(overlapping.key)}): ${why}`,
        sessions: [id, overlapping.id],
      };
    }
    const createdAt = as?.createdAt ?? this.now();
    const session = new LiveSession(id, key, parsed.compiled, parsed.definition, createdAt, parsed.ttlMs, parsed.ttlMs === null ? Infinity : createdAt + parsed.ttlMs);
    this.sessions.set(id, session);
    this.index.add(key, session);
    this.field = key.field;
    if (session.expiresAt < this.nextExpiry) this.scheduleExpiry(session.expiresAt);
    return { kind: 'created', session: session.summary(), warnings: parsed.warnings };
  }

  get(id: string): SessionSummary | null {
    this.removeExpired();
    return this.sessions.get(id)?.summary() ?? null;
  }

  list(): SessionSummary[] {
    this.removeExpired();
    return [...this.sessions.values()].map((session) => session.summary());
  }

  /** Each session's per-key states (GET /admin/state), by id. */
  stateListings(): Record<string, StateListing> {
    this.removeExpired();
    return Object.fromEntries([...this.sessions.values()].map((session) => [session.id, session.rules.stateListing()]));
  }

  /** Each session's per-key state and perKey counters, by id (for /metrics). */
  keyStats(): { session: string; stats: KeyStats }[] {
    return [...this.sessions.values()].map((session) => ({ session: session.id, stats: session.rules.keyStats() }));
  }

  /** Forget every session's states (DELETE /admin/state); how many keys held one. */
  clearStates(): number {
    let cleared = 0;
    for (const session of this.sessions.values()) cleared += session.rules.clearState();
    return cleared;
  }

  /** Remove a session and what it counted; false when there is none with that id. */
  delete(id: string): boolean {
    this.removeExpired();
    const session = this.sessions.get(id);
    if (session === undefined) return false;
    this.end(session, 'deleted');
    return true;
  }

  /** Remove every session (POST /admin/reset). */
  clear(): void {
    for (const session of [...this.sessions.values()]) this.end(session, 'reset');
  }

  /** Stop the expiry timer (the mock is closing). */
  close(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.nextExpiry = Infinity;
  }

  private overlapping(key: CompiledKey): LiveSession | null {
    if (this.field !== null && this.field !== key.field) return this.sessions.values().next().value ?? null;
    // An exact key overlaps the session its value belongs to; a glob is compared with every key.
    if (!key.glob) return this.index.find(key.pattern);
    for (const session of this.sessions.values()) if (keysOverlap(key, session.key)) return session;
    return null;
  }

  private end(session: LiveSession, reason: SessionEndReason): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.index.remove(session.key, session);
    if (this.sessions.size === 0) {
      this.index = new KeyIndex();
      this.field = null;
    }
    this.emit('ended', { id: session.id, reason });
  }

  private removeExpired(): void {
    const now = this.now();
    for (const session of [...this.sessions.values()]) if (session.expiresAt <= now) this.end(session, 'expired');
  }

  /** One timer, for the earliest expiry; unref'd so it never keeps the process alive. */
  private scheduleExpiry(at: number): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.nextExpiry = at;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      this.removeExpired();
      let next = Infinity;
      for (const session of this.sessions.values()) next = Math.min(next, session.expiresAt);
      this.nextExpiry = Infinity;
      if (next !== Infinity) this.scheduleExpiry(next);
    }, Math.max(0, at - this.now()));
    this.expiryTimer.unref();
  }

  private freshId(): string {
    let id: string;
    do id = `s-${randomUUID().slice(0, 8)}`;
    while (this.sessions.has(id));
    return id;
  }
}

/** FNV-1a of a string, to derive a session's seed from its id. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
