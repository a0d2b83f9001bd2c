/**
 * The container image and the example compose rig, reproduced on the host
 * (CI has no Docker engine).
 *
 * Everything is read from the Dockerfile and docker-compose.yml themselves, so the
 * two cannot drift apart from this test: the Dockerfile (parsed by dockerfile-ast) is replayed in a
 * temporary folder (each stage gets its own fake root; COPY copies what the build
 * context would hold after .dockerignore; RUN's `npm …` commands really run), then
 * the compose services run in dependency order with the image's ENV, ENTRYPOINT/CMD
 * and HEALTHCHECK and each service's `command`, `environment` and `volumes`.
 *
 * What the host cannot reproduce, and what the test does instead:
 * - Ports: EM_HOST/EM_ADMIN_HOST are set to 127.0.0.1 and EM_PORT, EM_ADMIN_PORT and
 *   EM_TROUBLE_PORT to free loopback ports; URLs naming a compose service
 *   (https://entitlement-mock:8443/…) are rewritten to 127.0.0.1 and the mapped port.
 *   That the server certificate is valid for the service name is checked on the file.
 * - `chown` and USER: not replayed (no root); the final USER is checked to be non-root.
 * - `npm cache clean --force`: not replayed (it would empty the host's npm cache).
 * - npm runs with --prefer-offline to reuse the host's cache.
 * - node is not PID 1 here; SIGTERM is sent to it directly, as `docker stop` does.
 * Any other RUN command fails the test until it is taught here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYaml } from 'yaml';
import dockerignoreModule from '@balena/dockerignore';
import { Copy, DockerfileParser, Env, From, Healthcheck, JSONInstruction, type Instruction as DockerInstruction } from 'dockerfile-ast';
import { freePortBlock } from './helpers/ports.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DOCKERFILE = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
const COMPOSE_TEXT = readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8');
const DOCKERIGNORE = readFileSync(path.join(REPO, '.dockerignore'), 'utf8');

// ---------------------------------------------------------------- Dockerfile parsing (dockerfile-ast)

interface Instruction {
  /** The parsed instruction: continuation lines joined, comments inside them dropped, flags apart. */
  node: DockerInstruction;
  keyword: string;
  /** The arguments as Docker splits them into words, flags excluded. */
  words: string[];
  /** The words as one line, for messages and for checks on the text. */
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | null;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const node of DockerfileParser.parse(text).getInstructions()) {
    const line = node.getRange().start.line + 1;
    if (node instanceof From) {
      const image = node.getImage();
      if (!image) throw new Error(`Dockerfile:${line}: FROM without an image`);
      stages.push({ image, name: node.getBuildStage(), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile:${line}: ${node.getKeyword()} before FROM`);
    const words = node.getArguments().map((argument) => argument.getValue());
    stage.instructions.push({ node, keyword: node.getKeyword(), words, args: words.join(' '), line });
  }
  return stages;
}

function execForm(instruction: Instruction): string[] {
  const { node } = instruction;
  const strings = node instanceof JSONInstruction && node.getOpeningBracket() ? node.getJSONStrings().map((string) => string.getJSONValue()) : null;
  assert.ok(strings, `Dockerfile:${instruction.line}: ${instruction.keyword} must use the exec form (a JSON array)`);
  return strings;
}

function envPairs(instruction: Instruction): [string, string][] {
  assert.instance(instruction.node, Env);
  return (instruction.node as Env).getProperties().map((property) => [property.getName(), property.getValue() ?? '']);
}

/** The stage COPY --from names, if any. */
const copyFrom = (instruction: Instruction): string | undefined =>
  (instruction.node instanceof Copy && instruction.node.getFromFlag()?.getValue()) || undefined;

function healthcheckCommand(instruction: Instruction): string[] {
  const { node } = instruction;
  assert.ok(node instanceof Healthcheck && node.getSubcommand()?.getValue().toUpperCase() === 'CMD', `Dockerfile:${instruction.line}: HEALTHCHECK CMD`);
  const command = instruction.words.slice(1).join(' ');
  assert.ok(command.startsWith('['), `Dockerfile:${instruction.line}: HEALTHCHECK must be CMD ["…"] (exec form)`);
  return JSON.parse(command) as string[];
}

// ---------------------------------------------------------------- .dockerignore

// The package is CommonJS (module.exports is the factory) while its types declare an ES default export.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;
/** Whether the build context leaves a path out, by Docker's own .dockerignore rules (@balena/dockerignore). */
const ignoredByDocker = dockerignore().add(DOCKERIGNORE);
const isIgnored = (relativePath: string): boolean => ignoredByDocker.ignores(relativePath);

// ---------------------------------------------------------------- fake container filesystems

class FakeRoot {
  workdir = '/';
  readonly env: Record<string, string> = {};
  /** Container path → host path, for compose volumes. */
  readonly mounts: [string, string][] = [];

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Where a container path lives on the host. */
  map(containerPath: string): string {
    const absolute = path.posix.resolve(this.workdir, containerPath);
    const mount = this.mounts
      .filter(([target]) => absolute === target || absolute.startsWith(`${target}/`))
      .sort((a, b) => b[0].length - a[0].length)[0];
    if (mount) return path.join(mount[1], path.posix.relative(mount[0], absolute));
    return path.join(this.root, absolute);
  }

  /** A copy sharing this root's files, with its own mounts (a container of this image). */
  container(): FakeRoot {
    const copy = new FakeRoot(this.root);
    copy.workdir = this.workdir;
    Object.assign(copy.env, this.env);
    return copy;
  }
}

const temp = mkdtempSync(path.join(tmpdir(), 'em-docker-image-'));
const stages = parseDockerfile(DOCKERFILE);
const roots = new Map<Stage, FakeRoot>();
const timings: Record<string, number> = {};
const started: ChildProcess[] = [];
let imageReplayed = false;

/** The environment npm sees when a RUN line runs on the host: the host's, minus EM_*, plus the stage's ENV. */
function npmEnv(root: FakeRoot): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('EM_')));
  return { ...env, ...root.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
}

function copyInto(root: FakeRoot, sources: { from: string; hostPath: string; contextRelative: string | null }[], destination: string): void {
  const many = sources.length > 1 || destination.endsWith('/');
  for (const source of sources) {
    assert.ok(existsSync(source.hostPath), `COPY: ${source.from} does not exist`);
    const isDirectory = statSync(source.hostPath).isDirectory();
    const target = isDirectory || !many ? root.map(destination) : path.join(root.map(destination), path.basename(source.hostPath));
    cpSync(source.hostPath, target, {
      recursive: true,
      filter: (hostPath) => {
        if (source.contextRelative === null) return true;
        const relative = path.relative(REPO, hostPath).split(path.sep).join('/');
        return !isIgnored(relative);
      },
    });
  }
}

function replayRun(root: FakeRoot, instruction: Instruction): void {
  const commands = instruction.words.reduce<string[][]>((split, word) => (word === '&&' ? [...split, []] : (split.at(-1)!.push(word), split)), [[]]);
  for (const words of commands) {
    const command = words.join(' ');
    const where = `Dockerfile:${instruction.line}: RUN ${command}`;
    if (words[0] === 'npm' && words[1] === 'cache' && words[2] === 'clean') continue; // would empty the host's cache
    if (words[0] === 'npm') {
      const startedAt = performance.now();
      const result = spawnSync('npm', words.slice(1), { cwd: root.map('.'), env: npmEnv(root), encoding: 'utf8' });
      assert.is(result.status, 0, `${where} failed:\n${result.stdout}\n${result.stderr}`);
      timings[`${command.replace(/ --no-audit --no-fund/, '')}`] = performance.now() - startedAt;
    } else if (words[0] === 'mkdir') {
      for (const target of words.slice(1).filter((word) => !word.startsWith('-'))) mkdirSync(root.map(target), { recursive: true });
    } else if (words[0] === 'chown') {
      for (const target of words.slice(2).filter((word) => !word.startsWith('-'))) assert.ok(existsSync(root.map(target)), `${where}: ${target} does not exist`);
    } else if (words[0] === 'ln' && words[1] === '-s' && words.length === 4) {
      mkdirSync(path.dirname(root.map(words[3]!)), { recursive: true });
      symlinkSync(root.map(words[2]!), root.map(words[3]!));
    } else {
      throw new Error(`${where}: the host replay does not know this command; teach test/docker-image.test.ts`);
    }
  }
}

/** Replay one stage's instructions; returns its image config. */
function replayStage(stage: Stage, index: number): FakeRoot {
  const root = new FakeRoot(path.join(temp, `stage-${index}-${stage.name ?? 'final'}`));
  roots.set(stage, root);
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'WORKDIR':
        root.workdir = path.posix.resolve(root.workdir, instruction.words[0]!);
        mkdirSync(root.map('.'), { recursive: true });
        break;
      case 'ENV':
        for (const [name, value] of envPairs(instruction)) root.env[name] = value;
        break;
      case 'COPY': {
        const words = [...instruction.words];
        const destination = words.pop()!;
        const fromName = copyFrom(instruction);
        const fromStage = fromName === undefined ? null : stages.find((candidate) => candidate.name === fromName);
        if (fromName !== undefined) assert.ok(fromStage && roots.has(fromStage), `Dockerfile:${instruction.line}: no earlier stage "${fromName}"`);
        const sources = words.map((from) => {
          if (fromStage) return { from, hostPath: roots.get(fromStage)!.map(from), contextRelative: null };
          const contextRelative = path.posix.normalize(from);
          assert.not.ok(isIgnored(contextRelative), `Dockerfile:${instruction.line}: COPY ${from}, but .dockerignore excludes it`);
          return { from, hostPath: path.join(REPO, contextRelative), contextRelative };
        });
        copyInto(root, sources, destination);
        break;
      }
      case 'RUN':
        replayRun(root, instruction);
        break;
      case 'USER':
      case 'VOLUME':
      case 'EXPOSE':
      case 'HEALTHCHECK':
      case 'ENTRYPOINT':
      case 'CMD':
      case 'ARG':
      case 'LABEL':
        break; // image configuration, checked below
      default:
        throw new Error(`Dockerfile:${instruction.line}: the host replay does not know ${instruction.keyword}`);
    }
  }
  return root;
}

function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
}

// ---------------------------------------------------------------- compose

interface ComposeService {
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  volumes?: string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}

const compose = parseYaml(COMPOSE_TEXT, { merge: true }) as { services: Record<string, ComposeService> };

function dependents(name: string, condition: string): string[] {
  return Object.entries(compose.services)
    .filter(([, service]) => service.depends_on?.[name]?.condition === condition)
    .map(([dependent]) => dependent);
}

/** The service that serves (the image's entry point with command `serve`, or the image default). */
function mockServiceName(): string {
  const names = Object.entries(compose.services)
    .filter(([, service]) => service.entrypoint === undefined && (service.command === undefined || service.command[0] === 'serve'))
    .map(([name]) => name);
  assert.is(names.length, 1, `expected one serving service, got ${names.join(', ')}`);
  return names[0]!;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}


interface Container {
  root: FakeRoot;
  env: Record<string, string>;
}

/** A container of the final image for a compose service: image ENV + service environment + volumes. */
function containerFor(image: FakeRoot, serviceName: string, overrides: Record<string, string> = {}): Container {
  const service = compose.services[serviceName]!;
  const root = image.container();
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':') as [string, string];
    const hostPath = source.startsWith('.') || source.startsWith('/') ? path.resolve(REPO, source) : path.join(temp, 'volumes', source);
    if (!existsSync(hostPath)) {
      // A fresh named volume starts as a copy of the image's folder (empty here).
      mkdirSync(hostPath, { recursive: true });
    }
    root.mounts.push([target, hostPath]);
  }
  const serviceEnv = Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value ?? '')]));
  const containerEnv = { ...image.env, ...serviceEnv };
  // Values naming container paths point into the fake root on the host.
  const mapped = Object.fromEntries(Object.entries(containerEnv).map(([name, value]) => [name, value.startsWith('/') ? root.map(value) : value]));
  return { root, env: { PATH: process.env.PATH ?? '', HOME: temp, ...mapped, ...overrides } };
}

/** Rewrites an argv from the container's view to the host's: node, container paths, service URLs. */
function hostArgv(container: Container, argv: string[], servicePorts: Record<string, Record<string, number>>): [string, string[]] {
  const mapped = argv.map((word) => {
    if (word.startsWith('/')) return container.root.map(word);
    if (/^https?:\/\//.test(word)) {
      const url = new URL(word);
      const ports = servicePorts[url.hostname];
      if (ports) {
        const hostPort = ports[url.port];
        assert.ok(hostPort, `${word}: no port ${url.port} known for service ${url.hostname}`);
        url.hostname = '127.0.0.1';
        url.port = String(hostPort);
        return url.href;
      }
    }
    return word;
  });
  const [program, ...args] = mapped;
  return [program === 'node' ? process.execPath : program!, args];
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runToEnd(program: string, args: string[], container: Container, timeoutMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: container.root.map('.'), env: container.env });
    started.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: no exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------- the tests

const finalStage = stages.at(-1)!;

test.after(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
  const shown = Object.entries(timings).map(([step, ms]) => `${step}: ${(ms / 1000).toFixed(1)} s`);
  if (shown.length > 0) console.log(`\n  docker-image replay timings: ${shown.join('; ')}`);
});

test('the Dockerfile is what the issue asks for', () => {
  assert.ok(stages.length >= 2, 'multi-stage');
  for (const stage of stages) assert.match(stage.image, /^node:20(-|$)/, `official Node 20 base image: ${stage.image}`);
  assert.is(finalStage.name, null, 'the last stage is the runtime image');
  const runtimeRuns = finalStage.instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.args);
  assert.ok(runtimeRuns.some((run) => /npm ci\b.*--omit=dev/.test(run) && /--ignore-scripts/.test(run)), 'runtime: npm ci --omit=dev --ignore-scripts');
  const copies = finalStage.instructions.filter((instruction) => instruction.keyword === 'COPY');
  assert.ok(copies.some((copy) => copyFrom(copy) !== undefined && /dist/.test(copy.args)), 'runtime copies the compiled output from the build stage');
  assert.not.ok(copies.some((copy) => copyFrom(copy) === undefined && /(^|\s)(src|test)(\s|\/)/.test(copy.args)), 'runtime has no sources or tests');

  const user = last(finalStage, 'USER')?.args;
  assert.ok(user && user !== 'root' && user !== '0', `runs as a non-root user, not ${user}`);
  assert.equal([...(last(finalStage, 'EXPOSE')?.words ?? [])].sort(), ['8080', '8443']);
  const volumes = finalStage.instructions
    .filter((instruction) => instruction.keyword === 'VOLUME')
    .flatMap((instruction) => (instruction.args.startsWith('[') ? execForm(instruction) : instruction.words));
  assert.ok(volumes.includes('/scenarios') && volumes.includes('/certs'), `VOLUME /scenarios /certs: ${volumes}`);
  const env = Object.fromEntries(finalStage.instructions.filter((instruction) => instruction.keyword === 'ENV').flatMap((instruction) => envPairs(instruction)));
  assert.is(env.EM_SCENARIOS, '/scenarios');
  assert.is(env.EM_CERTS, '/certs');

  const healthcheck = last(finalStage, 'HEALTHCHECK');
  assert.ok(healthcheck, 'HEALTHCHECK');
  const check = healthcheckCommand(healthcheck);
  assert.is(check[0], 'node', 'the healthcheck needs no curl');
  assert.is(check.at(-1), 'health');

  const entrypoint = last(finalStage, 'ENTRYPOINT');
  const cmd = last(finalStage, 'CMD');
  assert.ok(cmd, 'CMD');
  const argv = [...(entrypoint ? execForm(entrypoint) : []), ...execForm(cmd)];
  // Exec form, so that node is PID 1 and gets SIGTERM: node itself, or the bin, a shell script
  // that replaces itself with node (exec) on every way out. The heap policy is the serve
  // command's own (src/cli/heap-policy.ts), so it does not depend on node flags in the image.
  if (argv[0] !== 'node') {
    assert.ok(argv[0]!.endsWith('/bin/entitlement-mock'), `ENTRYPOINT/CMD starts with node or the bin: ${argv[0]}`);
    const launcher = readFileSync(path.join(REPO, 'bin/entitlement-mock'), 'utf8').trimEnd().split('\n');
    assert.match(launcher[0]!, /^#!\/bin\/sh$/, 'the bin is a shell script');
    assert.match(launcher.at(-1)!, /^exec node /, 'the bin ends by replacing itself with node');
    assert.equal(launcher.filter((line) => /^\s*(exec )?("\$node"|node) /.test(line)).map((line) => line.trim().split(' ')[0]), ['exec', 'exec'], 'node is started by exec only');
  }
  assert.ok(argv.includes('serve'), 'the default command serves');
});

test('.dockerignore keeps node_modules, certs, tests and build output out of the context', () => {
  for (const excluded of ['node_modules', 'node_modules/koa/package.json', 'certs', 'certs/ca.key', 'test', 'test/docker-image.test.ts', 'dist', '.git'])
    assert.ok(isIgnored(excluded), `${excluded} should be ignored`);
  for (const included of ['package.json', 'package-lock.json', 'src/cli/main.ts', 'bin/entitlement-mock', 'bin/entitlement-mock.js', 'scenarios'])
    assert.not.ok(isIgnored(included), `${included} should be in the context`);
});

test('replay the image build on the host: every stage, RUN npm commands for real', () => {
  const startedAt = performance.now();
  stages.forEach((stage, index) => replayStage(stage, index));
  imageReplayed = true;
  timings['whole image replay'] = performance.now() - startedAt;
  const image = roots.get(finalStage)!;
  assert.ok(existsSync(image.map('dist/cli/main.js')), 'compiled CLI in the runtime image');
  assert.not.ok(existsSync(image.map('node_modules/typescript')), 'no dev dependencies in the runtime image');
  assert.not.ok(existsSync(image.map('src')), 'no sources in the runtime image');
  for (const file of ['bin/entitlement-mock', 'bin/entitlement-mock.js', 'package.json', 'dist/snapshot/entitlement-mock.blob']) assert.ok(existsSync(image.map(file)), file);
  assert.ok(existsSync(image.map(image.env.EM_SCENARIOS ?? '/scenarios')), 'bundled scenarios copied');
  const entry = image.map('bin/entitlement-mock.js');
  accessSync(entry, constants.X_OK);
  const packageVersion = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const version = spawnSync(process.execPath, [entry, '--version'], { cwd: image.map('.'), encoding: 'utf8' });
  assert.is(version.status, 0, version.stderr);
  assert.is(version.stdout.trim(), packageVersion);
  // `entitlement-mock` on the PATH (for `docker compose exec`): through the symlink, the shebang and the exec bit.
  const onPath = image.map('/usr/local/bin/entitlement-mock');
  if (existsSync(onPath)) {
    const viaPath = spawnSync(onPath, ['--version'], { cwd: '/', encoding: 'utf8' });
    assert.is(viaPath.status, 0, viaPath.stderr);
    assert.is(viaPath.stdout.trim(), packageVersion);
  }
});

test('the compose rig on the host: certs init, mock healthy, license server healthy, a license granted through the loop, SIGTERM exits 0', async () => {
  const image = roots.get(finalStage);
  assert.ok(image && imageReplayed, 'the image replay completed');
  const entrypoint = last(finalStage, 'ENTRYPOINT');
  const imageEntrypoint = entrypoint ? execForm(entrypoint) : [];
  const imageCmd = execForm(last(finalStage, 'CMD')!);
  // As compose does: a service's entrypoint replaces the image's, and then the image's CMD is dropped too.
  const argvOf = (serviceName: string) => {
    const { entrypoint, command } = compose.services[serviceName]!;
    return [...(entrypoint ?? imageEntrypoint), ...(command ?? (entrypoint ? [] : imageCmd))];
  };

  const mockName = mockServiceName();
  const mockService = compose.services[mockName]!;
  const initNames = Object.keys(mockService.depends_on ?? {}).filter(
    (name) => mockService.depends_on![name]!.condition === 'service_completed_successfully',
  );
  const licenseServerNames = dependents(mockName, 'service_healthy');
  assert.ok(initNames.length > 0, 'an init service the mock waits for');
  assert.ok(licenseServerNames.length > 0, 'a license server waiting for the mock to be healthy');

  // Free loopback ports in place of the container ports.
  const port = await freePort();
  const adminPort = await freePort();
  // The trouble listeners and the CRL listener: N..N+5.
  const troublePort = await freePortBlock(6);
  const overrides = {
    EM_HOST: '127.0.0.1',
    EM_ADMIN_HOST: '127.0.0.1',
    EM_PORT: String(port),
    EM_ADMIN_PORT: String(adminPort),
    ...(mockService.environment?.EM_TROUBLE_PORT !== undefined ? { EM_TROUBLE_PORT: String(troublePort) } : {}),
  };
  const containerTrouble = Number(mockService.environment?.EM_TROUBLE_PORT ?? 0);
  const servicePorts: Record<string, Record<string, number>> = {
    [mockName]: {
      '8443': port,
      '8080': adminPort,
      ...Object.fromEntries([0, 1, 2, 3, 4, 5].map((offset) => [String(containerTrouble + offset), troublePort + offset])),
    },
  };

  // 1. init services run to completion, successfully.
  for (const name of initNames) {
    const container = containerFor(image, name);
    const [program, args] = hostArgv(container, argvOf(name), servicePorts);
    const startedAt = performance.now();
    const result = await runToEnd(program, args, container, 30_000);
    timings[`${name} service`] = performance.now() - startedAt;
    assert.is(result.code, 0, `${name}: ${result.stdout}\n${result.stderr}`);
  }

  // 2. the mock, exactly as the image's ENTRYPOINT/CMD with the compose environment.
  const mockContainer = containerFor(image, mockName, overrides);
  const healthchecks: string[][] = [healthcheckCommand(last(finalStage, 'HEALTHCHECK')!)];
  const composeHealth = mockService.healthcheck?.test;
  if (Array.isArray(composeHealth)) {
    assert.is(composeHealth[0], 'CMD', 'compose healthcheck in exec form');
    healthchecks.push(composeHealth.slice(1));
  }
  const runHealthcheck = (argv: string[]) => {
    const [program, args] = hostArgv(mockContainer, argv, servicePorts);
    return runToEnd(program, args, mockContainer, 10_000);
  };
  for (const argv of healthchecks) assert.is((await runHealthcheck(argv)).code, 1, 'unhealthy before the mock starts');

  const [mockProgram, mockArgs] = hostArgv(mockContainer, argvOf(mockName), servicePorts);
  const startedAt = performance.now();
  const mock = spawn(mockProgram, mockArgs, { cwd: mockContainer.root.map('.'), env: mockContainer.env });
  started.push(mock);
  let mockOutput = '';
  mock.stderr.on('data', (chunk) => (mockOutput += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    mock.on('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the mock did not log "listening" within 20 s:\n${mockOutput}`)), 20_000);
    mock.stdout.on('data', (chunk) => {
      mockOutput += chunk;
      if (/listening on/.test(mockOutput)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the mock exited with ${code} before listening:\n${mockOutput}`));
    });
  });
  timings['mock start to listening'] = performance.now() - startedAt;

  // 3. healthy, by the image's HEALTHCHECK and the compose healthcheck (docker retries a few times; so do we).
  for (const argv of healthchecks) {
    let result = await runHealthcheck(argv);
    for (let retry = 0; retry < 5 && result.code !== 0; retry++) result = await runHealthcheck(argv);
    assert.is(result.code, 0, `healthcheck ${argv.join(' ')}: ${result.stdout}${result.stderr}`);
  }
  // The process serving is node itself (PID 1 in the container); it sets its heap policy itself (src/cli/heap-policy.ts).
  const cmdline = readFileSync(`/proc/${mock.pid}/cmdline`, 'utf8').split('\0');
  assert.match(path.basename(cmdline[0]!), /^node/, `the mock process is node: ${cmdline.join(' ')}`);
  const certsDir = mockContainer.env.EM_CERTS;
  assert.ok(certsDir, 'EM_CERTS is set in the image');
  const sans = new X509Certificate(readFileSync(path.join(certsDir, 'server.crt'))).subjectAltName ?? '';
  assert.match(sans, 'DNS:entitlement-mock', 'the server certificate is valid for the compose service name');

  // 4. the license server (the reference one, waiting for the mock) starts and gets healthy by its
  //    compose healthcheck; its license client (waiting for it) is granted a license through the
  //    whole loop, and refused when the license server is pointed at the "expired" trouble listener.
  const licenseServers: { name: string; process: ChildProcess; exited: Promise<number | null>; output: () => string }[] = [];
  for (const name of licenseServerNames) {
    const service = compose.services[name]!;
    assert.ok(service.environment?.PORT !== undefined, `${name}: PORT in its environment (the port its clients ask on)`);
    const hostPort = await freePort();
    servicePorts[name] = { [String(service.environment!.PORT)]: hostPort };
    const container = containerFor(image, name, { HOST: '127.0.0.1', PORT: String(hostPort) });
    // Environment values naming a compose service's URL point at the host's ports, as argv words do.
    for (const [variable, value] of Object.entries(container.env)) if (/^https?:\/\//.test(value)) container.env[variable] = hostArgv(container, ['-', value], servicePorts)[1][0]!;
    const [program, args] = hostArgv(container, argvOf(name), servicePorts);
    const child = spawn(program, args, { cwd: container.root.map('.'), env: container.env });
    started.push(child);
    let output = '';
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    licenseServers.push({ name, process: child, exited, output: () => output });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not log "listening" within 20 s:\n${output}`)), 20_000);
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (/listening on/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before listening:\n${output}`));
      });
    });
    const health = service.healthcheck?.test;
    assert.ok(Array.isArray(health) && health[0] === 'CMD', `${name}: a healthcheck in exec form (its clients wait for it)`);
    const healthArgv = hostArgv(container, (health as string[]).slice(1).map((word) => word.replace(`:${service.environment!.PORT}/`, `:${hostPort}/`)), servicePorts);
    const healthy = await runToEnd(healthArgv[0], healthArgv[1], container, 10_000);
    assert.is(healthy.code, 0, `${name} healthy:\n${healthy.stdout}${healthy.stderr}\n${output}`);

    for (const clientName of dependents(name, 'service_healthy')) {
      const client = containerFor(image, clientName);
      for (const [variable, value] of Object.entries(client.env)) if (/^https?:\/\//.test(value)) client.env[variable] = hostArgv(client, ['-', value], servicePorts)[1][0]!;
      const [clientProgram, clientArgs] = hostArgv(client, argvOf(clientName), servicePorts);
      const requestStartedAt = performance.now();
      const result = await runToEnd(clientProgram, clientArgs, client, 30_000);
      timings[`${clientName} service`] = performance.now() - requestStartedAt;
      assert.is(result.code, 0, `${clientName}: ${result.stdout}\n${result.stderr}\n${name}: ${output}`);
      assert.match(result.stdout, /^200 \{"license":"granted","epTokenURL":"https:\/\//m);
      const contentID = /"contentID":"([^"]+)"/.exec(result.stdout)?.[1];
      assert.ok(contentID, `${clientName} printed the license request it sent`);
      const journal = (await (await fetch(`http://127.0.0.1:${adminPort}/admin/requests?contentID=${contentID}`)).json()) as { requests: any[] };
      assert.is(journal.requests.length, 1, 'the journal shows the Entitlement Request');
      const [entry] = journal.requests;
      assert.is(entry.clientCN, 'license-server');
      assert.is(entry.listener, 'main');
      assert.is(entry.request.version, 1);
      assert.is(entry.response.status, 200);

      if (containerTrouble > 0) {
        const troubleUrl = `https://${mockName}:${containerTrouble}/entitlement`;
        const [troubleProgram, troubleArgv] = hostArgv(client, [...argvOf(clientName), '--entitlement-url', troubleUrl], servicePorts);
        const refused = await runToEnd(troubleProgram, troubleArgv, client, 30_000);
        assert.is(refused.code, 1, refused.stdout);
        assert.match(refused.stdout, /^502 \{"license":"refused".*CERT_HAS_EXPIRED/m);
      }
    }
  }

  // 5. docker stop: SIGTERM to node, exit 0 within 5 s.
  for (const licenseServer of licenseServers) {
    licenseServer.process.kill('SIGTERM');
    assert.is(await licenseServer.exited, 0, `${licenseServer.name} stops on SIGTERM:\n${licenseServer.output()}`);
  }
  const stopAt = performance.now();
  mock.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  const outcome = await Promise.race([exited, timeout]);
  timings['SIGTERM to exit'] = performance.now() - stopAt;
  assert.ok(outcome !== 'timeout', `no exit within 5 s of SIGTERM:\n${mockOutput}`);
  assert.equal(outcome, { code: 0, signal: null }, mockOutput);
});

// `docker-compose config` is run by .ci/run (which installs Debian's docker-compose), not here:
// a fresh machine without it must still pass `npm test`, and no test may skip itself.

test.run();
