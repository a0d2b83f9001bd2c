/**
 * Journal entry ids with workers: every worker's ids must be unique in the group and grow with
 * time across workers, so that `since=<id>` (queries, Last-Event-ID) means "after this one"
 * whichever worker took the request. An id is the microseconds since the group started
 * (strictly increasing within a worker) times MAX_WORKERS, plus the worker's index.
 * Good for ~800 days below 2^53.
 */
import { timeOrderedIds } from '../journal/time-ordered-ids.js';

export const MAX_WORKERS = 128;

export function workerEntryIds(groupStartedAtMs: number, index: number): () => number {
  return timeOrderedIds(groupStartedAtMs, index, MAX_WORKERS);
}
