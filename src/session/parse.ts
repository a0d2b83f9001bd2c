/**
 * A session document (YAML or JSON text, as POST /admin/sessions receives it) → its definition
 * and its rules compiled, or errors positioned in the text. The scenario loader does the work
 * (limits, YAML positions, schema messages, rule checks, lint); this adds what only a session has.
 */
import type { CompiledScenario } from '../scenario/runtime/engine.js';
import type { PositionedError } from '../scenario/format/loaded.js';
import { parseScenarioText } from '../scenario/format/parse.js';
import type { SourcePositions } from '../scenario/format/positions.js';
import { parseDelay } from '../scenario/runtime/delay.js';
import { SESSION_KEY_FIELDS, SessionDefinition } from './format.js';

/** The `file` of errors in a posted session. */
export const SESSION_FILE = '(session)';

/** The longest time to live. */
export const MAX_TTL_MS = 3_600_000;

export type SessionParse =
  | { ok: true; definition: SessionDefinition; compiled: CompiledScenario; ttlMs: number | null; warnings: PositionedError[] }
  | { ok: false; errors: PositionedError[] };

/** `compile` turns the validated definition into its own rule set (fresh counters). */
export function parseSession(text: string, compile: (definition: SessionDefinition) => CompiledScenario): SessionParse {
  const result = parseScenarioText(text, SESSION_FILE, {
    defaultName: 'session',
    schema: SessionDefinition,
    check: sessionErrors,
    compile: (loaded) => compile(loaded.definition as SessionDefinition),
  });
  if (!result.scenario || !result.compiled) return { ok: false, errors: result.errors.map(namedForSession) };
  const definition = result.scenario.definition as SessionDefinition;
  return { ok: true, definition, compiled: result.compiled, ttlMs: definition.ttl === undefined ? null : ttlMs(definition.ttl), warnings: result.warnings };
}

/** The loader names the whole document `(scenario)`; here it is a session. */
function namedForSession(error: PositionedError): PositionedError {
  return error.message.startsWith('(scenario)') ? { ...error, message: `(session)${error.message.slice('(scenario)'.length)}` } : error;
}

/** What the schema cannot say: the key names exactly one field; the ttl is above 0 and at most MAX_TTL_MS. */
function sessionErrors(value: unknown, positions: SourcePositions): PositionedError[] {
  const definition = value as SessionDefinition;
  const errors: PositionedError[] = [];
  const fields = SESSION_KEY_FIELDS.filter((field) => definition.key[field] !== undefined);
  if (fields.length === 0) {
    errors.push(positions.error(['key'], `name one request field: ${SESSION_KEY_FIELDS.join(', ')}, e.g. {contentID: "abc-*"}`));
  } else if (fields.length > 1) {
    errors.push(
      positions.error(['key', fields[1] as string], `a key names exactly one field, this one has ${fields.join(' and ')}`, { key: true }),
    );
  }
  if (definition.ttl !== undefined && Number.isNaN(ttlMs(definition.ttl))) {
    errors.push(positions.error(['ttl'], `expected a time to live above 0 and at most 1 hour (3600s), like "30s" or 5000 (ms), got ${JSON.stringify(definition.ttl)}`));
  }
  return errors;
}

/** The ttl in milliseconds, or NaN when it is 0 or too long. */
function ttlMs(ttl: number | string): number {
  try {
    const spec = parseDelay(ttl);
    return spec.kind === 'fixed' && spec.ms > 0 && spec.ms <= MAX_TTL_MS ? spec.ms : NaN;
  } catch {
    return NaN;
  }
}
