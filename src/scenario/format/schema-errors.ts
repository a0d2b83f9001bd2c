/**
 * Readable validation against the format's schemas (format.ts).
 *
 * TypeBox's own errors name a JSON pointer and say "Expected union value"; a
 * person editing YAML needs the field, what was expected and a hint. This
 * walker reads the same JSON Schema keywords TypeBox produces (type,
 * properties, required, additionalProperties, patternProperties,
 * propertyNames, items, minItems, minLength, maxLength, pattern, minimum,
 * maximum, exclusiveMinimum, const, anyOf, $ref/$id) and, for a union, follows
 * the one branch the value was evidently meant for instead of listing every
 * branch. The schema's `errorMessage` keyword, when present, is the message.
 *
 * The loader also runs TypeBox's checker afterwards as a safety net, so this
 * walker can only make messages better, never let an invalid file through.
 */
import type { ValuePath } from './positions.js';

/** A schema as plain JSON Schema keywords (TypeBox schemas are exactly that). */
type Schema = { readonly [keyword: string]: unknown };

export interface SchemaIssue {
  path: ValuePath;
  message: string;
  /** Position the message at the key (unknown keys) rather than at the value. */
  atKey?: boolean;
}

export interface SchemaCheckOptions {
  /** Extra words for an unknown key (e.g. "response fields go under respond:"). */
  unknownKeyHint?: (key: string, path: ValuePath) => string | undefined;
}

export function schemaIssues(root: unknown, value: unknown, options: SchemaCheckOptions = {}): SchemaIssue[] {
  return new SchemaWalker(root as Schema, options).check(root as Schema, value, []);
}

class SchemaWalker {
  private readonly ids = new Map<string, Schema>();

  constructor(
    private readonly root: Schema,
    private readonly options: SchemaCheckOptions,
  ) {
    this.collectIds(root, 0);
  }

  check(schema: Schema, value: unknown, path: ValuePath): SchemaIssue[] {
    const target = this.deref(schema);
    if (Array.isArray(target.anyOf)) return this.checkUnion(target, target.anyOf as Schema[], value, path);
    if ('const' in target) {
      return value === target.const ? [] : [{ path, message: `${expectedText(target)}, got ${describeValue(value)}` }];
    }
    switch (target.type) {
      case 'object':
        return this.checkObject(target, value, path);
      case 'array':
        return this.checkArray(target, value, path);
      case 'string':
        return checkString(target, value, path);
      case 'number':
      case 'integer':
        return checkNumber(target, value, path);
      case 'boolean':
        return typeof value === 'boolean' ? [] : [{ path, message: `${expectedText(target)}, got ${describeValue(value)}` }];
      case 'null':
        return value === null ? [] : [{ path, message: `${expectedText(target)}, got ${describeValue(value)}` }];
      default:
        return []; // no type: anything goes (Type.Unknown)
    }
  }

