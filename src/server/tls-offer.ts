/**
 * What TLS the entitlement and trouble listeners offer: the range of versions and the cipher
 * suites (--tls-min-version, --tls-max-version, --ciphers, --tls13-ciphers), so that the mock
 * can look like a license server's production entitlement service. Checked once, at start,
 * against the OpenSSL this Node runs on: a typo must not turn into handshakes that all fail.
 */
import tls from 'node:tls';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = Object.freeze(['TLSv1.2', 'TLSv1.3']);

/** The MockOptions fields this module reads. */
export interface TlsOfferOptions {
  tlsMinVersion: TlsVersion;
  tlsMaxVersion: TlsVersion;
  /** TLS 1.2 cipher suites as an OpenSSL cipher list (`ECDHE-ECDSA-AES128-GCM-SHA256:…`, `HIGH:!aNULL`); null: Node's default. */
  ciphers: string | null;
  /** TLS 1.3 cipher suites, colon-separated (`TLS_AES_128_GCM_SHA256:…`); null: Node's default. */
  tls13Ciphers: string | null;
}

/** The listener options for node:tls / node:https. */
export interface TlsOffer {
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** Both lists in the one string Node takes (it sends the entries starting `TLS_` to TLS 1.3); undefined: Node's default. */
  ciphers: string | undefined;
}

export const DEFAULT_TLS_OFFER: TlsOffer = Object.freeze({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: undefined });

const SUBJECTS: Record<keyof TlsOfferOptions, string> = {
  tlsMinVersion: 'the lowest TLS version offered',
  tlsMaxVersion: 'the highest TLS version offered',
  ciphers: 'the TLS 1.2 cipher list',
  tls13Ciphers: 'the TLS 1.3 cipher suites',
};

/** A TLS option this OpenSSL cannot honour: `problem` reads after the option's name, `message` stands alone. */
export class TlsOptionError extends Error {
  constructor(
    readonly option: keyof TlsOfferOptions,
    readonly problem: string,
  ) {
    super(`${SUBJECTS[option]}: ${problem}`);
    this.name = 'TlsOptionError';
  }
}

/** The offer for these options; throws a TlsOptionError naming the first option at fault. */
export function tlsOffer(options: TlsOfferOptions): TlsOffer {
  const minVersion = checkVersion('tlsMinVersion', options.tlsMinVersion);
  const maxVersion = checkVersion('tlsMaxVersion', options.tlsMaxVersion);
  if (TLS_VERSIONS.indexOf(minVersion) > TLS_VERSIONS.indexOf(maxVersion))
    throw new TlsOptionError('tlsMinVersion', `${minVersion} is above the highest version offered, ${maxVersion}`);
  const tls12 = options.ciphers === null ? null : checkTls12List(options.ciphers);
  const tls13 = options.tls13Ciphers === null ? null : checkTls13Suites(options.tls13Ciphers);
  if (tls12 === null && tls13 === null) return { minVersion, maxVersion, ciphers: undefined };
  const defaults = entries(tls.DEFAULT_CIPHERS);
  const ciphers = [
    ...(tls13 ?? defaults.filter(isTls13Suite)),
    ...(tls12 ?? defaults.filter((entry) => !isTls13Suite(entry))),
  ].join(':');
  return { minVersion, maxVersion, ciphers };
}

function checkVersion(option: 'tlsMinVersion' | 'tlsMaxVersion', value: string): TlsVersion {
  if (!(TLS_VERSIONS as readonly string[]).includes(value))
    throw new TlsOptionError(option, `expected one of ${TLS_VERSIONS.join(', ')}, got "${value}"`);
  return value as TlsVersion;
}

/** An OpenSSL cipher list (for TLS 1.2): every suite or keyword it names must match something, and so must the whole. */
function checkTls12List(list: string): string[] {
  const named = entries(list);
  if (named.length === 0) throw new TlsOptionError('ciphers', 'names no cipher suite');
  const misplaced = named.find(isTls13Suite);
  if (misplaced !== undefined)
    throw new TlsOptionError('ciphers', `"${misplaced}" is a TLS 1.3 suite: TLS 1.3 suites have a list of their own`);
  // OpenSSL skips a name it does not know as long as another one matches: check them one by one.
  // Entries starting !, -, + or @ remove, reorder or set a level; they match nothing on their own.
  for (const entry of named.filter((candidate) => !/^[!+@-]/.test(candidate))) {
    if (!opensslAccepts(entry)) throw new TlsOptionError('ciphers', `"${entry}" matches no TLS 1.2 cipher suite this OpenSSL (${process.versions.openssl}) offers`);
  }
  if (!opensslAccepts(named.join(':'))) throw new TlsOptionError('ciphers', `"${list}" leaves no cipher suite to offer`);
  return named;
}

/** TLS 1.3 suite names, each one this OpenSSL knows (it would skip an unknown one without a word). */
function checkTls13Suites(list: string): string[] {
  const named = entries(list).map((entry) => entry.toUpperCase());
  if (named.length === 0) throw new TlsOptionError('tls13Ciphers', 'names no cipher suite');
  const known = tls.getCiphers().filter((name) => name.startsWith('tls_')).map((name) => name.toUpperCase());
  const unknown = named.find((entry) => !known.includes(entry));
  if (unknown !== undefined)
    throw new TlsOptionError('tls13Ciphers', `"${unknown}" is not a TLS 1.3 cipher suite (this OpenSSL knows ${known.join(', ')})`);
  return named;
}

function opensslAccepts(tls12List: string): boolean {
  try {
    tls.createSecureContext({ ciphers: tls12List });
    return true;
  } catch {
    return false;
  }
}

/** OpenSSL separates entries with colons, commas or spaces. */
function entries(list: string): string[] {
  return list.split(/[:, ]+/).filter((entry) => entry !== '');
}

function isTls13Suite(entry: string): boolean {
  return /^TLS_/i.test(entry);
}
