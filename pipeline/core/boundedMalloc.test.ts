import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOUNDED_MALLOC, boundedMallocEnv, rerunWith } from './boundedMalloc';

describe('boundedMallocEnv', () => {
  test('adds every setting on Linux when the caller set none', () => {
    expect(boundedMallocEnv({}, 'linux')).toEqual(BOUNDED_MALLOC);
    expect(Object.keys(BOUNDED_MALLOC)).toEqual(['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_']);
  });

  test("keeps the caller's own settings, and adds nothing where glibc is not the allocator", () => {
    expect(boundedMallocEnv({ MALLOC_ARENA_MAX: '8' }, 'linux')).toEqual({ MALLOC_MMAP_THRESHOLD_: BOUNDED_MALLOC.MALLOC_MMAP_THRESHOLD_ });
    expect(boundedMallocEnv({ ...BOUNDED_MALLOC }, 'linux')).toEqual({});
    expect(boundedMallocEnv({}, 'darwin')).toEqual({});
  });
});

describe('rerunWith', () => {
  let tmp: string;
  beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), 'geoloc-rerun-'))));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const script = (name: string, body: string) => {
    const path = join(tmp, name);
    writeFileSync(path, body);
    return path;
  };

  test('runs the script with its arguments and the added variables, and resolves to its exit status', async () => {
    const out = join(tmp, 'seen.json');
    const path = script('report.js', `require('fs').writeFileSync(process.argv[2], JSON.stringify({ args: process.argv.slice(3), limit: process.env.MALLOC_ARENA_MAX })); process.exit(7);`);
    await expect(rerunWith(path, [out, 'a b', '--x'], { MALLOC_ARENA_MAX: '2' })).resolves.toBe(7);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ args: ['a b', '--x'], limit: '2' });
  });

  test('a child ended by a signal gives 128 + its number', async () => {
    const path = script('term.js', "process.kill(process.pid, 'SIGTERM');");
    await expect(rerunWith(path, [], {})).resolves.toBe(128 + 15);
  });

  test('passes an interrupt on to the child and stops listening once it has ended', async () => {
    const ready = join(tmp, 'ready');
    const path = script('wait.js', `require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => undefined, 1000);`);
    const listeners = process.listenerCount('SIGHUP');
    const ended = rerunWith(path, [], {});
    expect(process.listenerCount('SIGHUP')).toBe(listeners + 1);
    while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 20));
    // the listener alone, without signalling the test process itself
    process.emit('SIGHUP', 'SIGHUP');
    await expect(ended).resolves.toBe(128 + 1);
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
  });
});
