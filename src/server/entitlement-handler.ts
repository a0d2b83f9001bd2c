/**
 * The request handler behind each entitlement listener: reads the body, validates the
 * Entitlement Request, asks the rules of the session it belongs to (if any) and then the
 * active scenario for an answer, journals it, and hands the plan to the responder.
 *
 * A plain Node request listener, not a Koa app: the endpoint uses none of Koa's context (the
 * responder writes to the socket itself), and Koa's per-request context and finish tracking
 * were ~20% of the memory allocated per request and ~3 µs of CPU (~10%) per keep-alive
 * request (bench/README.md). The admin API, which routes and parses bodies, is the Koa app.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseEntitlementRequest, type ParsedRequest } from '../protocol/validate.js';
import type { ClientIdentity } from '../protocol/types.js';
import type { Decision, RequestFacts } from '../scenario/runtime/engine.js';
import type { ResponsePlan } from '../respond/plan.js';
import type { JournalEntry, ListenerName, NewJournalEntry } from '../journal/entry.js';
import { entryOrigin, type EntryOrigin, type KeptEntry } from '../journal/kept-entry.js';
import type { JournaledResponse } from '../respond/journaled-response.js';
import { entryWeight } from '../journal/journal.js';
import { bodyText, deliver, describePlan } from '../respond/deliver.js';
import { readBody, type BodyReader, type BodyResult } from './read-body.js';
import { ANONYMOUS } from './client-identity.js';
import { connectionOf, remoteOf, type ConnectionTls } from './connection.js';
import type { ExchangeState } from './exchange.js';
import { isoNow } from './iso-time.js';

export const MAX_BODY_BYTES = 64 * 1024;

export interface EntitlementHandlerOptions {
  path: string;
  listener: ListenerName;
  state: ExchangeState;
  /** A body not complete this long after its headers is answered 408 (default: no limit). */
  bodyTimeoutMs?: number;
  /** Told of a failure of the mock itself while answering (the client gets a 500). */
  onInternalError: (error: unknown) => void;
}

export function createEntitlementHandler(options: EntitlementHandlerOptions): RequestListener {
  const endpoint: Endpoint = { ...options, bodyTimeoutMs: options.bodyTimeoutMs ?? Infinity };
  return (req, res) => {
    // Every entry is one object literal with every field, filled in place: building it as
    // `{...base, more}` took V8's slow path for spreads followed by more keys (~7 µs in
    // isolation, ~15 µs of a request's CPU with the GC it caused; bench/README.md).
    try {
      new Exchange(endpoint, req, res).begin();
    } catch (error) {
      endpoint.onInternalError(error);
      answerInternalError(res);
    }
  };
}

/** What every exchange of one listener shares. */
interface Endpoint extends EntitlementHandlerOptions {
  bodyTimeoutMs: number;
}

/**
 * One request from its arrival to the end of its answer: what it needs between the steps, in one
 * object (it also reads the body and hears the response's 'close'), instead of an async function's
 * frame, promises and a closure per step. Only what waits on something (a shared count or state,
 * record mode's upstream, a delay or fault) goes through promises.
 */
class Exchange implements BodyReader {
  readonly startedAt = performance.now();
  readonly journaled: NewJournalEntry;
  readonly origin: EntryOrigin;
  readonly identity: ClientIdentity;
  /** What the journal keeps, once appended. */
  kept: KeptEntry | null = null;

  constructor(
    readonly endpoint: Endpoint,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    const connection = connectionOf(req.socket);
    this.identity = connection?.identity ?? ANONYMOUS;
    this.origin = originOf(req.socket, endpoint.listener, this.identity, connection?.tls ?? null);
    this.journaled = newEntry(req, endpoint.path, this.origin);
  }

  begin(): void {
    const { req, endpoint } = this;
    const requestPath = pathOf(req.url ?? '/');
    const method = req.method ?? 'GET';
    if (requestPath !== endpoint.path) {
      this.refuse(protocolError(404, `no entitlement endpoint at ${requestPath}; POST to ${endpoint.path}`), `path ${requestPath} is not the entitlement endpoint`);
    } else if (method !== 'POST') {
      this.refuse(protocolError(405, `method ${method} not allowed; POST an Entitlement Request`, { Allow: 'POST' }), `method ${method} not allowed`);
    } else readBody(req, MAX_BODY_BYTES, endpoint.bodyTimeoutMs, this);
  }

