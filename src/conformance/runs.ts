/**
 * The live conformance runs. A run is a session (src/session/) under the hood: its key is the
 * contentID glob `RUNID-*` and its rules are the plan's cases, one rule (or a case's rules) per
 * case matched on the case's contentID. So requests of a run are answered like a session's,
 * other traffic and parallel sessions are untouched, and a request with no run pays nothing
 * beyond what the session lookup already costs. The run adds the cases' tickets, the outcomes
 * the harness posts, and the verdicts (computed when asked, from the journal).
 *
 * A run ends on DELETE, when its session ends (POST /admin/reset), or after IDLE_MS without
 * an admin call about it (one unref'd timer per run).
 */
import { randomBytes } from 'node:crypto';
import type { Journal } from '../journal/journal.js';
import type { JournalEntry } from '../journal/entry.js';
import type { PositionedError } from '../scenario/format/loaded.js';
import { parseDelay } from '../scenario/runtime/delay.js';
import type { Delay } from '../scenario/format/format.js';

/** A duration as the format writes it: `2000` (ms), `"2s"`, `"500ms"`. */
type Duration = Extract<Delay, number | string>;
import type { SessionStore } from '../session/store.js';
import type { CaseListener, ConformanceCase, ConformancePlan } from './format.js';
import { parsePlanText, planRules, ruleSet } from './plan.js';
import { bundledPlanNames, DEFAULT_PLAN, isPlanName, readBundledPlan } from './bundled.js';
import { judgeCase } from './verdict.js';
import { POSTED_PLAN, type CaseOutcome, type CaseReport, type CaseTicket, type RunReport, type RunStarted, type RunSummary, type VerdictCounts } from './types.js';

/** A run nobody asked about for this long ends. */
export const IDLE_MS = 10 * 60_000;
/** The license server's timeout a run assumes when the harness gives none. */
export const DEFAULT_TIMEOUT_MS = 2000;
export const MIN_TIMEOUT_MS = 1000;
export const MAX_TIMEOUT_MS = 300_000;
/** `givesUpWithin: timeout` is the run's timeout plus this (the license server's clock, scheduling, the network). */
export const GIVE_UP_SLACK_MS = 1000;
/** More runs than this at once are refused. */
export const MAX_RUNS = 100;
/** While an outcome is posted, how often the case's still-open exchanges are looked at. */
const HELD_POLL_MS = 20;

/** Which journal listener each plan listener name is (the trouble listener names of the mock). */
const TROUBLE_LISTENER_NAMES: Record<CaseListener, readonly string[]> = {
  expired: ['expired'],
  'wrong-host': ['wrong-host'],
  untrusted: ['untrusted', 'untrusted-ca'],
  'self-signed': ['self-signed'],
  revoked: ['revoked'],
};

export interface StartRequest {
  plan?: string | Record<string, unknown>;
  cases?: string[];
  timeout?: Duration;
  host?: string;
}

export type StartOutcome =
  | { kind: 'started'; run: RunStarted; warnings: PositionedError[] }
  | { kind: 'invalid'; message: string; field: string; errors?: PositionedError[] }
  | { kind: 'conflict'; message: string };

export type OutcomeResult = { kind: 'recorded'; report: CaseReport } | { kind: 'no-run' } | { kind: 'no-case'; known: string[] };

export interface ConformanceRunsOptions {
  sessions: SessionStore;
  journal: Journal;
  /** The entitlement path (--path). */
  path: string;
  /** Where the license server reaches the mock when the run does not say (--host, or localhost when that is a wildcard). */
  host: string;
  /** The trouble listeners' ports by name (empty without --trouble-port). */
  troublePorts: Readonly<Record<string, number>>;
  now?: () => number;
  idleMs?: number;
}

interface CaseState {
  readonly testCase: ConformanceCase;
  readonly ticket: CaseTicket;
  readonly listener: string | null;
  readonly notRun: string | null;
  readonly givesUpWithinMs: number | null;
  outcome: CaseOutcome | null;
}

