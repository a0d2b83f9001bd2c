/**
 * The peers of this replica as journal sources of the federation: fixed URLs, or the
 * addresses a host name resolves to, looked up again before every question (refresh()), so
 * the federation asks the replicas there are now. A name that does not resolve is a source of
 * its own that never answers: the question fails closed naming it, or is partial without it.
 */
import { lookup } from 'node:dns/promises';
import type { JournalFederation } from './federation.js';
import { PeerSource, type PeerOptions } from './peer-source.js';
import { SourceDidNotAnswer, type JournalSource } from './source.js';
import type { PeersOption } from './peers-option.js';
import { askedByPeer } from './asked-by-peer.js';

export class Peers {
  /** The peer sources in the federation now, by URL. */
  private readonly sources = new Map<string, JournalSource>();

  constructor(
    private readonly option: PeersOption,
    private readonly federation: Pick<JournalFederation, 'add' | 'remove'>,
    private readonly peerOptions: PeerOptions,
  ) {
    if (option.kind === 'urls') this.follow(option.urls);
  }

  /**
   * Answer a question another replica asked: from this replica's own journals only. (Run here,
   * with the federation's own copy of askedByPeer: the admin app may hold another copy of it.)
   */
  asPeer<T>(answer: () => T): T {
    return askedByPeer.run(true, answer);
  }

  /** Resolve the host name again (fixed URLs: nothing to do). */
  async refresh(): Promise<void> {
    if (this.option.kind === 'urls') return;
    const { host, port } = this.option;
    try {
      const addresses = await lookup(host, { all: true });
      this.follow(addresses.map(({ address, family }) => `http://${family === 6 ? `[${address}]` : address}:${port}`));
    } catch (error) {
      this.replaceAll(new Map([[host, unresolved(host, error)]]));
    }
  }

  private follow(urls: readonly string[]): void {
    this.replaceAll(new Map(urls.map((url) => [url, this.sources.get(url) ?? new PeerSource(url, this.peerOptions)])));
  }

  private replaceAll(next: Map<string, JournalSource>): void {
    for (const [url, source] of this.sources) {
      if (next.get(url) === source) continue;
      this.federation.remove(source);
      this.sources.delete(url);
    }
    for (const [url, source] of next) {
      if (this.sources.has(url)) continue;
      this.federation.add(source);
      this.sources.set(url, source);
    }
  }
}

/** Stands for peers whose name did not resolve: never answers. */
function unresolved(name: string, error: unknown): JournalSource {
  const fail = async (): Promise<never> => {
    throw new SourceDidNotAnswer(`${name} did not resolve: ${error instanceof Error ? error.message : String(error)}`);
  };
  return {
    name,
    peer: true,
    query: fail,
    count: fail,
    matchingIds: fail,
    counts: fail,
    clear: fail,
    report: fail,
    tlsFailures: fail,
    clearTlsFailures: fail,
    subscribe: () => () => undefined,
  };
}
