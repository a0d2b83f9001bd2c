/**
 * What replicas sharing a store (--store) keep the same: the active scenario, the posted
 * scenarios, the sessions made through the admin API, and resets.
 *
 * - The replica whose admin API took a change applies it first (as a single mock does: that is
 *   where it is validated), then `announce` stores it in Redis (for replicas that start or
 *   reconnect later), drops the counters and states it resets, publishes it, and waits until
 *   every other replica subscribed says it applied it (ACK_TIMEOUT_MS at most): the admin
 *   answer comes after the change holds everywhere.
 * - A replica that (re)connects reads what is stored and brings itself in line (resync), so a
 *   change published while it was cut off is not lost.
 * - Conformance runs and file reloads stay per replica.
 *
 * Redis keys: em:active (name), em:posted (hash name -> {text, seq}), em:posted:seq, em:sessions
 * (hash id -> {text, createdAt, expiresAt}); channels em:changes and em:acks.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ScenarioRegistry } from '../scenario/registry/registry.js';
import type { SessionStore } from '../session/store.js';
import { scenarioScope, sessionScope, type SharedRuleState, type StateScope } from '../scenario/runtime/state/shared.js';
import { SCOPE_PREFIX, prefixPattern, scanKeys } from './redis-rule-state.js';

export type SharedChange =
  /** A scenario was activated; `active` is the one answering after the change (also for post and remove). */
  | { kind: 'switch'; active: string }
  | { kind: 'post'; name: string; text: string; activate: boolean; active: string }
  | { kind: 'remove'; name: string; active: string; fellBack: boolean }
  | { kind: 'reset' }
  | { kind: 'session-created'; id: string; text: string; createdAt: number; expiresAt: number | null }
  | { kind: 'session-deleted'; id: string };

/** How long an admin answer waits for the other replicas to apply a change. */
export const ACK_TIMEOUT_MS = 2000;

const CHANGES = 'em:changes';
const ACKS = 'em:acks';
const ACTIVE = 'em:active';
const POSTED = 'em:posted';
const POSTED_SEQ = 'em:posted:seq';
const SESSIONS = 'em:sessions';

/** What a replica does to apply a change locally (the same steps its own admin API takes). */
export interface LocalReplica {
  readonly scenarios: Pick<ScenarioRegistry, 'activeName' | 'setActive' | 'post' | 'remove'>;
  readonly sessions: Pick<SessionStore, 'create' | 'delete' | 'get' | 'on'>;
  /** POST /admin/reset's local part: journal, sessions, counters, files. */
  reset(): Promise<void>;
  /**
   * Resolves once what was just applied holds in every process of this replica (a --workers
   * primary: every worker acknowledged it), so the acknowledgement the replica that took the
   * change waits for means "answers the new way". Absent: one process, it holds at once.
   */
  settle?(): Promise<void>;
}

export interface ChangeLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

interface Envelope {
  origin: string;
  id: string;
  change: SharedChange;
}

interface PendingAcks {
  /** Replicas that must acknowledge: null until PUBLISH said how many received the change. */
  expected: number | null;
  acked: number;
  done: () => void;
}

export class SharedChanges {
  /** Posted scenarios applied from the store (or posted here), by name: their text. */
  private readonly posted = new Map<string, string>();
  /** Sessions created through the store (conformance runs' sessions are not): id -> the stored value. */
  private readonly sessionIds = new Map<string, string>();
  private readonly pending = new Map<string, PendingAcks>();
  private applying: Promise<unknown> = Promise.resolve();

  constructor(
    /** This replica's id, in the envelopes it publishes (the id its admin answers carry). */
    readonly replica: string,
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly rules: SharedRuleState,
    private readonly local: LocalReplica,
    private readonly log: ChangeLog,
  ) {
    subscriber.on('message', (channel: string, message: string) => this.received(channel, message));
    // Every (re)connection: once both connections are ready, subscribe (again) and catch up with
    // what was stored meanwhile (the second one to be ready starts it).
    const catchUp = () => {
      if (this.redis.status !== 'ready' || this.subscriber.status !== 'ready') return;
      this.enqueue(async () => {
        await this.subscriber.subscribe(CHANGES, ACKS);
        await this.resync();
      }).catch((error: unknown) => this.log.info({ err: error }, 'store catch-up postponed until Redis answers'));
    };
    subscriber.on('ready', catchUp);
    redis.on('ready', catchUp);
    // A shared session's ttl ends it on every replica at once; each forgets what Redis held for it
    // (the same deletes from every replica: harmless).
    local.sessions.on('ended', ({ id, reason }) => {
      if (reason !== 'expired' || !this.sessionIds.delete(id)) return;
      Promise.all([this.redis.hdel(SESSIONS, id), this.rules.clear(sessionScope(id), 'counters-and-states')]).catch(() => {
        // Redis away: the entry is skipped as expired when read, and a reset drops it.
      });
    });
  }

