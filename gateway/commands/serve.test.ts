import { spawn } from 'node:child_process';
import { CLI_PATH } from '../../tests/support/cli';

const URL_LINE = /map at (http:\/\/[^/\s]+)\//;

function runCli(args: string[]): { child: ReturnType<typeof spawn>; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

async function waitForUrl(stderr: () => string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = URL_LINE.exec(stderr());
    if (match) return match[1]!;
    if (Date.now() > deadline) throw new Error(`no URL printed; stderr: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('geoloc serve', () => {
  test('serves /healthz and the page until SIGINT, then exits 0', async () => {
    const { child, stderr, exited } = runCli(['serve', '--port', '0', '--token', 't0ken']);
    try {
      const url = await waitForUrl(stderr);
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: 'ok' });
      expect((await fetch(`${url}/api/flights`)).status).toBe(401);
      expect((await fetch(`${url}/api/flights`, { headers: { Authorization: 'Bearer t0ken' } })).status).toBe(200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test.each([
    [['serve', '--port', 'eighty']],
    [['serve', '--max-clients', '-3']],
    [['serve', '--index', 'a', '--imagery', 'b']],
    [['serve', '--bogus']],
  ])('%j is a usage error', async (args) => {
    const { stderr, exited } = runCli(args);
    expect(await exited).toBe(1);
    expect(stderr()).toContain('GEOLOC_ERR_USAGE');
  });

  test('imagery that does not exist is refused with a code', async () => {
    const { stderr, exited } = runCli(['serve', '--port', '0', '--imagery', '/no/such/image.png']);
    expect(await exited).toBe(1);
    expect(stderr()).toContain('GEOLOC_ERR_FILE_NOT_FOUND');
  });
});
