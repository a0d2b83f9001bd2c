/**
 * `entitlement-mock certs [--out DIR] [--san NAME…] [--key-type ec|rsa]`:
 * generates the development PKI explicitly (e.g. in an init container that
 * shares it with the license server). Existing files are kept.
 */
import { generateDevPki } from '../pki/generate.js';
import { KEY_TYPES, type KeyType } from '../pki/issue.js';
import { parseSan, splitSanList } from '../pki/san.js';
import { parseFlags, UsageError } from './args.js';

export const CERTS_USAGE = `Usage: entitlement-mock certs [--out DIR] [--san NAME...] [--key-type ec|rsa]

Generates a development PKI: ca.crt/ca.key, server.crt/server.key,
client.crt/client.key (CN license-server). Existing files are never overwritten.

  --out DIR          folder to write into (env EM_CERTS, default ./certs)
  --san NAME         extra DNS name or IP address for the server certificate;
                     repeatable and comma-separated (env EM_SAN)
  --key-type ec|rsa  ec = ECDSA P-256 (default), rsa = RSA-2048 (env EM_KEY_TYPE)
  -h, --help         show this help`;

export async function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options: { outDir: string; sans: string[]; keyType: KeyType } | 'help';
  try {
    options = parseOptions(args, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`entitlement-mock certs: ${error.message} (see entitlement-mock certs --help)`);
    return 2;
  }
  if (options === 'help') {
    console.log(CERTS_USAGE);
    return 0;
  }
  try {
    const result = await generateDevPki(options);
    for (const path of result.written) console.log(`wrote ${path}`);
    for (const path of result.kept) console.log(`kept  ${path} (exists; not overwritten)`);
    for (const warning of result.warnings) console.error(`warning: ${warning}`);
    console.log('The license server needs client.crt, client.key and ca.crt from this folder.');
    return 0;
  } catch (error) {
    console.error(`entitlement-mock certs: ${(error as Error).message}`);
    return 1;
  }
}

function parseOptions(args: string[], env: NodeJS.ProcessEnv): { outDir: string; sans: string[]; keyType: KeyType } | 'help' {
  const values = parseFlags(args, {
    out: { type: 'string' },
    san: { type: 'string', multiple: true },
    'key-type': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';

  const outDir = values.out ?? nonEmpty(env.EM_CERTS) ?? './certs';
  if (outDir.trim() === '') throw new UsageError(values.out !== undefined ? '--out: needs a folder' : 'EM_CERTS: needs a folder');

  const sanSource = values.san !== undefined ? '--san' : 'EM_SAN';
  const sans = splitSanList(values.san ?? (env.EM_SAN ? [env.EM_SAN] : []));
  for (const san of sans) {
    try {
      parseSan(san);
    } catch (error) {
      throw new UsageError(`${sanSource}: ${(error as Error).message}`);
    }
  }

  const keyTypeSource = values['key-type'] !== undefined ? '--key-type' : 'EM_KEY_TYPE';
  const keyType = values['key-type'] ?? nonEmpty(env.EM_KEY_TYPE) ?? 'ec';
  if (!(KEY_TYPES as readonly string[]).includes(keyType)) {
    throw new UsageError(`${keyTypeSource}: "${keyType}" is not one of ${KEY_TYPES.join(', ')}`);
  }
  return { outDir, sans, keyType: keyType as KeyType };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
