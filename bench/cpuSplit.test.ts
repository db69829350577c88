import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { measureCpuSplit } from './cpuSplit';

/** Spins this thread until it has used `seconds` of CPU: a fixed amount of work, however busy the machine is. */
function burnCpu(seconds: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1e6 >= seconds) return;
  }
}

const BURN_CHILD = 'const s = process.cpuUsage(); while ((process.cpuUsage(s).user + process.cpuUsage(s).system) < 300000);';

const onLinux = process.platform === 'linux';

describe('measureCpuSplit', () => {
  (onLinux ? it : it.skip)('tells the main thread, a reaped child and the whole process apart', async () => {
    const { result, cpu } = await measureCpuSplit(async () => {
      burnCpu(0.3);
      const child = spawn(process.execPath, ['-e', BURN_CHILD], { stdio: 'ignore' });
      const [code] = await once(child, 'exit');
      return code as number;
    });
    expect(result).toBe(0);
    // /proc counts in 10 ms ticks
    expect(cpu.mainThreadS).toBeGreaterThanOrEqual(0.25);
    expect(cpu.childrenS).toBeGreaterThanOrEqual(0.25);
    expect(cpu.processS).toBeGreaterThanOrEqual(cpu.mainThreadS! - 0.02);
    // the child's CPU is not this process's
    expect(cpu.processS).toBeLessThan(cpu.mainThreadS! + cpu.childrenS!);
    expect(cpu.wallS).toBeGreaterThan(0);
  });

  it('counts the main thread’s major collections and their pauses', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { cpu } = await measureCpuSplit(async () => {
      gc();
      gc();
    });
    expect(cpu.majorGcs).toBeGreaterThanOrEqual(2);
    expect(cpu.gcPauseS).toBeGreaterThan(0);
  });

  it('stops observing when the work fails, and passes the failure on', async () => {
    await expect(measureCpuSplit(() => Promise.reject(new Error('broken work')))).rejects.toThrow('broken work');
  });
});
