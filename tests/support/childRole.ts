/**
 * Test helpers that must not share the test's process: a gateway holding hundreds of sockets,
 * or hundreds of client sockets, each needs a file-descriptor table of its own (a soft limit
 * of 1024 is common on CI machines) and an event loop of its own (so that one side's work does
 * not delay the other's timers). The parent forks a module that calls `runRole`, gets its ready
 * report, and on `stop()` its final report once it has cleaned up and exited.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface Role<Ready, Final> {
  ready: Ready;
  stop(): Promise<Final>;
}

type Report = { type: 'ready' | 'final'; value: unknown } | { type: 'failed'; message: string };
const STOP = 'stop';

/** Forks `modulePath` with `args` and resolves once it reports ready. */
export async function forkRole<Ready, Final>(modulePath: string, args: unknown): Promise<Role<Ready, Final>> {
  const child = fork(modulePath, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextReport(child);
  return {
    ready: ready as Ready,
    async stop() {
      const final = nextReport(child);
      child.send(STOP);
      const value = await final;
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      return value as Final;
    },
  };
}

/** The child side: starts the role from the parent's args, reports, and stops on request. */
export function runRole<Args, Ready, Final>(start: (args: Args) => Promise<Role<Ready, Final>>): void {
  const send = (report: Report) => new Promise<void>((resolve) => process.send!(report, () => resolve()));
  const fail = (err: unknown) => send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }).then(() => process.exit(1));
  // A parent that dies (a test killed mid-run) must not leave its sockets behind.
  process.once('disconnect', () => process.exit(1));
  start(JSON.parse(process.argv[2]!) as Args).then((role) => {
    process.once('message', () => {
      role.stop().then((value) => send({ type: 'final', value }).then(() => process.exit(0)), fail);
    });
    return send({ type: 'ready', value: role.ready });
  }, fail);
}

function nextReport(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child ${child.pid} exited (${code}) before reporting`));
    child.once('exit', onExit);
    child.once('message', (report: Report) => {
      child.off('exit', onExit);
      if (report.type === 'failed') reject(new Error(report.message));
      else resolve(report.value);
    });
  });
}
