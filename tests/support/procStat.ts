/** Reading a process's or thread's stat line under /proc, for tests and benchmarks that look inside threads. */
import { readFileSync } from 'node:fs';

/** proc(5)'s field numbers (counted from 1, as the manual does) of the fields read here. */
export const STAT_FIELD = { utime: 14, stime: 15, cutime: 16, cstime: 17, policy: 41 } as const;

/** Field 3, the first after the command name. */
const FIRST_FIELD_AFTER_COMMAND = 3;

/**
 * The stat line at `path` (/proc/<pid>/stat, /proc/thread-self/stat, …) as a lookup by field
 * number, or undefined where there is no such file (not Linux).
 */
export function readProcStat(path: string): ((field: number) => number) | undefined {
  let line: string;
  try {
    line = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // the command name (field 2) may hold spaces and parentheses: count from its closing one
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (field) => Number(fields[field - FIRST_FIELD_AFTER_COMMAND]);
}
