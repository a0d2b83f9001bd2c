/**
 * deploy/kubernetes/ and docker-compose.scale.yml (issue 17, docs/scaling.md): every manifest is
 * valid against the Kubernetes API schema of its kind (test/helpers/kubernetes-schema.ts), a broken
 * one is not, and the pieces are wired to each other (selectors, ports, Redis, peers, the PKI
 * Secret, /health probes); a replica started with the Deployment's environment writes nothing into
 * its certs folder (mounted read-only). `docker-compose config` of the scale file runs in .ci/run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { kubernetesSchemaProblems } from './helpers/kubernetes-schema.js';
import { SERVE_OPTIONS } from '../src/cli/serve-options.js';
import { DEFAULT_OPTIONS } from '../src/server/options.js';
import { parsePeers } from '../src/federation/peers-option.js';
import { parseStoreUrl } from '../src/store/url.js';
import { testPki } from './helpers/pki.js';
import { startRedis } from './helpers/redis.js';
import { spawnCli, startLineOf } from './helpers/cli.js';
import { entitlementRequest, sendEntitlementRequest } from './helpers/mock.js';
import { tempDir } from './helpers/temp.js';
import { closeAfter } from './helpers/cleanup.js';

const own = closeAfter(test.after.each);

const ROOT = join(import.meta.dirname, '..');
const FOLDER = join(ROOT, 'deploy/kubernetes');

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: any;
}

/** kubectl reads manifests as YAML 1.1 (`yes` is a boolean, `0440` octal): so do we. */
function manifests(): Manifest[] {
  const files = readdirSync(FOLDER).filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml');
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(FOLDER, file), 'utf8'), { version: '1.1' }).map((document) => {
      assert.equal(document.errors.map(String), [], `${file}: YAML errors`);
      return { file, ...(document.toJS() as Omit<Manifest, 'file'>) };
    }),
  );
}

const byKind = (kind: string) => manifests().filter((manifest) => manifest.kind === kind);
const named = (kind: string, name: string): Manifest => {
  const found = byKind(kind).find((manifest) => manifest.metadata.name === name);
  assert.ok(found, `no ${kind} ${name} in deploy/kubernetes`);
  return found!;
};
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const podsOf = (service: Manifest) => byKind('Deployment').filter((deployment) => selects(service.spec.selector, deployment.spec.template.metadata.labels));
const mockContainer = () => named('Deployment', 'entitlement-mock').spec.template.spec.containers[0];
const envOf = (container: { env?: { name: string; value?: string }[] }) => new Map((container.env ?? []).map(({ name, value }) => [name, value]));
const withoutFile = ({ file: _file, ...document }: Manifest) => document;

test('every manifest in deploy/kubernetes is valid against the Kubernetes API schema of its kind', () => {
  const all = manifests();
  assert.equal(
    all.map(({ kind, metadata }) => `${kind} ${metadata.name}`).sort(),
    ['Deployment entitlement-mock', 'Deployment redis', 'Service entitlement-mock', 'Service entitlement-mock-peers', 'Service redis'],
  );
  for (const manifest of all) {
    assert.equal(kubernetesSchemaProblems(withoutFile(manifest)), [], `${manifest.file}: ${manifest.kind} ${manifest.metadata.name}`);
  }
});

test('kustomization.yaml lists every manifest file of the folder', () => {
  const kustomization = parseYaml(readFileSync(join(FOLDER, 'kustomization.yaml'), 'utf8'), { version: '1.1' });
  assert.is(kustomization.kind, 'Kustomization');
  const files = readdirSync(FOLDER).filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml');
  assert.equal([...kustomization.resources].sort(), files.sort());
  assert.equal(kustomization.images.map((image: { name: string }) => image.name), [mockContainer().image.split(':')[0]], 'kustomize images name the mock image');
});