  /** Connect and catch up; when Redis does not answer, a warning (the clients keep trying: rules that need it answer 503 meanwhile). */
  async start(): Promise<void> {
    try {
      await Promise.all([this.redis.connect(), this.subscriber.connect()]);
    } catch (error) {
      this.log.warn({ err: error }, `${this.rules.description} did not answer at start; rules that need it answer 503 until it does`);
    }
    await this.applying;
  }

  /**
   * Store and publish a change this replica applied; resolves when the other replicas applied it
   * (or ACK_TIMEOUT_MS passed: logged). Rejects when Redis does not answer.
   */
  async announce(change: SharedChange): Promise<void> {
    await this.store(change);
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const applied = new Promise<void>((resolve) => this.pending.set(id, { expected: null, acked: 0, done: resolve }));
    try {
      // The receivers include this replica's own subscriber.
      const receivers = await this.redis.publish(CHANGES, JSON.stringify({ origin: this.replica, id, change } satisfies Envelope));
      const pending = this.pending.get(id);
      if (pending === undefined) return;
      pending.expected = receivers - 1;
      if (this.settled(id, pending)) return;
      timer = setTimeout(() => {
        this.pending.delete(id);
        this.log.warn({ change: change.kind, missing: (pending.expected ?? 0) - pending.acked }, `not every replica confirmed the change within ${ACK_TIMEOUT_MS} ms`);
        pending.done();
      }, ACK_TIMEOUT_MS);
      await applied;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
  }

  private settled(id: string, pending: PendingAcks): boolean {
    if (pending.expected === null || pending.acked < pending.expected) return false;
    this.pending.delete(id);
    pending.done();
    return true;
  }

  /** Stop waiting for acknowledgements (the mock is closing). */
  close(): void {
    for (const pending of this.pending.values()) pending.done();
    this.pending.clear();
  }

  private async store(change: SharedChange): Promise<void> {
    switch (change.kind) {
      case 'switch':
        await this.redis.set(ACTIVE, change.active);
        break;
      case 'post': {
        const seq = await this.redis.incr(POSTED_SEQ);
        await this.redis.multi().hset(POSTED, change.name, JSON.stringify({ text: change.text, seq })).set(ACTIVE, change.active).exec();
        this.posted.set(change.name, change.text);
        break;
      }
      case 'remove':
        await this.redis.multi().hdel(POSTED, change.name).set(ACTIVE, change.active).exec();
        this.posted.delete(change.name);
        break;
      case 'reset': {
        const keys = await scanKeys(this.redis, prefixPattern(SCOPE_PREFIX));
        await this.redis.del(SESSIONS, ...keys);
        this.sessionIds.clear();
        return;
      }
      case 'session-created': {
        const stored = storedSession(change);
        await this.redis.hset(SESSIONS, change.id, stored);
        this.sessionIds.set(change.id, stored);
        break;
      }
      case 'session-deleted':
        await this.redis.hdel(SESSIONS, change.id);
        this.sessionIds.delete(change.id);
        break;
    }
    const scopes = scopesResetBy(change);
    if (scopes !== 'all') for (const scope of scopes) await this.rules.clear(scope, 'counters-and-states');
  }

  private received(channel: string, message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      this.log.warn({ channel }, 'ignored a message on the store channel that is not JSON');
      return;
    }
    if (channel === ACKS) {
      const pending = this.pending.get(envelope.id);
      if (pending === undefined || envelope.origin === this.replica) return;
      pending.acked++;
      this.settled(envelope.id, pending);
      return;
    }
    if (envelope.origin === this.replica) return;
    this.enqueue(async () => {
      await this.apply(envelope.change);
      // A hung worker must not hold up every later change: by then the replica that made it has stopped waiting anyway.
      await withinAckTimeout(this.local.settle?.());
      await this.redis.publish(ACKS, JSON.stringify({ origin: this.replica, id: envelope.id }));
    }).catch((error: unknown) => this.log.warn({ err: error, change: envelope.change.kind }, 'applying a change from another replica failed'));
  }

