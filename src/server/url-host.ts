/**
 * Where a client reaches a listener, from the address it listens on: one rule for the URLs the
 * mock prints (server/mock.ts) and the defaults of the CLI commands that call it (health, request).
 */

/** Listening on every interface ('', 0.0.0.0, ::): no client can connect to that address as such. */
export function isWildcardAddress(address: string): boolean {
  return address === '' || address === '0.0.0.0' || address === '::';
}

/** A listen address as a URL host: a wildcard becomes `wildcardAs` (localhost unless said), an IPv6 address gets brackets. */
export function urlHost(address: string, wildcardAs = 'localhost'): string {
  if (isWildcardAddress(address)) return wildcardAs;
  return address.includes(':') ? `[${address}]` : address;
}
