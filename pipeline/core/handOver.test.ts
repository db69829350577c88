import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handOverTo } from './handOver';

describe('handOverTo', () => {
  let tmp: string;
  beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), 'geoloc-hand-over-'))));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const script = (name: string, body: string) => {
    const path = join(tmp, name);
    writeFileSync(path, body);
    return path;
  };

  test('runs the program with its arguments and environment, and resolves to its exit status', async () => {
    const out = join(tmp, 'seen.json');
    const path = script('report.js', `require('fs').writeFileSync(process.argv[2], JSON.stringify({ args: process.argv.slice(3), limit: process.env.MALLOC_ARENA_MAX })); process.exit(7);`);
    await expect(handOverTo(process.execPath, [path, out, 'a b', '--x'], { env: { ...process.env, MALLOC_ARENA_MAX: '2' } })).resolves.toBe(7);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ args: ['a b', '--x'], limit: '2' });
  });

  test('a child ended by a signal gives 128 + its number', async () => {
    const path = script('term.js', "process.kill(process.pid, 'SIGTERM');");
    await expect(handOverTo(process.execPath, [path])).resolves.toBe(128 + 15);
  });

  test('passes an interrupt on to the child and stops listening once it has ended', async () => {
    const ready = join(tmp, 'ready');
    const path = script('wait.js', `require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => undefined, 1000);`);
    const listeners = process.listenerCount('SIGHUP');
    const ended = handOverTo(process.execPath, [path]);
    expect(process.listenerCount('SIGHUP')).toBe(listeners + 1);
    while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 20));
    // the listener alone, without signalling the test process itself
    process.emit('SIGHUP', 'SIGHUP');
    await expect(ended).resolves.toBe(128 + 1);
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
  });
});
