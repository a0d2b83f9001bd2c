/**
 * How an admin route is described: method, path, what it takes (path parameters,
 * query, body) and what it answers per status, all as TypeBox schemas. One
 * definition validates the server's input (register.ts), types the client
 * (src/client/) and becomes an OpenAPI operation (openapi.ts). No Koa in here:
 * the client imports this file.
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A JSON answer, or a text one (e.g. Prometheus metrics). */
export type AnswerDefinition =
  | { readonly kind: 'json'; readonly schema: TSchema; readonly description: string }
  | { readonly kind: 'text'; readonly mediaType: string; readonly description: string };

/**
 * A JSON body validated with its schema, or a document (a scenario, a session) sent as a JSON
 * object or as YAML text, which the handler gets as text and parses itself (with line and column
 * for every problem). `name` names the document's schema in the OpenAPI document.
 */
export type BodyDefinition =
  | { readonly kind: 'json'; readonly schema: TSchema; readonly description: string }
  | { readonly kind: 'document'; readonly schema: TSchema; readonly name: string; readonly description: string };

/** The media types a document body is taken as (YAML first: what the typed client sends text as). */
export const DOCUMENT_MEDIA_TYPES = ['application/yaml', 'application/json'] as const;

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** OpenAPI style: `/admin/scenarios/{name}`. */
  readonly path: string;
  /** Unique, camelCase: the OpenAPI operationId (the typed client's method is usually named the same). */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** Answered without the admin token (only /health). */
  readonly open?: boolean;
  /** Every `{name}` of the path, as strings. */
  readonly params?: TObject;
  /** Query parameters: string, boolean, integer or number properties (converted from the query string, then checked). */
  readonly query?: TObject;
  readonly body?: BodyDefinition;
  /** By status. The 400 (bad input), 401 (no token) and 413 (body too large) answers are added for every route that can give them. */
  readonly answers: Readonly<Record<number, AnswerDefinition>>;
}

/** Whether a concrete path (`/admin/sessions/abc`) fits a definition's path template (`/admin/sessions/{id}`). */
export const matchesPathTemplate = (template: string, path: string): boolean =>
  new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`).test(path);

/** Keeps the literal types of a definition (statuses, schemas) for the handler and the client. */
export const defineRoute = <const Definition extends RouteDefinition>(definition: Definition): Definition => definition;

export const jsonAnswer = <const Schema extends TSchema>(schema: Schema, description: string) =>
  ({ kind: 'json', schema, description }) as const;

export const textAnswer = (mediaType: string, description: string) => ({ kind: 'text', mediaType, description }) as const;

export const jsonBody = <const Schema extends TSchema>(schema: Schema, description: string) =>
  ({ kind: 'json', schema, description }) as const;

export const documentBody = <const Schema extends TSchema>(schema: Schema, name: string, description: string) =>
  ({ kind: 'document', schema, name, description }) as const;

/** Every admin error: `{error, message}`, plus details some routes add (`known`, `errors`, `field`). */
export const ErrorAnswer = Type.Object(
  {
    error: Type.String({ description: 'Short kind: `bad request`, `not found`, `unauthorized`, …' }),
    message: Type.String({ description: 'What went wrong, in words' }),
    field: Type.Optional(Type.String({ description: 'For bad input: the parameter or body field (dotted path) the message is about' })),
    in: Type.Optional(Type.Union([Type.Literal('path'), Type.Literal('query'), Type.Literal('body')])),
  },
  { $id: 'ErrorAnswer', description: 'An admin error; some routes add details (`known`, `errors`, `field`)' },
);
export type ErrorAnswer = Static<typeof ErrorAnswer>;

export const errorAnswer = (description: string) => jsonAnswer(ErrorAnswer, description);

/** With --store: the shared store did not answer, so the change (if any) holds on this replica only. */
export const storeUnavailableAnswer = errorAnswer('The shared store (--store) did not answer: a change was applied on this replica only, or nothing could be read');

// --- types derived from a definition (server handlers and the client use these) ---

type StaticOr<Schema, Otherwise> = Schema extends TSchema ? Static<Schema> : Otherwise;

export type ParamsOf<Definition extends RouteDefinition> = StaticOr<Definition['params'], Record<string, never>>;
export type QueryOf<Definition extends RouteDefinition> = StaticOr<Definition['query'], Record<string, never>>;
export type BodyOf<Definition extends RouteDefinition> = Definition['body'] extends { kind: 'json'; schema: infer Schema }
  ? StaticOr<Schema, never>
  : Definition['body'] extends { kind: 'document' }
    ? string
    : undefined;

export type AnswerBody<Answer> = Answer extends { kind: 'json'; schema: infer Schema } ? StaticOr<Schema, never> : string;

/** What a handler returns: one of the declared statuses with its body (`contentType` overrides a text answer's media type). */
export type ReplyOf<Definition extends RouteDefinition> = {
  [Status in keyof Definition['answers'] & number]: { status: Status; body: AnswerBody<Definition['answers'][Status]>; contentType?: string };
}[keyof Definition['answers'] & number];

type SuccessStatus = 200 | 201 | 202 | 204;

/** The body of a route's success answer(s): what the typed client resolves with. */
export type SuccessOf<Definition extends RouteDefinition> = AnswerBody<Definition['answers'][keyof Definition['answers'] & SuccessStatus]>;
