/** `entitlement-mock [serve|certs|validate|health|request] …`: dispatch to one file per subcommand. */
import { version } from '../version.js';

export { version };

type Subcommand = (args: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, () => Promise<Subcommand>> = {
  serve: async () => (await import('./serve.js')).run,
  record: async () => (await import('./record.js')).run,
  certs: async () => (await import('./certs.js')).run,
  validate: async () => (await import('./validate.js')).run,
  health: async () => (await import('./health.js')).run,
  request: async () => (await import('./request.js')).run,
  report: async () => (await import('./report.js')).run,
  conformance: async () => (await import('./conformance.js')).run,
};

export const USAGE = `Usage: entitlement-mock [command] [options]

Commands:
  serve [options]          run the mock (the default command)
  record --upstream URL --upstream-cert FILE --upstream-key FILE [options]
                           forward to a real entitlement service and record a scenario
  certs [--out DIR] [--san NAME]... [--key-type ec|rsa]
                           generate the development PKI
  certs --client NAME [--expired|--not-yet-valid|--untrusted|--wrong-usage]
                           one more client certificate, good or refused
  validate PATH...         check scenario files
  health [--url URL]       exit 0 when the admin /health answers ok
  request [options]        send one Entitlement Request and check the answer
  report [--admin-url URL] [--fail-on warn|error]
                           what the license server under test did wrong
  conformance start|report|end [options]
                           grade how the license server acts on the answers

Run "entitlement-mock <command> --help" for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const named = first !== undefined && !first.startsWith('-');
  const name = named ? first : 'serve';
  const load = SUBCOMMANDS[name];
  if (!load) {
    process.stderr.write(`entitlement-mock: unknown command "${name}"\n${USAGE}\n`);
    return 2;
  }
  const run = await load();
  return run(named ? rest : argv);
}
