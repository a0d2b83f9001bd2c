/**
 * `entitlement-mock certs [--out DIR] [--san NAME…] [--key-type ec|rsa]`:
 * generates the development PKI explicitly (e.g. in an init container that
 * shares it with the license server). Existing files are kept.
 *
 * `entitlement-mock certs --client NAME [--expired | --not-yet-valid | --untrusted | --wrong-usage]`:
 * one more client certificate, good or one the mock refuses for that reason.
 */
import { generateDevPki } from '../pki/generate.js';
import { BAD_CLIENT_KINDS, CLIENT_NAME, issueClientCertificate, REFUSAL_CODES, type BadClientKind } from '../pki/client-certificate.js';
import { KEY_TYPES, type KeyType } from '../pki/issue.js';
import { parseSan, splitSanList } from '../pki/san.js';
import { refusalReason } from '../server/client-identity.js';
import { parseFlags, UsageError } from './args.js';

export const CERTS_USAGE = `Usage: entitlement-mock certs [--out DIR] [--san NAME...] [--key-type ec|rsa]
       entitlement-mock certs --client NAME [--expired | --not-yet-valid | --untrusted | --wrong-usage]
                              [--certs DIR] [--out DIR] [--key-type ec|rsa]

Generates a development PKI: ca.crt/ca.key, server.crt/server.key,
client.crt/client.key (CN license-server). Existing files are never overwritten.

  --out DIR          folder to write into (env EM_CERTS, default ./certs)
  --san NAME         extra DNS name or IP address for the server certificate;
                     repeatable and comma-separated (env EM_SAN)
  --key-type ec|rsa  ec = ECDSA P-256 (default), rsa = RSA-2048 (env EM_KEY_TYPE)
  -h, --help         show this help

With --client NAME, writes one more client certificate, DIR/NAME.crt and
DIR/NAME.key (CN NAME), signed by the CA of the mock's certs folder. Without
a kind it is a good one; with a kind the mock refuses it, for that reason
(GET /admin/tls-failures), to see how a license server reports it:
  --expired          it expired yesterday: "${refusalReason(REFUSAL_CODES.expired)}"
  --not-yet-valid    valid only from 30 days on: "${refusalReason(REFUSAL_CODES['not-yet-valid'])}"
  --untrusted        a fresh CA signed it, not the mock's: "${refusalReason(REFUSAL_CODES.untrusted)}"
  --wrong-usage      extendedKeyUsage serverAuth only: "${refusalReason(REFUSAL_CODES['wrong-usage'])}"
  --certs DIR        the mock's certs folder, whose ca.crt/ca.key sign
                     (default: the --out folder; a PKI is generated there
                     when it has none)`;

type CertsCommand =
  | { kind: 'pki'; outDir: string; sans: string[]; keyType: KeyType }
  | { kind: 'client'; name: string; bad: BadClientKind | null; outDir: string; caDir: string; keyType: KeyType }
  | { kind: 'help' };

export async function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let command: CertsCommand;
  try {
    command = parseOptions(args, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`entitlement-mock certs: ${error.message} (see entitlement-mock certs --help)`);
    return 2;
  }
  try {
    switch (command.kind) {
      case 'help':
        console.log(CERTS_USAGE);
        return 0;
      case 'pki': {
        const result = await generateDevPki(command);
        for (const path of result.written) console.log(`wrote ${path}`);
        for (const path of result.kept) console.log(`kept  ${path} (exists; not overwritten)`);
        for (const warning of result.warnings) console.error(`warning: ${warning}`);
        console.log('The license server needs client.crt, client.key and ca.crt from this folder.');
        return 0;
      }
      case 'client': {
        const result = await issueClientCertificate({ name: command.name, kind: command.bad, outDir: command.outDir, caDir: command.caDir, keyType: command.keyType });
        for (const path of result.written) console.log(`wrote ${path}`);
        console.log(
          command.bad === null
            ? `A client certificate with CN ${command.name} that the mock accepts: ${result.certPath} with ${result.keyPath}.`
            : `A client certificate the mock refuses as "${refusalReason(REFUSAL_CODES[command.bad])}": ${result.certPath} with ${result.keyPath}.`,
        );
        return 0;
      }
    }
  } catch (error) {
    console.error(`entitlement-mock certs: ${(error as Error).message}`);
    return 1;
  }
}

function parseOptions(args: string[], env: NodeJS.ProcessEnv): CertsCommand {
  const values = parseFlags(args, {
    out: { type: 'string' },
    san: { type: 'string', multiple: true },
    'key-type': { type: 'string' },
    client: { type: 'string' },
    certs: { type: 'string' },
    expired: { type: 'boolean' },
    'not-yet-valid': { type: 'boolean' },
    untrusted: { type: 'boolean' },
    'wrong-usage': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return { kind: 'help' };

  const outDir = values.out ?? nonEmpty(env.EM_CERTS) ?? './certs';
  if (outDir.trim() === '') throw new UsageError(values.out !== undefined ? '--out: needs a folder' : 'EM_CERTS: needs a folder');

  const keyTypeSource = values['key-type'] !== undefined ? '--key-type' : 'EM_KEY_TYPE';
  const keyType = values['key-type'] ?? nonEmpty(env.EM_KEY_TYPE) ?? 'ec';
  if (!(KEY_TYPES as readonly string[]).includes(keyType)) {
    throw new UsageError(`${keyTypeSource}: "${keyType}" is not one of ${KEY_TYPES.join(', ')}`);
  }

  const kinds = BAD_CLIENT_KINDS.filter((kind) => values[kind] === true);
  if (values.client !== undefined || kinds.length > 0 || values.certs !== undefined) {
    const name = values.client;
    if (name === undefined) throw new UsageError(`--${kinds[0] ?? 'certs'}: only with --client NAME`);
    if (!CLIENT_NAME.test(name))
      throw new UsageError(`--client: "${name}" is not a usable name (letters, digits, '.', '_' and '-', up to 64; it names the files and the CN)`);
    if (kinds.length > 1) throw new UsageError(`--${kinds[0]} and --${kinds[1]}: choose one kind of refused certificate`);
    if (values.san !== undefined) throw new UsageError('--san: names the server certificate, not a --client one');
    if (values.certs !== undefined && values.certs.trim() === '') throw new UsageError('--certs: needs a folder');
    return { kind: 'client', name, bad: kinds[0] ?? null, outDir, caDir: values.certs ?? outDir, keyType: keyType as KeyType };
  }

  const sanSource = values.san !== undefined ? '--san' : 'EM_SAN';
  const sans = splitSanList(values.san ?? (env.EM_SAN ? [env.EM_SAN] : []));
  for (const san of sans) {
    try {
      parseSan(san);
    } catch (error) {
      throw new UsageError(`${sanSource}: ${(error as Error).message}`);
    }
  }
  return { kind: 'pki', outDir, sans, keyType: keyType as KeyType };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