  /** Changes apply one at a time, in the order they came. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.applying.then(task, task);
    this.applying = next.catch(() => undefined);
    return next;
  }

  private async apply(change: SharedChange): Promise<void> {
    const { scenarios, sessions } = this.local;
    switch (change.kind) {
      case 'switch':
        this.activate(change.active);
        return;
      case 'post': {
        const posted = scenarios.post(change.text, { activate: change.activate });
        if (posted.ok) this.posted.set(change.name, change.text);
        else this.log.warn({ name: change.name, errors: posted.errors }, 'a scenario posted through another replica does not load here');
        this.activate(change.active);
        return;
      }
      case 'remove':
        scenarios.remove(change.name);
        this.posted.delete(change.name);
        this.activate(change.active);
        return;
      case 'reset':
        this.sessionIds.clear();
        await this.local.reset();
        return;
      case 'session-created':
        this.createSession(change.id, storedSession(change));
        return;
      case 'session-deleted':
        this.sessionIds.delete(change.id);
        sessions.delete(change.id);
        return;
    }
  }

  private activate(name: string): void {
    if (this.local.scenarios.activeName() === name) return;
    const outcome = this.local.scenarios.setActive(name);
    if (!outcome.ok) this.log.warn({ scenario: name }, 'the scenario another replica activated is not known here; keeping the active one');
  }

  private createSession(id: string, stored: string): void {
    const { text, createdAt } = JSON.parse(stored) as StoredSession;
    const outcome = this.local.sessions.create(text, { id, createdAt });
    if (outcome.kind === 'created') this.sessionIds.set(id, stored);
    else this.log.warn({ session: id, outcome: outcome.kind }, 'a session created through another replica could not be created here');
  }

  /** Bring this replica in line with what is stored: posted scenarios, the active one, sessions. */
  private async resync(): Promise<void> {
    const [active, posted, stored] = await Promise.all([this.redis.get(ACTIVE), this.redis.hgetall(POSTED), this.redis.hgetall(SESSIONS)]);
    if (active === null) {
      // A Redis that lost its data (restarted without persistence) or a first start: what this replica holds is the truth.
      await this.seed();
      return;
    }
    const postedInOrder = Object.entries(posted)
      .map(([name, value]) => ({ name, ...(JSON.parse(value) as { text: string; seq: number }) }))
      .sort((a, b) => a.seq - b.seq);
    for (const { name, text } of postedInOrder) {
      if (this.posted.get(name) === text) continue;
      const outcome = this.local.scenarios.post(text, { activate: false });
      if (outcome.ok) this.posted.set(name, text);
    }
    for (const name of [...this.posted.keys()]) {
      if (posted[name] !== undefined) continue;
      this.local.scenarios.remove(name);
      this.posted.delete(name);
    }
    this.activate(active);
    const now = Date.now();
    for (const [id, value] of Object.entries(stored)) {
      const { expiresAt } = JSON.parse(value) as StoredSession;
      if (expiresAt !== null && expiresAt <= now) continue;
      if (this.local.sessions.get(id) === null) this.createSession(id, value);
    }
    for (const id of [...this.sessionIds.keys()]) {
      if (stored[id] !== undefined) continue;
      this.local.sessions.delete(id);
      this.sessionIds.delete(id);
    }
    this.log.info({ active, posted: postedInOrder.length, sessions: Object.keys(stored).length }, `in line with ${this.rules.description}`);
  }

  /** Store what this replica holds, without overwriting what another replica stored first. */
  private async seed(): Promise<void> {
    const multi = this.redis.multi().set(ACTIVE, this.local.scenarios.activeName(), 'NX');
    let seq = 0;
    for (const [name, text] of this.posted) multi.hsetnx(POSTED, name, JSON.stringify({ text, seq: ++seq }));
    multi.incrby(POSTED_SEQ, seq);
    for (const [id, stored] of this.sessionIds) multi.hsetnx(SESSIONS, id, stored);
    await multi.exec();
    this.log.info({ active: this.local.scenarios.activeName(), posted: seq, sessions: this.sessionIds.size }, `${this.rules.description} held nothing: stored this replica's scenarios and sessions`);
  }
}

function withinAckTimeout(settling: Promise<void> | undefined): Promise<void> | undefined {
  if (settling === undefined) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ACK_TIMEOUT_MS)));
  return Promise.race([settling, late]).finally(() => clearTimeout(timer));
}

interface StoredSession {
  text: string;
  createdAt: number;
  expiresAt: number | null;
}

function storedSession({ text, createdAt, expiresAt }: StoredSession): string {
  return JSON.stringify({ text, createdAt, expiresAt } satisfies StoredSession);
}

/**
 * The rule sets whose counters and states an admin change starts afresh (as a single mock
 * does): the scenario switched to, posted or removed (and the one fallen back to), a session
 * created or deleted; a reset starts every one afresh.
 */
export function scopesResetBy(change: SharedChange): StateScope[] | 'all' {
  switch (change.kind) {
    case 'switch':
      return [scenarioScope(change.active)];
    case 'post':
      return [scenarioScope(change.name)];
    case 'remove':
      return change.fellBack ? [scenarioScope(change.name), scenarioScope(change.active)] : [scenarioScope(change.name)];
    case 'reset':
      return 'all';
    case 'session-created':
    case 'session-deleted':
      return [sessionScope(change.id)];
  }
}
