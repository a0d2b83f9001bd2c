/**
 * Collects the answers seen in record mode and turns them into one scenario: a rule
 * per distinct contentID + requestType (+ customerCookie with matchCookie), matching
 * exactly that (an absent requestType or cookie as `exists: false`), so no two rules
 * overlap and none catches everything. A key that always got the same answer gets a
 * `respond:`; one that got different answers gets a `sequence:` of them in order
 * (repeats at the end dropped: the last step repeats anyway).
 */
import type { Matcher, Response, Rule, Scenario } from '../scenario/format/format.js';
import type { EntitlementRequest } from '../protocol/types.js';
import { recordedResponse, type ClientAnswer, type ResponseOptions } from './recorded-response.js';

export interface RecorderOptions extends ResponseOptions {
  /** Record one rule per customerCookie too (else the cookie is not matched on). */
  matchCookie: boolean;
}

/** A key stops recording new answers after this many steps (counted in `dropped`). */
export const MAX_STEPS_PER_RULE = 1000;

interface RecordedKey {
  contentID: string;
  requestType: number | undefined;
  customerCookie: string | undefined;
  responses: Response[];
  /** canonical JSON of the last response, to tell a repeat from a new answer cheaply. */
  lastCanonical: string;
  /** True while every response so far equals the first. */
  allSame: boolean;
}

export interface RecordingCounts {
  /** Answers recorded into rules. */
  recorded: number;
  /** Distinct keys, i.e. rules the scenario will have. */
  rules: number;
  /** Answers not recorded because their rule reached MAX_STEPS_PER_RULE. */
  dropped: number;
}

export class Recorder {
  private readonly keys = new Map<string, RecordedKey>();
  private recorded = 0;
  private dropped = 0;

  constructor(private readonly options: RecorderOptions) {}

  add(request: EntitlementRequest, answer: ClientAnswer): void {
    const customerCookie = this.options.matchCookie ? request.customerCookie : undefined;
    const id = JSON.stringify([request.contentID, request.requestType ?? null, customerCookie ?? null]);
    const response = recordedResponse(request, answer, this.options);
    const canonical = canonicalJson(response);
    let key = this.keys.get(id);
    if (key === undefined) {
      key = { contentID: request.contentID, requestType: request.requestType, customerCookie, responses: [], lastCanonical: canonical, allSame: true };
      this.keys.set(id, key);
    } else if (key.responses.length >= MAX_STEPS_PER_RULE) {
      this.dropped++;
      return;
    }
    if (canonical !== key.lastCanonical) key.allSame = false;
    key.lastCanonical = canonical;
    key.responses.push(response);
    this.recorded++;
  }

  counts(): RecordingCounts {
    return { recorded: this.recorded, rules: this.keys.size, dropped: this.dropped };
  }

  clear(): void {
    this.keys.clear();
    this.recorded = 0;
    this.dropped = 0;
  }

  /** The scenario so far (rules in the order their keys were first seen). */
  scenario(description: string): Scenario {
    const names = new Set<string>();
    const rules = [...this.keys.values()].map((key) => this.rule(key, names));
    return { description, rules };
  }

  private rule(key: RecordedKey, names: Set<string>): Rule {
    const match: Record<string, Matcher> = {
      contentID: literal(key.contentID),
      requestType: key.requestType ?? { exists: false },
    };
    if (this.options.matchCookie) match.customerCookie = key.customerCookie === undefined ? { exists: false } : literal(key.customerCookie);
    const name = uniqueName(ruleName(key, this.options.matchCookie), names);
    if (key.allSame) return { name, match, respond: key.responses[0] as Response };
    return { name, match, sequence: withoutTrailingRepeats(key.responses) };
  }
}

/** A string matched exactly: a plain string unless it has glob characters. */
function literal(value: string): Matcher {
  return /[*?]/.test(value) ? { equals: value } : value;
}

function ruleName(key: RecordedKey, withCookie: boolean): string {
  const type = key.requestType === undefined ? 'no requestType' : `type ${key.requestType}`;
  const cookie = withCookie ? (key.customerCookie === undefined ? ' no cookie' : ` cookie ${key.customerCookie}`) : '';
  return `${key.contentID.slice(0, 150)} ${type}${cookie}`;
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base} (${n})`;
  taken.add(name);
  return name;
}

function withoutTrailingRepeats(responses: Response[]): Response[] {
  let end = responses.length;
  const last = canonicalJson(responses[end - 1]);
  while (end > 1 && canonicalJson(responses[end - 2]) === last) end--;
  return responses.slice(0, end);
}

/** JSON with sorted keys, so answers that differ only in field order compare equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