  private checkObject(schema: Schema, value: unknown, path: ValuePath): SchemaIssue[] {
    if (!isPlainObject(value)) return [{ path, message: `${expectedText(schema)}, got ${describeValue(value)}` }];
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>).map(
      ([pattern, valueSchema]) => ({ pattern: new RegExp(pattern), valueSchema }),
    );
    const propertyNames = schema.propertyNames as Schema | undefined;
    const issues: SchemaIssue[] = [];
    for (const key of Object.keys(value)) {
      const keyPath = [...path, key];
      const item = value[key];
      if (Object.hasOwn(properties, key)) {
        issues.push(...this.check(properties[key] as Schema, item, keyPath));
        continue;
      }
      if (propertyNames && checkString(propertyNames, key, keyPath).length > 0) {
        const reason = typeof propertyNames.errorMessage === 'string' ? propertyNames.errorMessage : 'not an allowed key';
        issues.push({ path: keyPath, message: reason, atKey: true });
        continue;
      }
      const pattern = patterns.find((candidate) => candidate.pattern.test(key));
      if (pattern) {
        issues.push(...this.check(pattern.valueSchema, item, keyPath));
        continue;
      }
      if (schema.additionalProperties === false) {
        issues.push({ path: keyPath, message: this.unknownKeyMessage(key, Object.keys(properties), path), atKey: true });
      } else if (isSchema(schema.additionalProperties)) {
        issues.push(...this.check(schema.additionalProperties, item, keyPath));
      }
    }
    for (const required of (schema.required ?? []) as string[]) {
      if (!Object.hasOwn(value, required)) issues.push({ path, message: `missing required key "${required}"` });
    }
    return issues;
  }

  private unknownKeyMessage(key: string, known: string[], path: ValuePath): string {
    const suggestion = didYouMean(key, known);
    const hint = this.options.unknownKeyHint?.(key, path);
    if (suggestion) return `unknown key (did you mean ${suggestion}?)${hint ? `; ${hint}` : ''}`;
    if (hint) return `unknown key; ${hint}`;
    return known.length > 0 ? `unknown key; expected one of ${known.join(', ')}` : 'unknown key';
  }

  private checkArray(schema: Schema, value: unknown, path: ValuePath): SchemaIssue[] {
    if (!Array.isArray(value)) return [{ path, message: `${expectedText(schema)}, got ${describeValue(value)}` }];
    const issues: SchemaIssue[] = [];
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      issues.push({ path, message: schema.minItems === 1 ? 'expected at least one item, got an empty list' : `expected at least ${schema.minItems} items` });
    }
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      issues.push({ path, message: `expected at most ${schema.maxItems} items, got ${value.length}` });
    }
    if (isSchema(schema.items)) {
      const items = schema.items;
      value.forEach((item, index) => issues.push(...this.check(items, item, [...path, index])));
    }
    return issues;
  }

  /**
   * A union: fine if any branch fits. Otherwise report against the branch the
   * value was evidently meant for (same JSON type; for mappings, the branch
   * sharing its keys) and fall back to the union's own message.
   */
  private checkUnion(union: Schema, branches: Schema[], value: unknown, path: ValuePath): SchemaIssue[] {
    const resolved = branches.map((branch) => this.deref(branch));
    const attempts = resolved.map((branch) => ({ branch, issues: this.check(branch, value, path) }));
    if (attempts.some((attempt) => attempt.issues.length === 0)) return [];

    const ownMessage = (): SchemaIssue[] => [{ path, message: `${expectedText(union, resolved)}, got ${describeValue(value)}` }];
    const compatible = attempts.filter((attempt) => this.typeFits(attempt.branch, value));
    if (compatible.length === 0) return ownMessage();

    // An enum-like union of constants: say which ones, and suggest the closest.
    if (compatible.every((attempt) => 'const' in attempt.branch)) {
      const options = compatible.map((attempt) => String(attempt.branch.const));
      const suggestion = typeof value === 'string' ? didYouMean(value, options) : undefined;
      return [
        {
          path,
          message: `${expectedText(union, resolved)}, got ${describeValue(value)}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
        },
      ];
    }

    if (isPlainObject(value) && compatible.length > 1) {
      const keys = Object.keys(value);
      const overlap = (branch: Schema) => keys.filter((key) => Object.hasOwn((branch.properties ?? {}) as object, key));
      const claimed = compatible.filter((attempt) => overlap(attempt.branch).length > 0);
      if (claimed.length > 1 && !claimed.some((attempt) => overlap(attempt.branch).length === keys.length)) {
        const used = keys.filter((key) => claimed.some((attempt) => overlap(attempt.branch).includes(key)));
        return [{ path, message: `${used.map((key) => `"${key}"`).join(' and ')} cannot be combined; ${expectedText(union, resolved)}` }];
      }
      if (claimed.length === 0) {
        if (keys.length === 0) return ownMessage();
        const known = [...new Set(compatible.flatMap((attempt) => Object.keys((attempt.branch.properties ?? {}) as object)))];
        return keys.map((key) => ({ path: [...path, key], message: this.unknownKeyMessage(key, known, path), atKey: true }));
      }
      return best(claimed, (attempt) => [-overlap(attempt.branch).length, attempt.issues.length]).issues;
    }

    const chosen = best(compatible, (attempt) => [attempt.issues.length]);
    // The branch failed on the value itself (a pattern, a range): the union's own words say it better.
    const shallow = chosen.issues.every((issue) => issue.path.length === path.length && !issue.atKey);
    if (shallow && typeof union.errorMessage === 'string' && !isPlainObject(value) && !Array.isArray(value)) return ownMessage();
    return chosen.issues;
  }

  /** Whether the value has the JSON type a branch wants (ignoring its other constraints). */
  private typeFits(branch: Schema, value: unknown): boolean {
    if ('const' in branch) return typeof branch.const === typeof value;
    switch (branch.type) {
      case 'object':
        return isPlainObject(value);
      case 'array':
        return Array.isArray(value);
      case 'string':
        return typeof value === 'string';
      case 'number':
      case 'integer':
        return typeof value === 'number';
      case 'boolean':
        return typeof value === 'boolean';
      case 'null':
        return value === null;
      default:
        return Array.isArray(branch.anyOf) ? (branch.anyOf as Schema[]).some((inner) => this.typeFits(this.deref(inner), value)) : true;
    }
  }

  private deref(schema: Schema): Schema {
    let current = schema;
    for (let hops = 0; typeof current.$ref === 'string' && hops < 16; hops++) {
      const target = current.$ref.startsWith('#') ? this.pointer(current.$ref) : this.ids.get(current.$ref);
      if (!target) throw new Error(`schema reference ${current.$ref} not found`);
      current = target;
    }
    return current;
  }

  /** `#/definitions/Matcher`: a JSON pointer into the root schema (as in the published JSON Schema). */
  private pointer(reference: string): Schema | undefined {
    let node: unknown = this.root;
    for (const part of reference.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      node = typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Schema)[key] : undefined;
    }
    return isSchema(node) ? node : undefined;
  }

  private collectIds(schema: unknown, depth: number): void {
    if (depth > 64 || typeof schema !== 'object' || schema === null) return;
    if (Array.isArray(schema)) {
      for (const item of schema) this.collectIds(item, depth + 1);
      return;
    }
    const record = schema as Schema;
    if (typeof record.$id === 'string' && !this.ids.has(record.$id)) this.ids.set(record.$id, record);
    for (const value of Object.values(record)) this.collectIds(value, depth + 1);
  }
}

function checkString(schema: Schema, value: unknown, path: ValuePath): SchemaIssue[] {
  if (typeof value !== 'string') return [{ path, message: `${expectedText(schema)}, got ${describeValue(value)}` }];
  const custom = typeof schema.errorMessage === 'string' ? schema.errorMessage : null;
  if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
    return [{ path, message: custom ?? (schema.minLength === 1 ? 'must not be empty' : `expected at least ${schema.minLength} characters`) }];
  }
  if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) {
    return [{ path, message: custom ?? `expected at most ${schema.maxLength} characters, got ${value.length}` }];
  }
  if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
    return [{ path, message: `${custom ?? `expected a string matching /${schema.pattern}/`}, got ${describeValue(value)}` }];
  }
  return [];
}