interface Run {
  readonly id: string;
  readonly sessionId: string;
  readonly planName: string;
  readonly description: string;
  readonly createdAt: number;
  readonly timeoutMs: number;
  readonly cases: readonly CaseState[];
  timer: NodeJS.Timeout | null;
}

export class ConformanceRuns {
  private readonly runs = new Map<string, Run>();
  private readonly bySession = new Map<string, Run>();
  private readonly now: () => number;
  private readonly idleMs: number;

  constructor(private readonly options: ConformanceRunsOptions) {
    this.now = options.now ?? Date.now;
    this.idleMs = options.idleMs ?? IDLE_MS;
    // A reset (or anyone deleting the session) ends the run with it.
    options.sessions.on('ended', ({ id }) => {
      const run = this.bySession.get(id);
      if (run !== undefined) this.forget(run);
    });
  }

  get size(): number {
    return this.runs.size;
  }

  start(request: StartRequest): StartOutcome {
    const source = this.planSource(request.plan);
    if (source.kind === 'invalid') return source;
    const parsed = parsePlanText(source.text, source.file);
    if (!parsed.ok) return { kind: 'invalid', message: 'invalid plan', field: 'plan', errors: parsed.errors };
    const plan = parsed.plan;

    const timeoutMs = request.timeout === undefined ? DEFAULT_TIMEOUT_MS : timeoutOf(request.timeout);
    if (Number.isNaN(timeoutMs)) {
      return { kind: 'invalid', field: 'timeout', message: `timeout: expected ${MIN_TIMEOUT_MS} ms to ${MAX_TIMEOUT_MS / 1000} s, like "2s" or 5000, got ${JSON.stringify(request.timeout)}` };
    }
    const wanted = request.cases;
    if (wanted !== undefined) {
      const known = new Set(plan.cases.map((testCase) => testCase.id));
      const unknown = wanted.filter((id) => !known.has(id));
      if (unknown.length > 0) return { kind: 'invalid', field: 'cases', message: `no case ${unknown.map((id) => `"${id}"`).join(', ')} in plan ${parsed.name}; known: ${[...known].join(', ')}` };
      if (wanted.length === 0) return { kind: 'invalid', field: 'cases', message: 'cases: name at least one case (or leave cases out for all)' };
    }
    if (this.runs.size >= MAX_RUNS) return { kind: 'conflict', message: `${MAX_RUNS} runs exist, the most there can be; DELETE some first` };

    const id = this.freshId();
    const included = plan.cases.filter((testCase) => wanted === undefined || wanted.includes(testCase.id));
    const cases = included.map((testCase, index) => this.caseState(testCase, contentIdFor(id, index), timeoutMs, request.host ?? this.options.host));
    const contentIds = new Map(cases.map((state) => [state.testCase, state.notRun === null ? state.ticket.contentID : null]));
    const { rules } = planRules({ ...plan, cases: included }, (testCase) => contentIds.get(testCase) ?? null);
    const sessionId = `conformance-${id}`;
    const created = this.options.sessions.create(
      JSON.stringify({ id: sessionId, key: { contentID: `${id}-*` }, ...ruleSet({ ...plan, description: `conformance run ${id} (${parsed.name})` }, rules) }),
    );
    if (created.kind === 'conflict') return { kind: 'conflict', message: `the run's session could not be made: ${created.message}` };
    if (created.kind === 'invalid') throw new Error(`a validated plan made an invalid session: ${created.errors.map((error) => error.message).join('; ')}`);

    const run: Run = { id, sessionId, planName: parsed.name, description: plan.description ?? '', createdAt: this.now(), timeoutMs, cases, timer: null };
    this.runs.set(id, run);
    this.bySession.set(sessionId, run);
    this.touch(run);
    return { kind: 'started', run: { id, plan: run.planName, timeoutMs, cases: cases.map((state) => state.ticket) }, warnings: parsed.warnings };
  }