test('a broken manifest fails: wrong type, missing required field, value outside its enum, misspelled field, unknown kind', () => {
  const deployment = withoutFile(named('Deployment', 'entitlement-mock'));
  const broken = (change: (copy: any) => void) => {
    const copy = structuredClone(deployment);
    change(copy);
    return kubernetesSchemaProblems(copy);
  };
  assert.equal(broken((copy) => { copy.spec.replicas = 'three'; }), ['/spec/replicas: must be integer']);
  assert.equal(
    broken((copy) => { delete copy.spec.template.spec.containers[0].readinessProbe.httpGet.port; }),
    ['/spec/template/spec/containers/0/readinessProbe/httpGet: must have required property port'],
  );
  assert.equal(
    broken((copy) => { copy.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes'; }),
    ['/spec/template/spec/containers/0/imagePullPolicy: must be equal to one of the allowed values'],
  );
  // A misspelled probe would silently leave the replica without one.
  const container = deployment.spec.template.spec.containers[0];
  assert.equal(
    broken((copy) => { copy.spec.template.spec.containers[0].readinesProbe = container.readinessProbe; }),
    ['/spec/template/spec/containers/0/readinesProbe: unknown field (not in the apps/v1 Deployment schema)'],
  );
  // YAML 1.1, as kubectl reads it: an unquoted `yes` is a boolean, and an env value must be a string.
  const [yes] = parseAllDocuments('value: yes', { version: '1.1' }).map((document) => document.toJS().value);
  assert.equal(broken((copy) => { copy.spec.template.spec.containers[0].env[0].value = yes; }), ['/spec/template/spec/containers/0/env/0/value: must be string']);
  assert.match(broken((copy) => { copy.kind = 'Deploymnet'; })[0]!, /kind Deploymnet: no schema/);
});

test('the Services select the replicas and name ports they have; the peers Service is headless', () => {
  const mockPorts = new Map<string, number>(mockContainer().ports.map((port: { name: string; containerPort: number }) => [port.name, port.containerPort]));
  assert.equal(mockPorts, new Map([['entitlement', DEFAULT_OPTIONS.port], ['admin', DEFAULT_OPTIONS.adminPort]]), 'the ports serve listens on by default');
  for (const deployment of byKind('Deployment')) {
    assert.ok(selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels), `${deployment.metadata.name}: selector matches its pods`);
  }
  for (const service of byKind('Service')) {
    const pods = podsOf(service);
    assert.is(pods.length, 1, `Service ${service.metadata.name} selects exactly one Deployment's pods`);
    const containerPorts = pods[0]!.spec.template.spec.containers.flatMap((c: { ports: { name: string }[] }) => c.ports.map((port) => port.name));
    for (const port of service.spec.ports) assert.ok(containerPorts.includes(port.targetPort), `Service ${service.metadata.name}: targetPort ${port.targetPort} is a named container port`);
  }
  const front = named('Service', 'entitlement-mock');
  assert.ok(front.spec.ports.some((port: { port: number; targetPort: string }) => port.port === 8443 && port.targetPort === 'entitlement'), 'license servers reach :8443');
  const peers = named('Service', mockEnv('EM_PEERS'));
  assert.is(peers.spec.clusterIP, 'None', 'EM_PEERS names a headless Service: one name, every replica');
  assert.equal(peers.spec.ports.map((port: { targetPort: string }) => port.targetPort), ['admin']);
  assert.is(podsOf(peers)[0]!.metadata.name, 'entitlement-mock');
  assert.is(named('Deployment', 'entitlement-mock').spec.replicas, 3);
});

function mockEnv(name: string): string {
  const value = envOf(mockContainer()).get(name);
  assert.type(value, 'string', `the mock sets ${name}`);
  return value!;
}

test('EM_STORE points at the Redis Service; the PKI Secret is mounted where EM_CERTS says', () => {
  const store = parseStoreUrl(mockEnv('EM_STORE'));
  const redis = named('Service', store.host);
  assert.ok(redis.spec.ports.some((port: { port: number }) => port.port === store.port), `Service ${store.host} has port ${store.port}`);
  assert.is(podsOf(redis)[0]!.spec.template.spec.containers[0].ports[0].containerPort, 6379);

  const pod = named('Deployment', 'entitlement-mock').spec.template.spec;
  const pki = pod.volumes.find((volume: { secret?: { secretName: string } }) => volume.secret?.secretName === 'entitlement-mock-pki');
  assert.ok(pki, 'a volume from the Secret entitlement-mock-pki');
  const mount = mockContainer().volumeMounts.find((m: { name: string }) => m.name === pki.name);
  assert.equal({ mountPath: mount.mountPath, readOnly: mount.readOnly }, { mountPath: mockEnv('EM_CERTS'), readOnly: true });
  assert.is(pki.secret.defaultMode, 0o440);
  const token = mockContainer().env.find((variable: { name: string }) => variable.name === 'EM_ADMIN_TOKEN');
  assert.is(token.valueFrom.secretKeyRef.optional, true, 'the admin token Secret is optional');
});

test('the mock is probed on /health at its admin port, and runs non-root with a read-only root file system', () => {
  const container = mockContainer();
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    assert.equal(container[probe].httpGet, { path: '/health', port: 'admin' }, probe);
  }
  const pod = named('Deployment', 'entitlement-mock').spec.template.spec;
  for (const deployment of byKind('Deployment')) {
    const { securityContext, containers } = deployment.spec.template.spec;
    assert.is(securityContext.runAsNonRoot, true, deployment.metadata.name);
    for (const c of containers) {
      assert.equal(
        { readOnlyRootFilesystem: c.securityContext.readOnlyRootFilesystem, allowPrivilegeEscalation: c.securityContext.allowPrivilegeEscalation, drop: c.securityContext.capabilities.drop },
        { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, drop: ['ALL'] },
        `${deployment.metadata.name}/${c.name}`,
      );
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${c.name}: requests and a memory limit`);
    }
  }
  // The image's `node` user (uid 1000); fsGroup lets it read the Secret's keys (mode 0440).
  assert.equal([pod.securityContext.runAsUser, pod.securityContext.fsGroup], [1000, 1000]);
  assert.match(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), /^USER node$/m);
});

/** Name, size, mode and modification time of every entry of a folder (not recursive: the Secret is flat). */
function folderState(folder: string): string[] {
  return readdirSync(folder)
    .sort()
    .map((name) => {
      const stats = statSync(join(folder, name));
      return `${name} ${stats.size} ${stats.mode.toString(8)} ${stats.mtimeMs}`;
    });
}

test('a replica as the Deployment sets it up (with a store) serves and stops without writing to its read-only certs folder', async () => {
  // The Secret's three files, as `kubectl create secret generic entitlement-mock-pki` in docs/scaling.md puts them.
  const pki = await testPki();
  const certs = tempDir('k8s-pki');
  for (const file of ['ca.crt', 'server.crt', 'server.key']) copyFileSync(join(pki.dir, file), join(certs, file));
  const before = folderState(certs);
  const redis = await startRedis();
  own(() => redis.stop());

  const env = Object.fromEntries([...envOf(mockContainer())].filter((entry): entry is [string, string] => entry[1] !== undefined));
  assert.is(env.EM_CERTS, '/certs');
  // Here: loopback, free ports, the test's Redis, the repository's scenarios (the image's /scenarios),
  // the start line logged; no peers to ask (EM_PEERS names a Kubernetes Service).
  delete env.EM_PEERS;
  Object.assign(env, {
    EM_CERTS: certs,
    EM_STORE: redis.url,
    EM_SCENARIOS: join(ROOT, 'scenarios'),
    EM_HOST: '127.0.0.1',
    EM_PORT: '0',
    EM_ADMIN_HOST: '127.0.0.1',
    EM_ADMIN_PORT: '0',
    EM_LOG_LEVEL: 'info',
  });
  const child = own(spawnCli(['serve'], env));
  const { startLine } = await startLineOf(child);
  const port = Number(new URL(startLine.entitlementUrl).port);
  const reply = await sendEntitlementRequest({ port, ca: pki.caPem, defaultClient: pki.client, path: '/entitlement' }, entitlementRequest());
  assert.is(reply.status, 200);
  const health = await fetch(`${startLine.adminUrl}/health`);
  assert.is(health.status, 200, 'the probes\' /health');
  assert.is(((await health.json()) as { status: string }).status, 'ok');

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  assert.equal((await exited)[0], 0);
  assert.equal(folderState(certs), before, 'nothing written, changed or added in the certs folder');
});

test('every EM_ variable the manifests and docker-compose.scale.yml set is an option of serve', () => {
  const known = new Set<string>(Object.values(SERVE_OPTIONS).map((option) => option.env));
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.scale.yml'), 'utf8'), { merge: true });
  const names = [
    ...envOf(mockContainer()).keys(),
    ...Object.keys(compose.services['entitlement-mock'].environment),
  ].filter((name) => name.startsWith('EM_'));
  const unknown = names.filter((name) => !known.has(name));
  assert.equal(unknown, [], 'not options of serve');
  // EM_PEERS as serve reads it: one host name, asked on the admin port.
  for (const peers of [envOf(mockContainer()).get('EM_PEERS'), compose.services['entitlement-mock'].environment.EM_PEERS]) {
    assert.equal(parsePeers(String(peers), 8080), { kind: 'dns', host: String(peers), port: 8080 });
  }
});

test('docker-compose.scale.yml: three replicas sharing Redis and the PKI made by the one-shot certs service', () => {
  const { services, volumes } = parseYaml(readFileSync(join(ROOT, 'docker-compose.scale.yml'), 'utf8'), { merge: true });
  const mock = services['entitlement-mock'];
  assert.is(mock.deploy.replicas, 3);
  assert.is(mock.environment.EM_PEERS, 'entitlement-mock', 'the service name resolves to every replica');
  const store = parseStoreUrl(mock.environment.EM_STORE);
  assert.ok(services[store.host], `EM_STORE names the compose service ${store.host}`);
  assert.is(store.port, 6379);
  assert.equal(mock.depends_on, { certs: { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } });

  const certs = services.certs;
  assert.equal(certs.command.slice(0, 3), ['certs', '--out', '/certs']);
  const sanAt = certs.command.indexOf('--san');
  assert.is(certs.command[sanAt + 1], 'entitlement-mock', 'the server certificate is valid for the name the replicas share');
  assert.ok(certs.volumes.includes('certs:/certs'));
  assert.ok(mock.volumes.includes(`certs:${mock.environment.EM_CERTS}:ro`), 'the replicas read the PKI volume at EM_CERTS');
  assert.ok('certs' in volumes);
  assert.is(certs.image, mock.image, 'one image for the PKI and the replicas');
  // One host port per replica: a range at least as long as the replicas.
  for (const published of mock.ports as string[]) {
    const [, first, last] = /:(\d+)-(\d+):\d+$/.exec(published) ?? [];
    assert.ok(first && last && Number(last) - Number(first) + 1 >= mock.deploy.replicas, `${published}: a host port range for every replica`);
  }
});

test.run();
