/**
 * Templates (`epTokenURL`, `errorText`) compiled once into functions of the request.
 * `{{name}}` (spaces inside the braces allowed) inserts a request value, or a fresh
 * `uuid`, `now` (RFC 3339, UTC) or `token` (32 random bytes, base64url). Absent values
 * insert nothing. With `percentEncode` (epTokenURL only), inserted values are
 * percent-encoded (encodeURIComponent); the template's own text never is.
 */
import { randomFillSync, randomUUID } from 'node:crypto';
import type { RequestFacts } from './engine.js';

export type CompiledTemplate = (facts: RequestFacts) => string;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type ValueSource = (facts: RequestFacts) => string;

const VARIABLES: Record<string, ValueSource> = {
  contentID: (facts) => asText(facts.request.contentID),
  messageID: (facts) => asText(facts.request.messageID),
  requestType: (facts) => asText(facts.request.requestType),
  customerCookie: (facts) => asText(facts.request.customerCookie),
  version: (facts) => asText(facts.request.version),
  clientCN: (facts) => facts.client.cn ?? '',
  uuid: () => randomUUID(),
  now: () => new Date().toISOString(),
  token: () => randomToken(),
};

/**
 * 32 random bytes, base64url. Drawn from a pool filled 4 KiB at a time: one call into
 * OpenSSL per 128 tokens instead of one per token (~5% of a request's CPU otherwise).
 */
const TOKEN_BYTES = 32;
const tokenPool = Buffer.alloc(TOKEN_BYTES * 128);
let tokenPoolOffset = tokenPool.length;
function randomToken(): string {
  if (tokenPoolOffset === tokenPool.length) {
    randomFillSync(tokenPool);
    tokenPoolOffset = 0;
  }
  const token = tokenPool.toString('base64url', tokenPoolOffset, tokenPoolOffset + TOKEN_BYTES);
  tokenPoolOffset += TOKEN_BYTES;
  return token;
}

/** The variable names a template may use, in the order docs/scenarios.md lists them. */
export const TEMPLATE_VARIABLES: readonly string[] = Object.keys(VARIABLES);

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The variable names a template's placeholders name, in order (unknown names included). */
export function templateVariableNames(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((placeholder) => placeholder[1]!);
}

/** Compile once; throws TemplateError naming an unknown variable or an unclosed `{{`. */
export function compileTemplate(text: string, opts: { percentEncode: boolean }): CompiledTemplate {
  if (!text.includes('{{')) {
    return function literalText() {
      return text;
    };
  }

  const parts: (string | ValueSource)[] = [];
  let last = 0;
  for (const placeholder of text.matchAll(PLACEHOLDER)) {
    const name = placeholder[1]!;
    const source = Object.hasOwn(VARIABLES, name) ? VARIABLES[name] : undefined;
    if (!source) {
      throw new TemplateError(
        `unknown template variable {{${name}}}; known: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`,
      );
    }
    if (placeholder.index > last) parts.push(text.slice(last, placeholder.index));
    parts.push(
      opts.percentEncode
        ? function percentEncodedValue(facts: RequestFacts) {
            return percentEncode(source(facts));
          }
        : source,
    );
    last = placeholder.index + placeholder[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  const unclosed = parts.find((p): p is string => typeof p === 'string' && p.includes('{{'));
  if (unclosed !== undefined) {
    throw new TemplateError(`"{{" without a matching "}}" in template ${JSON.stringify(text)}`);
  }

  if (parts.length === 1 && typeof parts[0] !== 'string') return parts[0]!;
  return function renderTemplate(facts) {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : part(facts);
    return out;
  };
}

/** How a request value reads in text. Invalid requests may carry any JSON, hence objects. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** encodeURIComponent, but a lone surrogate (valid JSON, invalid UTF-16) becomes U+FFFD instead of throwing. */
function percentEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(LONE_SURROGATE, '\uFFFD'));
  }
}
