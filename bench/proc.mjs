/** What Linux says about another process: its CPU time and memory, from /proc/<pid>. */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: 100 on every mainstream kernel (the unit of utime/stime). */
const CLOCK_TICKS = 100;

/**
 * utime + stime of the whole process (all its threads: GC, libuv pool), in seconds; null when it
 * is gone. A list of pids (a --workers group): their sum, null when one is gone.
 */
export function readCpu(pid) {
  if (Array.isArray(pid)) {
    const each = pid.map(readCpu);
    return each.includes(null) ? null : each.reduce((sum, seconds) => sum + seconds, 0);
  }
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14 and stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Time on a CPU of all the process's threads, in seconds, to the nanosecond (the scheduler's own
 * count, /proc/<pid>/task/<tid>/schedstat): for spans too short for readCpu's 10 ms ticks, such
 * as a start. null when the process is gone.
 */
export function readCpuExact(pid) {
  try {
    let nanoseconds = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    return nanoseconds / 1e9;
  } catch {
    return null;
  }
}

/** Resident set size now and its high-water mark since start, in bytes; null when the process is gone. */
export function readRss(pid) {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const bytes = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: bytes('VmRSS'), peak: bytes('VmHWM') };
  } catch {
    return null;
  }
}

/**
 * Context switches of the main thread (the event loop; a list of pids: summed), null when one is
 * gone. Voluntary: it waited for something (an idle event loop going to sleep in epoll_wait);
 * involuntary: the kernel took the core away while it had work (more runnable threads than cores).
 */
export function readContextSwitches(pid) {
  if (Array.isArray(pid)) {
    const each = pid.map(readContextSwitches);
    return each.includes(null) ? null : each.reduce((sum, one) => ({ voluntary: sum.voluntary + one.voluntary, involuntary: sum.involuntary + one.involuntary }), { voluntary: 0, involuntary: 0 });
  }
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const count = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { voluntary: count('voluntary_ctxt_switches'), involuntary: count('nonvoluntary_ctxt_switches') };
  } catch {
    return null;
  }
}