function checkNumber(schema: Schema, value: unknown, path: ValuePath): SchemaIssue[] {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return [{ path, message: `${expectedText(schema)}, got ${describeValue(value)}` }];
  }
  const custom = typeof schema.errorMessage === 'string' ? `${schema.errorMessage}, got ${value}` : null;
  if (schema.type === 'integer' && !Number.isInteger(value)) return [{ path, message: custom ?? `expected a whole number, got ${value}` }];
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  const exclusiveMin = schema.exclusiveMinimum as number | undefined;
  const outOfRange =
    (min !== undefined && value < min) || (max !== undefined && value > max) || (exclusiveMin !== undefined && value <= exclusiveMin);
  if (!outOfRange) return [];
  if (custom) return [{ path, message: custom }];
  const bounds: string[] = [];
  if (min !== undefined) bounds.push(`at least ${min}`);
  if (exclusiveMin !== undefined) bounds.push(`above ${exclusiveMin}`);
  if (max !== undefined) bounds.push(`at most ${max}`);
  return [{ path, message: `expected a number ${bounds.join(' and ')}, got ${value}` }];
}

/** "expected …" for a schema: its errorMessage, else words for its type. */
function expectedText(schema: Schema, branches?: Schema[]): string {
  if (typeof schema.errorMessage === 'string') return schema.errorMessage;
  if (branches) return `expected ${joinOr(branches.map(noun))}`;
  return `expected ${noun(schema)}`;
}

function noun(schema: Schema): string {
  if (typeof schema.errorMessage === 'string') return schema.errorMessage.replace(/^expected /, '');
  if ('const' in schema) return JSON.stringify(schema.const);
  switch (schema.type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'integer':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return 'a value';
  }
}

function joinOr(words: string[]): string {
  const unique = [...new Set(words)];
  if (unique.length <= 1) return unique[0] ?? 'a value';
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

/** How a value is described after "got": YAML words, since that is what people write. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return value === '' ? 'an empty string' : `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : `${value}`;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  if (isPlainObject(value)) return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The best element by a lexicographic score (lower is better); ties keep the first. */
function best<T>(items: readonly T[], score: (item: T) => number[]): T {
  let chosen = items[0] as T;
  let chosenScore = score(chosen);
  for (const item of items.slice(1)) {
    const itemScore = score(item);
    const better = itemScore.findIndex((part, index) => part !== chosenScore[index]);
    if (better >= 0 && (itemScore[better] as number) < (chosenScore[better] as number)) {
      chosen = item;
      chosenScore = itemScore;
    }
  }
  return chosen;
}

/** The closest known word: same letters in another case, or a small edit away. */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameCase = known.find((candidate) => candidate.toLowerCase() === lower);
  if (sameCase) return sameCase;
  let found: string | undefined;
  let foundDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(candidate.length / 3));
    if (distance <= allowed && distance < foundDistance) {
      found = candidate;
      foundDistance = distance;
    }
  }
  return found;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const previous = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = value;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
