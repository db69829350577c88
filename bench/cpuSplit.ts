/**
 * Where a measured stretch of work spent its CPU: this process's threads, its main thread, the
 * child processes it reaped (ffmpeg, ffprobe), and the main thread's garbage collection pauses.
 * Tells a benchmark's reader what besides the model took the cores.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { readProcStat, STAT_FIELD } from '../tests/support/procStat';

/** proc(5) reports thread and child times in USER_HZ ticks, which Linux fixes at 100 per second. */
const USER_HZ = 100;
const MICROS_PER_S = 1e6;
const MS_PER_S = 1000;

export interface CpuSplit {
  wallS: number;
  /** every thread of this process: the main thread, worker threads, V8's and libuv's helpers */
  processS: number;
  /** this process's main thread alone (Linux; undefined elsewhere) */
  mainThreadS?: number;
  /** child processes that ended during the stretch (Linux; undefined elsewhere) */
  childrenS?: number;
  /** the main thread's garbage collection pauses */
  gcPauseS: number;
  majorGcs: number;
}

/** A 'gc' performance entry: its detail says which kind of collection it was. */
type GcEntry = PerformanceEntry & { detail?: { kind?: number } };

/** CPU seconds in a stat line's two time fields (user and system). */
function statSeconds(path: string, user: number, system: number): number | undefined {
  const field = readProcStat(path);
  return field && (field(user) + field(system)) / USER_HZ;
}

const mainThreadSeconds = () => statSeconds('/proc/thread-self/stat', STAT_FIELD.utime, STAT_FIELD.stime);
/** children that have ended and been waited for */
const childrenSeconds = () => statSeconds('/proc/self/stat', STAT_FIELD.cutime, STAT_FIELD.cstime);

function difference(after: number | undefined, before: number | undefined): number | undefined {
  return after === undefined || before === undefined ? undefined : after - before;
}

/** Runs `work` and reports its result with the CPU it and everything it started used. */
export async function measureCpuSplit<T>(work: () => Promise<T>): Promise<{ result: T; cpu: CpuSplit }> {
  let gcPauseMs = 0;
  let majorGcs = 0;
  const count = (entries: PerformanceEntry[]) => {
    for (const entry of entries) {
      gcPauseMs += entry.duration;
      if ((entry as GcEntry).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs += 1;
    }
  };
  const observer = new PerformanceObserver((list) => count(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const startedAt = performance.now();
  const processBefore = process.cpuUsage();
  const mainBefore = mainThreadSeconds();
  const childrenBefore = childrenSeconds();
  try {
    const result = await work();
    const used = process.cpuUsage(processBefore);
    const cpu = {
      wallS: (performance.now() - startedAt) / MS_PER_S,
      processS: (used.user + used.system) / MICROS_PER_S,
      mainThreadS: difference(mainThreadSeconds(), mainBefore),
      childrenS: difference(childrenSeconds(), childrenBefore),
    };
    // Node records a collection on the event loop's next turn; what observers were not yet handed is taken here
    await new Promise((resolve) => setImmediate(resolve));
    count(observer.takeRecords());
    return { result, cpu: { ...cpu, gcPauseS: gcPauseMs / MS_PER_S, majorGcs } };
  } finally {
    observer.disconnect();
  }
}
