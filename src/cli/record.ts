/**
 * `entitlement-mock record --upstream URL --upstream-cert FILE --upstream-key FILE [options] [serve options]`:
 * run the mock as an mTLS proxy in front of a real entitlement service and record its answers
 * as a scenario, written at stop (SIGTERM/SIGINT) and on POST /admin/recording/snapshot.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './args.js';
import { booleanEnv, durationOption, optionsHelp, parseServeOptions, serveHelp, UsageError, type OptionSpec } from './serve-options.js';
import { runUntilSignal } from './serve.js';
import type { MockOptions } from '../server/options.js';
import type { RecordOptions } from '../record/recording.js';

export const RECORD_OPTIONS = {
  upstream: { env: 'EM_UPSTREAM', type: 'string', help: "the real service's entitlement URL (https://…); required" },
  'upstream-cert': { env: 'EM_UPSTREAM_CERT', type: 'string', help: 'client certificate (PEM) presented to the service; required' },
  'upstream-key': { env: 'EM_UPSTREAM_KEY', type: 'string', help: 'its private key (PEM); required' },
  'upstream-ca': { env: 'EM_UPSTREAM_CA', type: 'string', help: "CA bundle (PEM) for the service's certificate (default: system CAs)" },
  'upstream-timeout': { env: 'EM_UPSTREAM_TIMEOUT', type: 'string', help: 'time limit per forwarded request (10s; 500ms)' },
  out: { env: 'EM_RECORD_OUT', type: 'string', help: 'scenario file to write (default: recorded-<time>.yaml here)' },
  overwrite: { env: 'EM_RECORD_OVERWRITE', type: 'boolean', help: 'replace --out if it exists (else refuse to start)' },
  'record-failures': { env: 'EM_RECORD_FAILURES', type: 'boolean', help: 'record upstream failures (the 502 answers) as rules too' },
  'match-cookie': { env: 'EM_RECORD_MATCH_COOKIE', type: 'boolean', help: 'one rule per customerCookie as well' },
  'template-tokens': { env: 'EM_RECORD_TEMPLATE_TOKENS', type: 'boolean', help: 'write epTokenURL tokens as {{token}} (fresh per answer)' },
} as const satisfies Record<string, OptionSpec>;

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;

/** The scenarios bundled with the package: served by nobody in record mode, but the mock needs a valid set. */
const BUNDLED_SCENARIOS = fileURLToPath(new URL('../../scenarios', import.meta.url));

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      'Usage: entitlement-mock record --upstream URL --upstream-cert FILE --upstream-key FILE [options]\n\n' +
        'Forward every Entitlement Request to a real entitlement service over mTLS, pass its answers back,\n' +
        'and write what it answered as a scenario at stop (SIGTERM/SIGINT) or on POST /admin/recording/snapshot.\n\n' +
        `Record options (and environment variables):\n${optionsHelp(RECORD_OPTIONS)}\n\nServe options:\n${serveHelp()}\n`,
    );
    return 0;
  }
  let options: MockOptions;
  try {
    options = parseRecordCommand(args, process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`entitlement-mock record: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  return runUntilSignal(options);
}

/** Serve options with `record` filled in; files are read (and checked) here, so a bad one is a usage error. */
export function parseRecordCommand(args: string[], env: NodeJS.ProcessEnv, now = new Date()): MockOptions {
  const { recordArgs, serveArgs } = splitArgs(args);
  const values = parseFlags(recordArgs, Object.fromEntries(Object.entries(RECORD_OPTIONS).map(([name, spec]) => [name, { type: spec.type }])));
  const raw = (name: keyof typeof RECORD_OPTIONS): string | undefined => {
    const value = values[name];
    if (typeof value === 'string') return value;
    const fromEnv = env[RECORD_OPTIONS[name].env];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const flag = (name: keyof typeof RECORD_OPTIONS) =>
    values[name] === true || booleanEnv(RECORD_OPTIONS[name].env, env[RECORD_OPTIONS[name].env], false);
  const required = (name: keyof typeof RECORD_OPTIONS): string => {
    const value = raw(name);
    if (value === undefined) throw new UsageError(`--${name} is required (or ${RECORD_OPTIONS[name].env})`);
    return value;
  };

  const url = upstreamUrl(required('upstream'));
  const certPem = readPem('upstream-cert', required('upstream-cert'));
  const keyPem = readPem('upstream-key', required('upstream-key'));
  const caFile = raw('upstream-ca');
  const caPem = caFile === undefined ? null : readPem('upstream-ca', caFile);
  try {
    createSecureContext({ cert: certPem, key: keyPem, ...(caPem === null ? {} : { ca: caPem }) });
  } catch (error) {
    throw new UsageError(`--upstream-cert/--upstream-key/--upstream-ca: not usable for TLS: ${(error as Error).message}`);
  }

  const record: RecordOptions = {
    upstream: { url, certPem, keyPem, caPem, timeoutMs: durationOption('upstream-timeout', raw('upstream-timeout'), DEFAULT_UPSTREAM_TIMEOUT_MS) },
    out: raw('out') ?? `recorded-${now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.yaml`,
    overwrite: flag('overwrite'),
    recordFailures: flag('record-failures'),
    matchCookie: flag('match-cookie'),
    templateTokens: flag('template-tokens'),
  };
  if (!/\.ya?ml$/i.test(record.out)) throw new UsageError(`--out: expected a .yaml or .yml file name, got "${record.out}"`);

  const serve = parseServeOptions(serveArgs, env);
  const scenariosGiven = serveArgs.some((arg) => arg === '--scenarios' || arg.startsWith('--scenarios=')) || Boolean(env.EM_SCENARIOS);
  return { ...serve, ...(scenariosGiven ? {} : { scenarios: BUNDLED_SCENARIOS }), record };
}

/** Record options (with their values) apart from everything else, which goes to the serve parser. */
function splitArgs(args: string[]): { recordArgs: string[]; serveArgs: string[] } {
  const recordArgs: string[] = [];
  const serveArgs: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0]! : '';
    if (!Object.hasOwn(RECORD_OPTIONS, name)) {
      serveArgs.push(arg);
      continue;
    }
    recordArgs.push(arg);
    const takesValue = RECORD_OPTIONS[name as keyof typeof RECORD_OPTIONS].type === 'string' && !arg.includes('=');
    if (takesValue && index + 1 < args.length) recordArgs.push(args[++index] as string);
  }
  return { recordArgs, serveArgs };
}

function upstreamUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--upstream: expected an https:// URL, got "${text}"`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`--upstream: expected an https:// URL (the service is reached over mTLS), got "${text}"`);
  return url;
}

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--${option}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