  bodyRead(body: BodyResult): void {
    try {
      this.withBody(body);
    } catch (error) {
      this.failed(error);
    }
  }

  private withBody(body: BodyResult): void {
    const { req, journaled, endpoint } = this;
    const state = endpoint.state;
    if (body.kind === 'aborted') {
      // The client went away mid-body: nothing to answer, but the attempt is journaled.
      const aborted = rejected(journaled, 'client closed the connection before the body was complete', { status: null, body: null, fault: null, delayMs: 0 });
      aborted.durationMs = Math.round(performance.now() - this.startedAt);
      state.journal.append(aborted, entryWeight(0, req.rawHeaders));
      req.socket.destroy();
      return;
    }
    if (body.kind === 'refused') {
      this.refuse(protocolError(body.status, body.problem, { Connection: 'close' }), body.problem);
      return;
    }
    if (body.kind === 'too-large') {
      this.refuse(protocolError(413, `body larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' }), `body larger than ${MAX_BODY_BYTES} bytes`);
      return;
    }
    const parsed: ParsedRequest =
      body.kind === 'text' ? parseEntitlementRequest(body.text) : { valid: false, request: null, problems: ['body is not valid UTF-8'], warnings: [] };
    addTransportWarnings(parsed, req, state);
    journaled.request = parsed.request;
    journaled.valid = parsed.valid;
    journaled.problems = parsed.valid ? NONE : parsed.problems;
    journaled.warnings = parsed.warnings;
    // The string readBody decoded, kept as it is (no copy): the journal shows exactly what was sent.
    journaled.rawBody = body.text;
    if (state.forwarder !== null) {
      this.forward(body, parsed).catch((error: unknown) => this.failed(error));
      return;
    }
    const decided = decide(parsed, this.identity, state);
    // Only a rule that needs shared counts or state (--store, --workers) waits for them.
    if (decided instanceof Promise) decided.then((settled) => this.decided(settled, parsed, body)).catch((error: unknown) => this.failed(error));
    else this.decided(decided, parsed, body);
  }

  private decided({ decision, session, answeredBySession }: Decided, parsed: ParsedRequest, body: { kind: 'text' | 'not-utf8'; text: string }): void {
    const journaled = this.journaled;
    const plan = decision.plan;
    if (decision.problems !== undefined) journaled.problems = decision.problems;
    journaled.session = session;
    journaled.scenario = answeredBySession ? null : decision.scenario;
    journaled.rule = decision.rule;
    journaled.step = decision.step;
    journaled.state = decision.state ?? null;
    if (decision.warnings !== undefined) parsed.warnings.push(...decision.warnings);
    journaled.response = describePlan(plan);
    if (decision.nearMisses) journaled.nearMisses = decision.nearMisses;
    // The journal keeps the raw body and the text sent, not what it can parse again from them.
    this.answer(plan, journaled, body.text.length, body.kind === 'text', bodyText(plan));
  }

  /** Record mode: every POST to the endpoint goes to the real service, valid or not (it judges). */
  private async forward(body: { kind: 'text' | 'not-utf8'; text: string }, parsed: ParsedRequest): Promise<void> {
    const { req, res, journaled, endpoint } = this;
    const text = body.text;
    const forwarded = await (endpoint.state.forwarder as NonNullable<ExchangeState['forwarder']>).forward(text, req.headers, parsed);
    journaled.response = forwarded.response;
    journaled.upstream = forwarded.upstream;
    if (res.destroyed) {
      // The client left while the service was asked: journaled, nothing to send.
      journaled.warnings.push('client closed the connection before the upstream answered');
      journaled.durationMs = Math.round(performance.now() - this.startedAt);
      endpoint.state.journal.append(journaled, entryWeight(text.length, req.rawHeaders));
      return;
    }
    this.answer(forwarded.plan, journaled, text.length, body.kind === 'text', null);
  }

  /** A request that never reached the protocol check (wrong path, method, framing or size): its problem and the answer. */
  private refuse(plan: ResponsePlan, problem: string): void {
    this.answer(plan, rejected(this.journaled, problem, describePlan(plan)), 0, null, null);
  }

  /**
   * Journals the entry (before anything is sent, so a held request shows at once), then sends the
   * plan. `requestFromRawBody` null: a request that never reached the protocol check.
   */
  private answer(plan: ResponsePlan, entry: NewJournalEntry, bodyChars: number, requestFromRawBody: boolean | null, sentText: string | null): void {
    const { req, res, endpoint } = this;
    this.kept = endpoint.state.journal.append(
      entry,
      entryWeight(bodyChars, req.rawHeaders),
      requestFromRawBody === null ? null : { requestFromRawBody, responseBodyText: sentText, origin: this.origin },
    );
    // A response emits 'close' once it is over: after it finished, or when its connection closed
    // first (a fault, a hang, a client that went away). One shared listener.
    (res as TrackedResponse)[EXCHANGE] = this;
    res.on('close', exchangeEnded);
    const delivering = deliver({ req, res, held: endpoint.state.held }, plan, sentText);
    if (delivering !== undefined) delivering.catch((error: unknown) => this.failed(error));
  }

  /** A bug of ours while answering: told, and the client is not left waiting. */
  failed(error: unknown): void {
    this.endpoint.onInternalError(error);
    answerInternalError(this.res);
  }

  /** Fill in the duration and tell observers (log, metrics) when the exchange is over from either side. */
  ended(): void {
    const entry = this.journaled as JournalEntry;
    entry.durationMs = Math.round((performance.now() - this.startedAt) * 1000) / 1000;
    if (this.kept !== null) this.kept.durationMs = entry.durationMs;
    for (const observer of this.endpoint.state.observers) observer.exchangeEnded(entry);
  }
}

/**
 * Who answers: the rules of the session the request belongs to, if one of them matches (only a
 * valid request reaches rules), else the active scenario (its rules, or its invalid:/unmatched:).
 * A promise only when a rule set shares its counts or state and the request needs them.
 */
function decide(parsed: ParsedRequest, client: ClientIdentity, state: ExchangeState): Decided | Promise<Decided> {
  const session = state.sessions.find(parsed.request, client);
  const sessionId = session === null ? null : session.id;
  if (!parsed.valid) {
    return { decision: state.scenarios.active().answerInvalid({ request: parsed.request, problems: parsed.problems, client }), session: sessionId, answeredBySession: false };
  }
  const facts = { request: parsed.request, client };
  const fromSession = session === null ? null : session.rules.decideIfMatched(facts);
  if (fromSession instanceof Promise) return fromSession.then((decision) => (decision !== null ? { decision, session: sessionId, answeredBySession: true } : fromScenario(facts, sessionId, state)));
  if (fromSession !== null) return { decision: fromSession, session: sessionId, answeredBySession: true };
  return fromScenario(facts, sessionId, state);
}

interface Decided {
  decision: Decision;
  session: string | null;
  answeredBySession: boolean;
}

function fromScenario(facts: RequestFacts, session: string | null, state: ExchangeState): Decided | Promise<Decided> {
  const decision = state.scenarios.active().decide(facts);
  return decision instanceof Promise ? decision.then((decided) => ({ decision: decided, session, answeredBySession: false })) : { decision, session, answeredBySession: false };
}

/** A bug of ours must not leave the client waiting: a JSON 500 if nothing was sent yet, else the connection ends. */
function answerInternalError(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ isAllowed: false, error: 500, errorText: 'internal error in entitlement-mock (see its log)' });
  res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }).end(body);
}

/** The path of a request target, as Koa's ctx.path has it: no query; absolute forms reduced to their path. */
function pathOf(url: string): string {
  if (url.charCodeAt(0) === 0x2f /* / */ && !/[\s#]/.test(url)) {
    const query = url.indexOf('?');
    return query < 0 ? url : url.slice(0, query);
  }
  try {
    return new URL(url, 'http://localhost').pathname;
  } catch {
    return url;
  }
}

/** A journal entry with every field, in the order the journal shows them; the handler fills in the rest. */
function newEntry(req: IncomingMessage, endpoint: string, origin: EntryOrigin): NewJournalEntry {
  const url = req.url ?? '/';
  return {
    time: isoNow(),
    remote: origin.remote,
    listener: origin.listener,
    clientCN: origin.clientCN,
    clientFingerprint: origin.clientFingerprint,
    clientAuthorized: origin.clientAuthorized,
    tls: origin.tls,
    method: req.method ?? '?',
    // The endpoint's own string when it is that (the usual case): one string fewer kept per entry.
    path: url === endpoint ? endpoint : url,
    headers: sharedHeaderValues(req.headers),
    durationMs: null,
    request: null,
    rawBody: null,
    valid: false,
    problems: NONE,
    warnings: NONE,
    session: null,
    scenario: null,
    rule: null,
    step: null,
    state: null,
    response: NOT_ANSWERED,
  };
}

/** Header values seen before (most clients send the same ones on every request), so that the journal's entries share them. */
const HEADER_VALUES = new Map<string, string>();
const HEADER_VALUES_KEPT = 1024;
const SHARED_VALUE_MAX_LENGTH = 128;

function sharedHeaderValues(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string' || value.length > SHARED_VALUE_MAX_LENGTH) continue;
    const known = HEADER_VALUES.get(value);
    if (known !== undefined) headers[name] = known;
    else {
      if (HEADER_VALUES.size >= HEADER_VALUES_KEPT) HEADER_VALUES.clear();
      HEADER_VALUES.set(value, value);
    }
  }
  return headers;
}

const ORIGIN = Symbol('entitlement-mock.entryOrigin');
type WithOrigin = Socket & { [ORIGIN]?: EntryOrigin };

/** The entry fields of a connection, made once per connection (on its socket) and shared by its entries in the journal. */
function originOf(socket: Socket, listener: ListenerName, identity: ClientIdentity, tls: ConnectionTls | null): EntryOrigin {
  const known = (socket as WithOrigin)[ORIGIN];
  if (known !== undefined && known.listener === listener && known.tls === tls && known.clientCN === identity.cn && known.clientFingerprint === identity.fingerprint && known.clientAuthorized === identity.authorized)
    return known;
  const origin = entryOrigin({ remote: remoteOf(socket), listener, clientCN: identity.cn, clientFingerprint: identity.fingerprint, clientAuthorized: identity.authorized, tls });
  (socket as WithOrigin)[ORIGIN] = origin;
  return origin;
}

/**
 * The empty problem and warning list most entries have, shared (frozen) instead of two new arrays
 * per request: whatever adds to a list replaces it first (rejected(), the validator's warnings).
 */
const NONE = Object.freeze([]) as unknown as string[];

const NOT_ANSWERED: JournaledResponse = Object.freeze({ status: null, body: null, fault: null, delayMs: 0 });

/** A request that never reached the protocol check (wrong path, method or size): its problem and the answer. */
function rejected(entry: NewJournalEntry, problem: string, response: JournaledResponse): NewJournalEntry {
  entry.problems = [problem];
  entry.response = response;
  return entry;
}

function protocolError(status: number, errorText: string, headers: Record<string, string> = {}): ResponsePlan {
  return {
    kind: 'json',
    status,
    headers,
    body: { isAllowed: false, error: status, errorText },
    delayMs: 0,
    delivery: 'whole',
  };
}

function addTransportWarnings(parsed: ParsedRequest, req: IncomingMessage, state: ExchangeState): void {
  const contentType = req.headers['content-type'];
  if (contentType === undefined) parsed.warnings.push('Content-Type missing (expected application/json)');
  else if (contentType !== 'application/json' && !/^application\/json\s*(;|$)/i.test(contentType))
    parsed.warnings.push(`Content-Type is ${JSON.stringify(contentType)}, expected application/json`);
  if (parsed.valid && state.seenMessageIds.checkAndRecord(parsed.request.messageID))
    parsed.warnings.push(`messageID ${JSON.stringify(parsed.request.messageID)} already seen since the last reset`);
}

/** The exchange a response belongs to, until it is over. */
const EXCHANGE = Symbol('entitlement-mock.exchange');
type TrackedResponse = ServerResponse & { [EXCHANGE]?: Exchange | undefined };

function exchangeEnded(this: TrackedResponse): void {
  const exchange = this[EXCHANGE];
  if (exchange === undefined) return;
  this[EXCHANGE] = undefined;
  exchange.ended();
}
