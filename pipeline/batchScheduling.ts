import { execFile } from 'node:child_process';
import { type Logger, silentLogger } from './core/log';

/** The scheduling policy a process's threads run under. */
export type SchedulingPolicy = 'batch' | 'default';

/** util-linux's chrt: Node has no call for sched_setscheduler, and util-linux is essential on Debian */
const CHRT = 'chrt';
const CHRT_TIMEOUT_MS = 5000;

/**
 * Puts every thread of a process under Linux's SCHED_BATCH; the threads and child processes
 * it starts afterwards inherit the policy. Meant for a lossless read of a recording, which is
 * a batch job: its latency does not matter, its throughput does. A thread of a batch process
 * that wakes up (ffmpeg with a frame, the main thread with a result, a GC helper) then waits
 * for the running thread's time slice to end instead of taking the core at once, so ONNX
 * Runtime's threads are interrupted less often and keep their caches. On 2 cores the replay
 * bench's pipeline ÷ raw ratio rose from 0.864–0.886 to 0.888–0.910 (six rounds interleaved).
 * Live reads must not use it: a frame would wait a time slice for its thread.
 *
 * Never rejects: where chrt cannot set the policy (no chrt, a process gone) the process runs on
 * under the default policy, as fast as before, and the reason is logged. Elsewhere than Linux
 * there is no such policy and nothing is tried.
 */
export function scheduleAsBatchJob(pid: number = process.pid, logger: Logger = silentLogger): Promise<SchedulingPolicy> {
  if (process.platform !== 'linux') return Promise.resolve('default');
  return new Promise((resolve) => {
    execFile(CHRT, ['--batch', '--all-tasks', '--pid', '0', String(pid)], { timeout: CHRT_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (!err) {
        logger.log({ level: 'info', message: `process ${pid} runs as a batch job (SCHED_BATCH): a thread that wakes waits for the running one's time slice`, pid });
        resolve('batch');
        return;
      }
      const why = stderr.trim() || err.message;
      logger.log({ level: 'info', message: `process ${pid} keeps the default scheduling policy (SCHED_BATCH not set: ${why}); a replay may run a few percent slower`, pid });
      resolve('default');
    });
  });
}
