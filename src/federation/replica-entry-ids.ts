/**
 * Journal entry ids with --peers: the journals of replicas are merged (queries, waits, the
 * dashboard's live feed), so ids must not collide across replicas and should grow with time
 * across them, as with workers (cluster/entry-ids.ts): `since=<id>` then means "after this
 * one" whichever replica answered it, and the dashboard can key entries by id. An id is the
 * microseconds since EPOCH_MS times REPLICA_SLOTS plus a slot drawn at random per process:
 * two replicas' ids could only meet if they drew the same slot AND took a request in the same
 * microsecond. Good for ~17 years after the epoch (2^53 / 16 µs). Clocks of replicas on
 * different machines are as synchronised as their hosts are (NTP: well within a millisecond).
 */
import { randomInt } from 'node:crypto';
import { timeOrderedIds } from '../journal/time-ordered-ids.js';

const EPOCH_MS = Date.UTC(2026, 0, 1);
export const REPLICA_SLOTS = 16;

/** `slot`: drawn at random for a replica; the workers of a replica with --workers take neighbouring ones (cluster/worker.ts). */
export function replicaEntryIds(slot: number = randomInt(REPLICA_SLOTS)): () => number {
  return timeOrderedIds(EPOCH_MS, slot, REPLICA_SLOTS);
}
