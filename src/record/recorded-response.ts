/**
 * Turns one answer the client got in record mode into the scenario `Response` that
 * gives the same answer on replay: fields the mock would echo (messageID, version)
 * are left to echo, fields the answer lacks are omitted, other fields are written as
 * received. A value the scenario language would read as something else (a string
 * with `{{`, which would be a template; `echo`/`mismatch` as a messageID) goes into
 * `extra`, which sends values as written in the same place of the body.
 */
import type { Response } from '../scenario/format/format.js';
import type { EntitlementRequest } from '../protocol/types.js';

/** An answer as the client received it: status, Content-Type and the JSON object body. */
export interface ClientAnswer {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
}

export interface ResponseOptions {
  /** Replace the value of a token query parameter (`…?ExpressPlayToken=…`) in epTokenURL by `{{token}}`. */
  templateTokens: boolean;
}

/** The fields a scenario response sets by name, in the order the mock sends them. */
const NAMED_FIELDS = ['messageID', 'version', 'isAllowed', 'epTokenURL', 'error', 'errorText'] as const;
type NamedField = (typeof NAMED_FIELDS)[number];
/** The fields the mock sends unless told to omit them (error and errorText only when set). */
const SENT_BY_DEFAULT: ReadonlySet<NamedField> = new Set(['messageID', 'version', 'isAllowed', 'epTokenURL']);

export function recordedResponse(request: EntitlementRequest, answer: ClientAnswer, options: ResponseOptions): Response {
  const { body } = answer;
  const response: Response = {};
  const extra: Record<string, unknown> = {};
  const omit: NamedField[] = [];

  for (const field of NAMED_FIELDS) {
    if (!Object.hasOwn(body, field)) {
      if (SENT_BY_DEFAULT.has(field)) omit.push(field);
      continue;
    }
    const value = body[field];
    switch (field) {
      case 'messageID':
        if (value === request.messageID) break; // echoed, the default
        if (value === 'echo' || value === 'mismatch') extra[field] = value;
        else response.messageID = value;
        break;
      case 'version':
        if (value === request.version) break; // echoed, the default
        if (value === 'echo') extra[field] = value;
        else response.version = value;
        break;
      case 'isAllowed':
        response.isAllowed = value;
        break;
      case 'error':
        response.error = value;
        break;
      case 'epTokenURL':
        if (typeof value !== 'string' || value.includes('{{')) extra[field] = value;
        else response.epTokenURL = options.templateTokens ? tokenTemplate(value) : value;
        break;
      case 'errorText':
        if (typeof value === 'string' && value.includes('{{')) extra[field] = value;
        else response.errorText = value;
        break;
    }
  }
  for (const [field, value] of Object.entries(body)) if (!(NAMED_FIELDS as readonly string[]).includes(field)) extra[field] = value;

  if (Object.keys(extra).length > 0) response.extra = extra;
  // A field sent through extra is in the body, so it must not be omitted.
  const omitted = omit.filter((field) => !Object.hasOwn(extra, field));
  if (omitted.length > 0) response.omit = omitted;
  if (answer.status !== 200) response.status = answer.status;
  if (answer.contentType !== null && !/^application\/json$/i.test(answer.contentType.trim()))
    response.headers = { 'Content-Type': answer.contentType };
  return response;
}

/** A query parameter whose name says token, e.g. ExpressPlayToken=… or token=…. */
const TOKEN_PARAMETER = /([?&][^=&#]*token[^=&#]*=)[^&#]*/gi;

/** The URL with every token query value replaced by `{{token}}` (a fresh random token per answer). */
export function tokenTemplate(url: string): string {
  return url.replace(TOKEN_PARAMETER, '$1{{token}}');
}