  list(): RunSummary[] {
    return [...this.runs.values()].map((run) => {
      const { id, plan, createdAt, verdict, counts } = this.reportOf(run);
      return { id, plan, createdAt, verdict, counts };
    });
  }

  report(id: string): RunReport | null {
    const run = this.runs.get(id);
    if (run === undefined) return null;
    this.touch(run);
    return this.reportOf(run);
  }

  /**
   * Records what the client got for a case. When the case bounds how long the license server may
   * wait (givesUpWithin), its exchanges still open are waited for first (at most until that
   * bound), so that the verdict answered is settled: the license server usually closes its
   * connection just before its client hears of the refusal.
   */
  async recordOutcome(id: string, caseId: string, outcome: CaseOutcome): Promise<OutcomeResult> {
    const run = this.runs.get(id);
    if (run === undefined) return { kind: 'no-run' };
    const state = run.cases.find((each) => each.testCase.id === caseId);
    if (state === undefined) return { kind: 'no-case', known: run.cases.map((each) => each.testCase.id) };
    state.outcome = outcome;
    this.touch(run);
    if (state.givesUpWithinMs !== null) await this.heldEnded(run, state, state.givesUpWithinMs);
    const report = this.runs.has(id) ? this.caseReport(state, this.entriesOf(run).get(state.ticket.contentID) ?? []) : null;
    return report === null ? { kind: 'no-run' } : { kind: 'recorded', report };
  }

  delete(id: string): boolean {
    const run = this.runs.get(id);
    if (run === undefined) return false;
    this.forget(run);
    this.options.sessions.delete(run.sessionId);
    return true;
  }

  /** Stop every timer (the mock is closing). */
  close(): void {
    for (const run of this.runs.values()) if (run.timer) clearTimeout(run.timer);
  }

  private planSource(plan: StartRequest['plan']): { kind: 'text'; text: string; file: string } | Extract<StartOutcome, { kind: 'invalid' }> {
    if (plan === undefined || (typeof plan === 'string' && isPlanName(plan))) {
      const name = plan ?? DEFAULT_PLAN;
      const bundled = readBundledPlan(name);
      if (bundled === null) return { kind: 'invalid', field: 'plan', message: `no bundled plan "${name}"; bundled: ${bundledPlanNames().join(', ') || 'none'} (or send the plan itself as YAML or JSON)` };
      return { kind: 'text', text: bundled.text, file: `${name}.yaml` };
    }
    return { kind: 'text', text: typeof plan === 'string' ? plan : JSON.stringify(plan), file: POSTED_PLAN };
  }

  private caseState(testCase: ConformanceCase, contentID: string, timeoutMs: number, host: string): CaseState {
    const ticket: CaseTicket = { id: testCase.id, title: testCase.title, contentID };
    if (testCase.request?.requestType !== undefined) ticket.requestType = testCase.request.requestType;
    if (testCase.request?.customerCookie !== undefined) ticket.customerCookie = testCase.request.customerCookie;
    let listener: string | null = null;
    let notRun: string | null = null;
    if (testCase.listener !== undefined) {
      listener = TROUBLE_LISTENER_NAMES[testCase.listener].find((name) => this.options.troublePorts[name] !== undefined) ?? null;
      if (listener === null) notRun = `the case asks through the ${testCase.listener} trouble listener: start the mock with --trouble-port`;
      else ticket.entitlementUrl = `https://${urlHost(host)}:${this.options.troublePorts[listener]}${this.options.path}`;
    }
    const within = testCase.expect.givesUpWithin;
    const givesUpWithinMs = within === undefined ? null : within === 'timeout' ? timeoutMs + GIVE_UP_SLACK_MS : Math.round(fixedMs(within));
    if (givesUpWithinMs !== null) ticket.givesUpWithinMs = givesUpWithinMs;
    if (notRun !== null) ticket.notRun = notRun;
    return { testCase, ticket, listener, notRun, givesUpWithinMs, outcome: null };
  }

