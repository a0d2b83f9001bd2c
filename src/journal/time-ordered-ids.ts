/**
 * Journal entry ids that grow with time across processes (the workers of one group, replicas
 * with --peers), so that `since=<id>` means "after this one" whichever process took the request:
 * microseconds since `epochMs` (strictly increasing within the process) times `slots`, plus this
 * process's `slot`. Below 2^53 for 2^53 / slots microseconds after the epoch.
 */
export function timeOrderedIds(epochMs: number, slot: number, slots: number): () => number {
  let last = 0;
  return () => {
    const micros = Math.floor((performance.timeOrigin + performance.now() - epochMs) * 1000);
    last = micros > last ? micros : last + 1;
    return last * slots + slot;
  };
}
