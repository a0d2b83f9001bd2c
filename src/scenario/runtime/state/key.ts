/**
 * State keys (`stateKey:`, `perKey:`) compiled once: a request field (`customerCookie`)
 * or a template of fields (`"{{customerCookie}}/{{contentID}}"`, the template engine of
 * epTokenURL without percent-encoding). A request that lacks any field the key names has
 * no key (null): it never shares a state with another request that lacks it.
 */
import type { RequestFacts } from '../engine.js';
import { KEY_FIELDS, type KeyField } from '../../format/format.js';
import { compileTemplate, templateVariableNames } from '../templates.js';
import type { StateChange } from '../responses.js';

export interface CompiledKey {
  /** As written in the scenario, e.g. `customerCookie`. */
  readonly form: string;
  /** The request fields it is made of, e.g. `customerCookie` (for messages: "the request has no …"). */
  readonly fields: readonly KeyField[];
  /** The key of a request, or null when the request lacks one of the fields. */
  of(facts: RequestFacts): string | null;
}

export class KeyFormError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFormError';
  }
}

const KNOWN: ReadonlySet<string> = new Set(KEY_FIELDS);

/** A request field's value; undefined when absent (null identity fields count as absent). */
const FIELD_VALUES: Record<KeyField, (facts: RequestFacts) => unknown> = {
  customerCookie: (facts) => facts.request.customerCookie,
  contentID: (facts) => facts.request.contentID,
  clientCN: (facts) => facts.client.cn ?? undefined,
  messageID: (facts) => facts.request.messageID,
  requestType: (facts) => facts.request.requestType,
  version: (facts) => facts.request.version,
};

/** Compile a key form once; throws KeyFormError naming what is wrong. */
export function compileKey(form: string): CompiledKey {
  const expected = `a request field (${KEY_FIELDS.join(', ')}) or a template of them such as "{{customerCookie}}/{{contentID}}"`;
  if (!form.includes('{{')) {
    if (!KNOWN.has(form)) throw new KeyFormError(`unknown key ${JSON.stringify(form)}: expected ${expected}`);
    const field = form as KeyField;
    const read = FIELD_VALUES[field];
    return {
      form,
      fields: [field],
      of: (facts) => {
        const value = read(facts);
        return value === undefined || value === null ? null : typeof value === 'string' ? value : String(value);
      },
    };
  }
  const names = templateVariableNames(form);
  const unknown = names.find((name) => !KNOWN.has(name));
  if (unknown !== undefined) {
    throw new KeyFormError(`{{${unknown}}} cannot be part of a key: expected ${expected}`);
  }
  const fields = [...new Set(names)] as KeyField[];
  const readers = fields.map((field) => FIELD_VALUES[field]);
  let render;
  try {
    render = compileTemplate(form, { percentEncode: false });
  } catch (error) {
    throw new KeyFormError(error instanceof Error ? error.message : String(error));
  }
  return {
    form,
    fields,
    of: (facts) => {
      for (const read of readers) {
        const value = read(facts);
        if (value === undefined || value === null) return null;
      }
      return render(facts);
    },
  };
}

/** The journal warning of a state change ignored because the request lacks a field of the key (requests without a key never share a state). */
export function ignoredChangeWarning(key: CompiledKey, change: StateChange, rule: string | null, facts: RequestFacts): string {
  const missing = key.fields.filter((field) => (field === 'clientCN' ? facts.client.cn === null : facts.request[field] === undefined));
  return `${change.kind === 'set' ? `setState: ${change.state}` : 'clearState'} of rule "${rule}" ignored: the request has no ${missing.join(', ')} (stateKey ${key.form})`;
}
