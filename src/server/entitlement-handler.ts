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
import { readBody } from './read-body.js';
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

export function createEntitlementHandler({ path, listener, state, bodyTimeoutMs, onInternalError }: EntitlementHandlerOptions): RequestListener {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAt = performance.now();
    const requestPath = pathOf(req.url ?? '/');
    const method = req.method ?? 'GET';
    const connection = connectionOf(req.socket);
    const identity = connection?.identity ?? ANONYMOUS;
    // Every entry is one object literal with every field, filled in place: building it as
    // `{...base, more}` took V8's slow path for spreads followed by more keys (~7 µs in
    // isolation, ~15 µs of a request's CPU with the GC it caused; bench/README.md).
    const origin = originOf(req.socket, listener, identity, connection?.tls ?? null);
    const journaled = newEntry(req, path, origin);

    let plan: ResponsePlan;
    /** The body of a JSON answer as sent, serialized once for the socket and the journal. */
    let sentText: string | null = null;
    let kept: KeptEntry;
    if (requestPath !== path) {
      plan = protocolError(404, `no entitlement endpoint at ${requestPath}; POST to ${path}`);
      kept = state.journal.append(rejected(journaled, `path ${requestPath} is not the entitlement endpoint`, describePlan(plan)), entryWeight(0, req.rawHeaders));
    } else if (method !== 'POST') {
      plan = protocolError(405, `method ${method} not allowed; POST an Entitlement Request`, { Allow: 'POST' });
      kept = state.journal.append(rejected(journaled, `method ${method} not allowed`, describePlan(plan)), entryWeight(0, req.rawHeaders));
    } else {
      const body = await readBody(req, MAX_BODY_BYTES, bodyTimeoutMs);
      if (body.kind === 'aborted') {
        // The client went away mid-body: nothing to answer, but the attempt is journaled.
        const aborted = rejected(journaled, 'client closed the connection before the body was complete', { status: null, body: null, fault: null, delayMs: 0 });
        aborted.durationMs = Math.round(performance.now() - startedAt);
        state.journal.append(aborted, entryWeight(0, req.rawHeaders));
        req.socket.destroy();
        return;
      }
      if (body.kind === 'refused') {
        plan = protocolError(body.status, body.problem, { Connection: 'close' });
        kept = state.journal.append(rejected(journaled, body.problem, describePlan(plan)), entryWeight(0, req.rawHeaders));
      } else if (body.kind === 'too-large') {
        plan = protocolError(413, `body larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
        kept = state.journal.append(rejected(journaled, `body larger than ${MAX_BODY_BYTES} bytes`, describePlan(plan)), entryWeight(0, req.rawHeaders));
      } else {
        const parsed: ParsedRequest =
          body.kind === 'text'
            ? parseEntitlementRequest(body.text)
            : { valid: false, request: null, problems: ['body is not valid UTF-8'], warnings: [] };
        addTransportWarnings(parsed, req, state);
        journaled.request = parsed.request;
        journaled.valid = parsed.valid;
        journaled.problems = parsed.valid ? NONE : parsed.problems;
        journaled.warnings = parsed.warnings;
        // The string readBody decoded, kept as it is (no copy): the journal shows exactly what was sent.
        journaled.rawBody = body.text;
        if (state.forwarder === null) {
          const decided = decide(parsed, identity, state);
          // Only a rule that needs shared counts or state (--store, --workers) waits for them.
          const { decision, session, answeredBySession } = decided instanceof Promise ? await decided : decided;
          plan = decision.plan;
          if (decision.problems !== undefined) journaled.problems = decision.problems;
          journaled.session = session;
          journaled.scenario = answeredBySession ? null : decision.scenario;
          journaled.rule = decision.rule;
          journaled.step = decision.step;
          journaled.state = decision.state ?? null;
          if (decision.warnings !== undefined) parsed.warnings.push(...decision.warnings);
          journaled.response = describePlan(plan);
          if (decision.nearMisses) journaled.nearMisses = decision.nearMisses;
          sentText = bodyText(plan);
        } else {
          // Record mode: every POST to the endpoint goes to the real service, valid or not (it judges).
          const forwarded = await state.forwarder.forward(body.text, req.headers, parsed);
          plan = forwarded.plan;
          journaled.response = forwarded.response;
          journaled.upstream = forwarded.upstream;
          if (res.destroyed) {
            // The client left while the service was asked: journaled, nothing to send.
            journaled.warnings.push('client closed the connection before the upstream answered');
            journaled.durationMs = Math.round(performance.now() - startedAt);
            state.journal.append(journaled, entryWeight(body.text.length, req.rawHeaders));
            return;
          }
        }
        // The journal keeps the raw body and the text sent, not what it can parse again from them.
        kept = state.journal.append(journaled, entryWeight(body.text.length, req.rawHeaders), { requestFromRawBody: body.kind === 'text', responseBodyText: sentText, origin });
      }
    }

    trackEnd(res, journaled as JournalEntry, kept, startedAt, state);
    const delivering = deliver({ req, res, held: state.held }, plan, sentText);
    if (delivering !== undefined) await delivering;
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      onInternalError(error);
      answerInternalError(res);
    });
  };
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
  else if (!/^application\/json\s*(;|$)/i.test(contentType))
    parsed.warnings.push(`Content-Type is ${JSON.stringify(contentType)}, expected application/json`);
  if (parsed.valid && state.seenMessageIds.checkAndRecord(parsed.request.messageID))
    parsed.warnings.push(`messageID ${JSON.stringify(parsed.request.messageID)} already seen since the last reset`);
}

/** What a response carries until its exchange is over (see trackEnd). */
const EXCHANGE = Symbol('entitlement-mock.exchange');
type TrackedResponse = ServerResponse & { [EXCHANGE]?: { entry: JournalEntry; kept: KeptEntry; startedAt: number; state: ExchangeState } };

/** Fill in the duration and tell observers (log, metrics) when the exchange is over from either side. */
function trackEnd(res: ServerResponse, entry: JournalEntry, kept: KeptEntry, startedAt: number, state: ExchangeState): void {
  // A response emits 'close' once it is over: after it finished, or when its connection closed first
  // (a fault, a hang, a client that went away). One shared listener instead of a closure and
  // once()'s wrapper per request.
  (res as TrackedResponse)[EXCHANGE] = { entry, kept, startedAt, state };
  res.on('close', exchangeEnded);
}

function exchangeEnded(this: TrackedResponse): void {
  const exchange = this[EXCHANGE];
  if (exchange === undefined) return;
  this[EXCHANGE] = undefined;
  const { entry, kept, startedAt, state } = exchange;
  entry.durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
  kept.durationMs = entry.durationMs;
  for (const observer of state.observers) observer.exchangeEnded(entry);
}
