import { runCli } from './support/cli';

/** These hand --help over to the Python training package (tests/cli-training.test.ts covers them). */
const PYTHON_HAND_OVERS = new Set(['train', 'evaluate', 'export']);

describe('geoloc --help', () => {
  test('a command group answers --help with its commands (geoloc index --help)', async () => {
    const r = await runCli(['index', '--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: geoloc index <build|add|info>');
    for (const name of ['index build', 'index add', 'index info']) expect(r.stdout).toContain(name);
  });

  test('a group without its command is a usage error (rc 2) that lists the commands', async () => {
    const r = await runCli(['index']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'index' needs one of its commands");
    expect(r.stderr).toContain('index build');
  });

  test('every command geoloc --help lists answers --help with its usage, rc 0', async () => {
    const listing = await runCli(['--help']);
    const commands = listing.stdout
      .split('commands:\n')[1]!
      .split('\n\n')[0]!
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/)[0]!);
    expect(commands).toEqual(expect.arrayContaining(['run', 'replay', 'index build', 'index add', 'index info', 'serve']));
    for (const name of commands.filter((c) => !PYTHON_HAND_OVERS.has(c))) {
      const r = await runCli([...name.split(' '), '--help']);
      expect({ name, code: r.code, usage: r.stdout.startsWith('usage: geoloc') }).toEqual({ name, code: 0, usage: true });
    }
  });
});
