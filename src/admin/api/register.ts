/**
 * Registers a Koa route from its definition: the path parameters, query and JSON
 * body are converted and checked against the definition's schemas before the
 * handler runs (400 naming the field otherwise), and the handler's typed reply
 * becomes the answer.
 */
import type Koa from 'koa';
import type Router from '@koa/router';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { badRequest } from '../errors.js';
import { schemaIssues } from '../../scenario/format/schema-errors.js';
import { DOCUMENT_MEDIA_TYPES, type BodyOf, type ParamsOf, type QueryOf, type ReplyOf, type RouteDefinition } from './define.js';

export interface RouteInput<Definition extends RouteDefinition> {
  params: ParamsOf<Definition>;
  query: QueryOf<Definition>;
  body: BodyOf<Definition>;
}

export type RouteHandler<Definition extends RouteDefinition> = (
  input: RouteInput<Definition>,
  ctx: Koa.Context,
) => ReplyOf<Definition> | Promise<ReplyOf<Definition>>;

/** A problem with the input: what to say, and which field it is about. */
interface InputProblem {
  message: string;
  field: string;
  in: 'path' | 'query' | 'body';
}

type Outcome<Value> = { ok: true; value: Value } | { ok: false; problem: InputProblem };

export function route<Definition extends RouteDefinition>(router: Router, definition: Definition, handler: NoInfer<RouteHandler<Definition>>): void {
  const koaPath = definition.path.replace(/\{(\w+)\}/g, ':$1');
  const method = definition.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
  router[method](koaPath, async (ctx) => {
    const input = readInput(definition, ctx);
    if (!input.ok) return badRequest(ctx, input.problem.message, { field: input.problem.field, in: input.problem.in });
    const reply = await handler(input.value, ctx);
    const answer = definition.answers[reply.status];
    ctx.status = reply.status;
    if (answer?.kind === 'text') ctx.type = reply.contentType ?? answer.mediaType;
    ctx.body = reply.body;
  });
}

function readInput<Definition extends RouteDefinition>(definition: Definition, ctx: Koa.Context): Outcome<RouteInput<Definition>> {
  const params = definition.params ? checked(definition.params, { ...ctx.params }, 'path') : ok({});
  if (!params.ok) return params;
  const query = readQuery(definition.query ?? NO_QUERY, ctx.query);
  if (!query.ok) return query;
  const body = readBody(definition, ctx);
  if (!body.ok) return body;
  return ok({ params: params.value, query: query.value, body: body.value } as RouteInput<Definition>);
}

const ok = <Value>(value: Value): Outcome<Value> => ({ ok: true, value });
const problem = (where: InputProblem['in'], field: string, message: string): Outcome<never> => ({
  ok: false,
  problem: { message, field, in: where },
});

type RawQuery = Record<string, string | string[] | undefined>;

/** A route that takes no query parameter refuses any (a misspelt route or parameter says so instead of being ignored). */
const NO_QUERY = Type.Object({});

/** Query string values converted to the types the schema asks for (true/false, integers, numbers), then checked. */
function readQuery(schema: TObject, raw: RawQuery): Outcome<Record<string, unknown>> {
  const known = Object.keys(schema.properties);
  const converted: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const property = schema.properties[name];
    if (property === undefined)
      return problem('query', name, `unknown query parameter "${name}"; ${known.length > 0 ? `known: ${known.join(', ')}` : 'this route takes none'}`);
    if (Array.isArray(value)) return problem('query', name, `query parameter "${name}" given more than once`);
    if (value === undefined) continue;
    const result = convertQueryValue(property, value);
    if (!result.ok) return problem('query', name, `query parameter "${name}" must be ${result.expected}, got "${value}"`);
    converted[name] = result.value;
  }
  return checked(schema, converted, 'query');
}

function convertQueryValue(property: TSchema, text: string): { ok: true; value: unknown } | { ok: false; expected: string } {
  switch (property.type) {
    case 'boolean':
      return text === 'true' || text === 'false' ? { ok: true, value: text === 'true' } : { ok: false, expected: 'true or false' };
    case 'integer': {
      const value = Number(text);
      return /^-?\d+$/.test(text) && Number.isSafeInteger(value) ? { ok: true, value } : { ok: false, expected: 'an integer' };
    }
    case 'number': {
      const value = Number(text);
      return text.trim() !== '' && Number.isFinite(value) ? { ok: true, value } : { ok: false, expected: 'a number' };
    }
    default:
      return { ok: true, value: text };
  }
}

function readBody(definition: RouteDefinition, ctx: Koa.Context): Outcome<unknown> {
  const body = definition.body;
  if (body === undefined) return ok(undefined);
  const rawText = ctx.request.rawBody;
  const present = typeof rawText === 'string' && rawText.trim() !== '';
  if (body.kind === 'document')
    return present ? ok(rawText) : problem('body', '', `body must be ${body.description} (${DOCUMENT_MEDIA_TYPES.join(' or ')})`);
  const parsed: unknown = ctx.request.body;
  if (!present || parsed === undefined || typeof parsed === 'string')
    return problem('body', '', `body must be JSON (application/json): ${body.description}`);
  return checked(body.schema, parsed, 'body');
}

/** The value when it fits the schema, else its first problem in words, naming the field. */
function checked<Value>(schema: TSchema, value: Value, where: InputProblem['in']): Outcome<Value> {
  if (Value.Check(schema, value)) return ok(value);
  const error = Value.Errors(schema, value).First();
  if (error === undefined) return problem(where, '', `${where} does not fit its schema`);
  const field = error.path.slice(1).replaceAll('/', '.');
  const noun = where === 'query' ? 'query parameter' : where === 'path' ? 'path parameter' : 'body field';
  if (error.type === ValueErrorType.ObjectRequiredProperty) return problem(where, field, `${noun} "${field}" is missing`);
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const known = Object.keys((error.schema as Partial<TObject>).properties ?? {});
    return problem(where, field, `unknown ${noun} "${field}"; known: ${known.join(', ')}`);
  }
  const subject = field === '' ? where : `${noun} "${field}"`;
  // TypeBox says "Expected union value" for a union (license: granted | refused, timeout: number | duration);
  // the scenario format's walker names what the branch the value was meant for expects.
  const unionIssue = error.type === ValueErrorType.Union ? schemaIssues(error.schema, error.value)[0] : undefined;
  if (unionIssue !== undefined) return problem(where, field, `${subject}: ${unionIssue.message}`);
  const expected = error.message.charAt(0).toLowerCase() + error.message.slice(1);
  return problem(where, field, `${subject}: ${expected}, got ${describe(error.value)}`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
