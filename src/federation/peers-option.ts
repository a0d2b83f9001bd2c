/**
 * `--peers`: the other replicas whose journals this replica's admin API also answers for.
 * Either a comma list of admin URLs (`http://mock-1:8080,http://mock-2:8080`), or one host
 * name, with an optional port (default: this replica's --admin-port), that resolves to every
 * replica, as a Kubernetes headless Service does (`entitlement-mock-peers:8080`); the name is
 * resolved again for every question, so replicas that come and go are followed.
 */
export type PeersOption = { kind: 'urls'; urls: string[] } | { kind: 'dns'; host: string; port: number };

export class PeersOptionError extends Error {}

const EXPECTED = 'expected admin URLs separated by commas (http://mock-1:8080,http://mock-2:8080) or one host name that resolves to every replica (entitlement-mock-peers:8080)';

export function parsePeers(text: string, adminPort: number): PeersOption {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new PeersOptionError(`--peers is empty: ${EXPECTED}`);
  if (items.some((item) => item.includes('://'))) {
    const urls = items.map((item) => {
      let url: URL;
      try {
        url = new URL(item);
      } catch {
        throw new PeersOptionError(`--peers: "${item}" is not a URL: ${EXPECTED}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PeersOptionError(`--peers: "${item}" must be an http:// or https:// admin URL`);
      if (url.pathname !== '/' || url.search !== '') throw new PeersOptionError(`--peers: "${item}" must be the admin URL itself, without a path`);
      return url.origin;
    });
    return { kind: 'urls', urls: [...new Set(urls)] };
  }
  if (items.length > 1) throw new PeersOptionError(`--peers: "${text}" lists several host names without http://: ${EXPECTED}`);
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(items[0]!);
  if (match === null) throw new PeersOptionError(`--peers: "${items[0]}" is not a host name: ${EXPECTED}`);
  const port = match[2] === undefined ? adminPort : Number(match[2]);
  if (port < 1 || port > 65535) throw new PeersOptionError(`--peers: port ${match[2] ?? port} is not a port from 1 to 65535`);
  return { kind: 'dns', host: match[1]!, port };
}