  private reportOf(run: Run): RunReport {
    const entries = this.entriesOf(run);
    const cases = run.cases.map((state) => this.caseReport(state, entries.get(state.ticket.contentID) ?? []));
    const counts: VerdictCounts = { total: cases.length, pass: 0, fail: 0, inconclusive: 0, notRun: 0 };
    for (const { verdict } of cases) counts[verdict === 'not-run' ? 'notRun' : verdict]++;
    return {
      id: run.id,
      plan: run.planName,
      description: run.description,
      createdAt: new Date(run.createdAt).toISOString(),
      timeoutMs: run.timeoutMs,
      verdict: counts.fail > 0 ? 'fail' : counts.inconclusive > 0 ? 'inconclusive' : 'pass',
      counts,
      cases,
    };
  }

  private caseReport(state: CaseState, entries: readonly JournalEntry[]): CaseReport {
    const { testCase, ticket } = state;
    const judged = judgeCase({
      testCase,
      contentID: ticket.contentID,
      notRun: state.notRun,
      listener: state.listener,
      givesUpWithinMs: state.givesUpWithinMs,
      outcome: state.outcome,
      entries,
      now: this.now(),
    });
    return {
      id: testCase.id,
      title: testCase.title,
      contentID: ticket.contentID,
      checks: testCase.checks,
      expect: testCase.expect,
      ...(state.givesUpWithinMs !== null ? { givesUpWithinMs: state.givesUpWithinMs } : {}),
      verdict: judged.verdict,
      reason: judged.reason,
      outcome: state.outcome,
      seen: judged.seen,
    };
  }

  /** The run's journal entries by contentID, in one pass over the journal. */
  private entriesOf(run: Run): Map<string, JournalEntry[]> {
    const byContentId = new Map<string, JournalEntry[]>();
    for (const entry of this.options.journal.entries()) {
      if (entry.session !== run.sessionId) continue;
      const contentID = (entry.request as { contentID?: unknown } | null)?.contentID;
      if (typeof contentID !== 'string') continue;
      const list = byContentId.get(contentID);
      if (list === undefined) byContentId.set(contentID, [entry]);
      else list.push(entry);
    }
    return byContentId;
  }

  /** Waits until the case's exchanges have ended, or each has been open `limitMs` (or the run ended). */
  private async heldEnded(run: Run, state: CaseState, limitMs: number): Promise<void> {
    for (;;) {
      if (!this.runs.has(run.id)) return;
      const open = (this.entriesOf(run).get(state.ticket.contentID) ?? []).filter((entry) => entry.durationMs === null);
      if (open.length === 0) return;
      const deadline = Math.max(...open.map((entry) => Date.parse(entry.time) + limitMs));
      if (this.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(HELD_POLL_MS, deadline - this.now() + 1)));
    }
  }

  private touch(run: Run): void {
    if (run.timer) clearTimeout(run.timer);
    run.timer = setTimeout(() => this.delete(run.id), this.idleMs);
    run.timer.unref();
  }

  private forget(run: Run): void {
    if (run.timer) clearTimeout(run.timer);
    run.timer = null;
    this.runs.delete(run.id);
    this.bySession.delete(run.sessionId);
  }

  private freshId(): string {
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (this.runs.has(id));
    return id;
  }
}

/** `RUNID-IIII-4xxx-8xxx-xxxxxxxxxxxx`: GUID-shaped, the run id first (the run's key is `RUNID-*`), the case's index second. */
function contentIdFor(runId: string, index: number): string {
  const random = randomBytes(10).toString('hex');
  return `${runId}-${index.toString(16).padStart(4, '0')}-4${random.slice(0, 3)}-8${random.slice(3, 6)}-${random.slice(6, 18)}`;
}

function timeoutOf(timeout: Duration): number {
  const ms = fixedMs(timeout);
  return ms >= MIN_TIMEOUT_MS && ms <= MAX_TIMEOUT_MS ? Math.round(ms) : NaN;
}

function fixedMs(duration: Duration): number {
  try {
    const spec = parseDelay(duration);
    return spec.kind === 'fixed' ? spec.ms : NaN;
  } catch {
    return NaN;
  }
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
