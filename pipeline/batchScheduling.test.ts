import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { once } from 'node:events';
import { scheduleAsBatchJob } from './batchScheduling';
import { RecordingLogger } from './core/log';
import { readProcStat, STAT_FIELD } from '../tests/support/procStat';

/** sched(7): the policy numbers /proc reports */
const SCHED_OTHER = 0;
const SCHED_BATCH = 3;

function policyOf(pid: number, tid: number): number {
  return readProcStat(`/proc/${pid}/task/${tid}/stat`)!(STAT_FIELD.policy);
}

function threadPolicies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => policyOf(pid, Number(tid)));
}

/**
 * A Node process with a worker thread (so it has several threads of its own) that starts a
 * child process when told to on stdin, and prints the child's pid.
 */
const PROCESS_WITH_THREADS = `
const { Worker } = require('node:worker_threads');
const { spawn } = require('node:child_process');
new Worker('setInterval(() => {}, 1000)', { eval: true }).on('online', () => process.stdout.write('ready\\n'));
process.stdin.on('data', () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  process.stdout.write(child.pid + '\\n');
});
`;

async function nextLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return chunk.toString().trim();
}

const linuxOnly = process.platform === 'linux' ? describe : describe.skip;

linuxOnly('scheduleAsBatchJob', () => {
  const started: number[] = [];
  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('puts every thread of a process under SCHED_BATCH, and the children it starts afterwards inherit it', async () => {
    // started explicitly under the default policy, whatever this test process runs under
    const child = spawn('chrt', ['--other', '0', process.execPath, '-e', PROCESS_WITH_THREADS]);
    started.push(child.pid!);
    expect(await nextLine(child)).toBe('ready');
    const before = threadPolicies(child.pid!);
    expect(before.length).toBeGreaterThan(1);
    expect(new Set(before)).toEqual(new Set([SCHED_OTHER]));

    await expect(scheduleAsBatchJob(child.pid!)).resolves.toBe('batch');
    expect(new Set(threadPolicies(child.pid!))).toEqual(new Set([SCHED_BATCH]));

    child.stdin.write('spawn\n');
    const grandchild = Number(await nextLine(child));
    started.push(grandchild);
    expect(new Set(threadPolicies(grandchild))).toEqual(new Set([SCHED_BATCH]));
  });

  it('resolves "default" and logs why when the policy cannot be set', async () => {
    const sleeper = spawn('sleep', ['30']);
    const gone = sleeper.pid!;
    sleeper.kill('SIGKILL');
    await once(sleeper, 'exit');
    const logger = new RecordingLogger();

    await expect(scheduleAsBatchJob(gone, logger)).resolves.toBe('default');
    expect(logger.records).toHaveLength(1);
    expect(logger.records[0]!.message).toContain(`process ${gone} keeps the default scheduling policy`);
  });
});
