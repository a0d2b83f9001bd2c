/**
 * A question a replica asks another (--peers) must be answered from the asked replica's own
 * journals only (this process, its workers), never from its peers: else replicas that list
 * each other would ask each other in circles, and entries would come back twice. The admin
 * app runs such a request inside `askedByPeer` (it carries PEER_HEADER), and the federation
 * leaves peer sources out of it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The header a replica sends on its questions to a peer: the asking replica's id. */
export const PEER_HEADER = 'x-entitlement-mock-peer';
/** The header every admin answer carries: the answering replica's id (a replica that reaches itself through a peer address recognises itself). */
export const REPLICA_HEADER = 'x-entitlement-mock-replica';

export const askedByPeer = new AsyncLocalStorage<true>();
