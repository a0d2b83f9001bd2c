/**
 * Journal entry ids with workers: every worker's ids must be unique in the group and grow with
 * time across workers, so that `since=<id>` (queries, Last-Event-ID) means "after this one"
 * whichever worker took the request. An id is the microseconds since the group started
 * (strictly increasing within a worker) times MAX_WORKERS, plus the worker's index.
 * Good for ~800 days below 2^53.
 */
export const MAX_WORKERS = 128;

export function workerEntryIds(groupStartedAtMs: number, index: number): () => number {
  return timeOrderedIds(groupStartedAtMs, index, MAX_WORKERS);
}

/**
 * Ids that grow with time across processes: microseconds since `epochMs` (strictly increasing
 * within the process) times `slots`, plus this process's `slot`. Below 2^53 for
 * 2^53 / slots microseconds after the epoch.
 */
export function timeOrderedIds(epochMs: number, slot: number, slots: number): () => number {
  let last = 0;
  return () => {
    const micros = Math.floor((performance.timeOrigin + performance.now() - epochMs) * 1000);
    last = micros > last ? micros : last + 1;
    return last * slots + slot;
  };
}
