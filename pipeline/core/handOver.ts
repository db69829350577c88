/**
 * Hands this process's terminal over to another program until it ends: the Python training
 * package, or this CLI run again with a different environment.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** interrupts this process passes on to the one it runs */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs `file` with `args` on this process's stdin, stdout and stderr, passing interrupts on;
 * resolves to its exit status, 128 + the signal's number when a signal ended it (as shells report it).
 */
export function handOverTo(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of FORWARDED) process.on(signal, forward);
    const stopForwarding = () => {
      for (const signal of FORWARDED) process.off(signal, forward);
    };
    child.once('error', (err) => {
      stopForwarding();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
