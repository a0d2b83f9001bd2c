/**
 * Subject alternative names: each entry is an IP address or a DNS name,
 * decided per entry, the way a user typing `--san` expects.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export type SubjectAltName = { type: 'ip'; value: string } | { type: 'dns'; value: string };

/** Names every generated server certificate carries, before the user's --san entries. */
export const LOCAL_SANS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const DNS_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/i;

/** Parses one --san entry; throws an Error explaining why it is neither a DNS name nor an IP address. */
export function parseSan(entry: string): SubjectAltName {
  const text = entry.trim();
  const unbracketed = /^\[(.*)\]$/.exec(text)?.[1] ?? text;
  if (isIP(unbracketed) === 4) return { type: 'ip', value: unbracketed };
  if (isIP(unbracketed) === 6) return { type: 'ip', value: expandIpv6(unbracketed) };
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = name.split('.');
  const wildcard = labels[0] === '*' && labels.length > 1;
  const checked = wildcard ? labels.slice(1) : labels;
  if (name.length === 0 || name.length > 253 || !checked.every((label) => DNS_LABEL.test(label))) {
    throw new Error(`"${entry}" is neither a DNS name nor an IP address`);
  }
  return { type: 'dns', value: name.toLowerCase() };
}

/**
 * The server certificate's names: localhost, 127.0.0.1, ::1, this host's
 * name (when it is a usable DNS name) and every extra entry, without duplicates.
 * Throws on an extra entry that is neither a DNS name nor an IP address.
 */
export function serverSans(extra: readonly string[] = []): SubjectAltName[] {
  const names: SubjectAltName[] = LOCAL_SANS.map((entry) => parseSan(entry));
  const host = tryParseSan(hostname());
  if (host) names.push(host);
  for (const entry of extra) names.push(parseSan(entry));
  return dedupe(names);
}

/** Splits repeated and comma-separated --san values into entries, dropping empty ones. */
export function splitSanList(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(',')).map((entry) => entry.trim()).filter((entry) => entry !== '');
}

function tryParseSan(entry: string): SubjectAltName | null {
  try {
    return parseSan(entry);
  } catch {
    return null;
  }
}

function dedupe(names: SubjectAltName[]): SubjectAltName[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = `${name.type}:${name.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Eight hex groups, embedded IPv4 (::ffff:1.2.3.4) converted, so the X.509 encoder accepts every form Node does. */
function expandIpv6(address: string): string {
  let text = address.toLowerCase();
  const ipv4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, ipv4Tail.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const zeros = right === undefined ? [] : Array<string>(8 - head.length - tail.length).fill('0');
  return [...head, ...zeros, ...tail].map((group) => parseInt(group, 16).toString(16)).join(':');
}
