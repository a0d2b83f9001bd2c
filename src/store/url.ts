/** The `--store` URL: `redis://[user:password@]HOST[:PORT][/DB]`. */

export interface StoreUrl {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  /** As shown in messages: `redis://host:port/db` (never a password). */
  readonly display: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

export class StoreUrlError extends Error {}

/** Parse `redis://[user:password@]HOST[:PORT][/DB]`; throws StoreUrlError saying what is expected. */
export function parseStoreUrl(text: string): StoreUrl {
  const expected = 'expected redis://HOST:PORT[/DB], e.g. redis://localhost:6379/0';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StoreUrlError(`--store ${JSON.stringify(text)} is not a URL: ${expected}`);
  }
  if (url.protocol !== 'redis:') throw new StoreUrlError(`--store ${JSON.stringify(text)}: unsupported scheme ${url.protocol.replace(/:$/, '')}: ${expected}`);
  if (url.hostname === '') throw new StoreUrlError(`--store ${JSON.stringify(text)} has no host: ${expected}`);
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isInteger(db) || db > 15) throw new StoreUrlError(`--store ${JSON.stringify(text)}: database "${path}" must be a number 0-15: ${expected}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    db,
    display: `redis://${url.hostname}:${port}/${db}`,
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  };
}
