/**
 * Checks a Kubernetes manifest (one parsed YAML document) against the Kubernetes API schema of its
 * apiVersion/kind, with the validators kubernetes-models ships (generated from the Kubernetes OpenAPI
 * document and compiled with ajv; no network).
 *
 * Those schemas leave objects open: an unknown field, such as a misspelled `readinesProbe`, passes
 * them, while the API server's strict field validation (`kubectl apply --validate=strict`) refuses
 * it. A compiled validator reads every field its schema defines (`data.replicas`, …), so the
 * document is handed to it behind proxies that note each read: a field never read is one the
 * schema does not know.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';

/** The kinds the manifests may use; another kind is a problem, not a pass. */
const MODELS = new Map<string, { prototype: { validate(): void } }>(
  [ConfigMap, Secret, Service, Deployment].map((model) => [`${model.apiVersion} ${model.kind}`, model]),
);

interface AjvError {
  instancePath: string;
  message?: string;
}

/** Problems of one document, each naming the field (`/spec/replicas: must be integer`); [] when valid. */
export function kubernetesSchemaProblems(document: unknown): string[] {
  const { apiVersion, kind } = (document ?? {}) as { apiVersion?: unknown; kind?: unknown };
  const model = MODELS.get(`${String(apiVersion)} ${String(kind)}`);
  if (!model) return [`apiVersion ${String(apiVersion)}, kind ${String(kind)}: no schema (known: ${[...MODELS.keys()].join(', ')})`];
  const unread = new Set<string>();
  try {
    model.prototype.validate.call(noteReads(document, '', unread));
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!errors) throw error;
    return errors.map((problem) => `${problem.instancePath || '/'}: ${problem.message ?? 'invalid'}`);
  }
  // An unknown field's own fields were never read either: name only the outermost.
  const outermost = [...unread].filter((path) => ![...unread].some((other) => path.startsWith(`${other}/`)));
  return outermost.map((path) => `${path}: unknown field (not in the ${String(apiVersion)} ${String(kind)} schema)`);
}

/** `value` behind proxies; each object's own fields go into `unread` (as paths) until something reads them. */
function noteReads(value: unknown, path: string, unread: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const isArray = Array.isArray(value);
  const children = new Map<string, unknown>();
  for (const [key, child] of Object.entries(value)) {
    if (!isArray) unread.add(`${path}/${key}`);
    children.set(key, noteReads(child, `${path}/${key}`, unread));
  }
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key !== 'string' || !children.has(key)) return Reflect.get(target, key, receiver);
      unread.delete(`${path}/${key}`);
      return children.get(key);
    },
  });
}
