/**
 * With --peers: every admin answer names this replica (REPLICA_HEADER); a question from another
 * replica (PEER_HEADER) is answered from this replica's own journals only; before a question
 * over the journals, a peer host name is resolved again (replicas come and go).
 */
import type Koa from 'koa';
import { PEER_HEADER, REPLICA_HEADER } from '../federation/asked-by-peer.js';

/** The routes answered over every journal source. */
const FEDERATED = /^\/admin\/(requests|report|tls-failures|events|reset)(\/|$)/;

export function peerRequests(replica: string, peers: AdminPeers | null): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set(REPLICA_HEADER, replica);
    if (peers === null) return next();
    if (ctx.get(PEER_HEADER) !== '') return peers.asPeer(next);
    if (FEDERATED.test(ctx.path)) await peers.refresh();
    return next();
  };
}

/** What the admin app uses of --peers (federation/peers.ts). */
export interface AdminPeers {
  /** Run a question another replica asked: answered from this replica's own journals only. */
  asPeer<T>(answer: () => T): T;
  /** Look the peers up again. */
  refresh(): Promise<void>;
}
