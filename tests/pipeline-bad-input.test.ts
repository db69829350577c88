/**
 * Every bad input the issue names, through the CLI as users meet it: the exit status, one coded
 * line on stderr (or a logged recovery), never an unhandled rejection, and the JSONL written so
 * far valid line by line.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PIPELINE_CONFIG } from '../pipeline/config';
import { expectFix, parseJsonl, readJsonl, runCli, startCli, type CliResult } from './support/cli';
import { freeUdpPort, killAndWait, startSender, waitFor } from './support/processes';
import { syntheticFlight, type SyntheticFlight } from './support/syntheticFlight';
import { runArtifactsDir } from './support/testVideos';
import { tinyModelPath } from './support/tinyModel';

const WAIT_MS = 20_000;

function expectClean(result: CliResult): void {
  expect(result.stderr).not.toMatch(/Unhandled|UnhandledPromiseRejection|at .*\.js:\d+/);
}

function linesIn(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
}

describe('bad input through geoloc run / replay / demo', () => {
  let flight: SyntheticFlight;
  let dir: string;

  beforeAll(async () => {
    flight = await syntheticFlight();
    dir = runArtifactsDir('pipeline-bad-input');
  });

  const common = () => ['--index', flight.index, '--model', flight.model, '--cpu'];

  test.each([
    ['a file that is not a video', 'GEOLOC_ERR_SOURCE_UNREADABLE', () => { const p = join(dir, 'notes.mp4'); writeFileSync(p, 'not a video\n'.repeat(100)); return p; }, true],
    ['a missing file', 'GEOLOC_ERR_SOURCE_UNREADABLE', () => join(dir, 'missing.mp4'), true],
    // refused before the model loads or the output opens
    ['an unsupported URL', 'GEOLOC_ERR_SOURCE_UNSUPPORTED', () => 'http://127.0.0.1:9/video', false],
  ])('%s as the source: exit 1 and %s', async (_what, code, source, opensOutput) => {
    const src = source();
    const out = join(dir, `${code}-${Date.now()}.jsonl`);
    const result = await runCli(['run', '--source', src, '--out', out, ...common()]);
    expectClean(result);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(code);
    expect(result.stderr).toContain(src);
    expect(existsSync(out)).toBe(opensOutput);
    if (opensOutput) expect(readJsonl(out)).toEqual([]);
  });

  test('a model whose dimension differs from the index: GEOLOC_ERR_INDEX_DIM_MISMATCH, exit 1', async () => {
    const other = await tinyModelPath(['model.dim=32']);
    const result = await runCli(['run', '--source', flight.video, '--index', flight.index, '--model', other, '--cpu']);
    expectClean(result);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('GEOLOC_ERR_INDEX_DIM_MISMATCH');
    expect(result.stdout).toBe('');
  });

  test('an index folder with a missing file: GEOLOC_ERR_INDEX_MISSING_FILE naming it, exit 1', async () => {
    const broken = join(dir, 'index-without-catalog');
    rmSync(broken, { recursive: true, force: true });
    cpSync(flight.index, broken, { recursive: true });
    rmSync(join(broken, 'tiles.bin'));
    const result = await runCli(['run', '--source', flight.video, '--index', broken, '--model', flight.model, '--cpu']);
    expectClean(result);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('GEOLOC_ERR_INDEX_MISSING_FILE');
    expect(result.stderr).toContain('tiles.bin');
  });

  test('corrupt frames: logged as GEOLOC_ERR_FRAME_CORRUPT, decoding goes on, exit 0', async () => {
    const ts = join(dir, 'flight.ts');
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', flight.video, '-c', 'copy', '-f', 'mpegts', ts]);
    const bytes = readFileSync(ts);
    const from = Math.floor(bytes.length * 0.4);
    for (let i = from; i < from + 6000; i++) if (i % 188 > 4) bytes[i] = (i * 7919) & 0xff;
    const damaged = join(dir, 'damaged.ts');
    writeFileSync(damaged, bytes);
    const out = join(dir, 'damaged.jsonl');
    const result = await runCli(['run', '--source', damaged, '--out', out, ...common()]);
    expectClean(result);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('GEOLOC_ERR_FRAME_CORRUPT');
    const fixes = readJsonl(out);
    expect(fixes.length).toBeGreaterThan(flight.seconds * 5 - 5);
    fixes.forEach(expectFix);
  });

  /** the flight's first frame alone, as a 30 fps video: it lasts a sixth of the 5 fps sampling period */
  const oneFrameVideo = () => {
    const path = join(dir, 'one-frame.mp4');
    if (!existsSync(path)) execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', flight.video, '-frames:v', '1', '-r', '30', '-c:v', 'libx264', '-preset', 'ultrafast', path]);
    return path;
  };

  test('a one-frame video: its one fix, exit 0', async () => {
    const out = join(dir, 'one-frame.jsonl');
    const result = await runCli(['run', '--source', oneFrameVideo(), '--out', out, ...common()]);
    expectClean(result);
    expect(result.code).toBe(0);
    const fixes = readJsonl(out);
    expect(fixes).toHaveLength(1);
    expectFix(fixes[0]!);
    expect(fixes[0]!.properties).toMatchObject({ frame: 0, t: 0 });
  });

  test('telemetry with a malformed number: run names the skipped cue, its line and field, and goes on', async () => {
    const cues = readFileSync(flight.telemetry, 'utf8').split('\n\n');
    cues[4] = cues[4]!.replace(/\[latitude: (\d+\.\d\d)/, '[latitude: $1abc');
    const telemetry = join(dir, 'malformed.srt');
    writeFileSync(telemetry, cues.join('\n\n'));
    const result = await runCli(['run', '--source', oneFrameVideo(), '--telemetry', telemetry, '--out', join(dir, 'malformed.jsonl'), ...common()]);
    expectClean(result);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/GEOLOC_ERR_TELEMETRY_PARSE: .*malformed\.srt: 1 unusable record\(s\); the first: cue 5 \(line 26\) has a malformed number: latitude "\d+\.\d\dabc\d+"; skipped/);
  });

  test('a live stream that dies mid-flight and comes back: logged, reconnected, fixes go on; SIGKILL leaves whole lines', async () => {
    const port = await freeUdpPort();
    const url = `udp://127.0.0.1:${port}`;
    const config = join(dir, 'fast-reconnect.json');
    writeFileSync(config, JSON.stringify({ readTimeoutMs: 800, reconnect: { initialDelayMs: 100, maxDelayMs: 400, maxAttempts: 50 } }));
    const out = join(dir, 'live.jsonl');
    let sender: ChildProcess = startSender(flight.video, `${url}?pkt_size=1316`);
    const cli = startCli(['run', '--source', url, '--out', out, '--config', config, ...common()]);
    try {
      await waitFor(() => linesIn(out) >= 3, WAIT_MS, 'fixes from the live stream');
      await killAndWait(sender);
      await waitFor(() => cli.stderr().includes('GEOLOC_ERR_STREAM_LOST'), WAIT_MS, 'the loss to be logged');
      const before = linesIn(out);
      sender = startSender(flight.video, `${url}?pkt_size=1316`);
      await waitFor(() => linesIn(out) >= before + 3, WAIT_MS, 'fixes after the stream came back');
    } finally {
      cli.child.kill('SIGKILL');
      await killAndWait(sender);
    }
    const result = await cli.done;
    expect(result.signal).toBe('SIGKILL');
    expectClean(result);
    expect(result.stderr).toMatch(/GEOLOC_ERR_STREAM_LOST.*attempt 1 of 50/);
    const fixes = readJsonl(out);
    fixes.forEach(expectFix);
    const frames = fixes.map((f) => f.properties.frame as number);
    expect(frames).toEqual([...frames].sort((a, b) => a - b));
  });

  test('a live stream that never comes back: GEOLOC_ERR_STREAM_LOST after the last attempt, exit 1, fixes so far kept', async () => {
    const port = await freeUdpPort();
    const url = `udp://127.0.0.1:${port}`;
    const config = join(dir, 'give-up.json');
    writeFileSync(config, JSON.stringify({ readTimeoutMs: 600, reconnect: { initialDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 } }));
    const out = join(dir, 'gave-up.jsonl');
    const sender = startSender(flight.video, `${url}?pkt_size=1316`);
    const cli = startCli(['run', '--source', url, '--out', out, '--config', config, ...common()]);
    await waitFor(() => linesIn(out) >= 2, WAIT_MS, 'fixes from the live stream').finally(() => killAndWait(sender));
    const result = await cli.done;
    expectClean(result);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/geoloc run: GEOLOC_ERR_STREAM_LOST: .*gave up after 2 reconnect attempts/);
    readJsonl(out).forEach(expectFix);
  });

  test('SIGTERM during a run on a file: reading stops, every frame read still becomes a fix, whole lines, exit 143', async () => {
    const loops = 40;
    const long = join(dir, 'long-flight.mp4');
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-stream_loop', String(loops - 1), '-i', flight.video, '-c', 'copy', long]);
    const out = join(dir, 'terminated.jsonl');
    // retrieval only: every frame read must drain to its fix within the grace period
    const cli = startCli(['run', '--source', long, '--out', out, '--no-register', ...common()]);
    await waitFor(() => linesIn(out) >= 3, WAIT_MS, 'fixes before SIGTERM');
    const linesAtSignal = linesIn(out);
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expectClean(result);
    expect(result.code).toBe(143);
    expect(result.stderr).not.toContain('GEOLOC_ERR_FRAMES_LEFT_IN_FLIGHT');
    const [framesIn, fixesOut] = /(\d+) frames in, (\d+) fixes out/.exec(result.stderr)!.slice(1).map(Number);
    const text = readFileSync(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const fixes = parseJsonl(text);
    // frames were in flight at the signal, reading stopped before the end, and none was lost
    expect(framesIn).toBeGreaterThan(linesAtSignal);
    expect(framesIn).toBeLessThan(loops * flight.seconds * DEFAULT_PIPELINE_CONFIG.fps);
    expect([fixesOut, fixes.length]).toEqual([framesIn, framesIn]);
    const step = flight.fps / DEFAULT_PIPELINE_CONFIG.fps;
    expect(fixes.map((f) => f.properties.frame)).toEqual(fixes.map((_, k) => k * step));
  });

  test('SIGINT during a real-time replay stops cleanly: exit 130, report and fixes written', async () => {
    const report = join(dir, 'interrupted.json');
    const out = join(dir, 'interrupted.jsonl');
    const cli = startCli(['replay', flight.video, '--telemetry', flight.telemetry, '--report', report, '--out', out, '--realtime', ...common()]);
    await waitFor(() => linesIn(out) >= 3, WAIT_MS, 'fixes before the interrupt');
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expectClean(result);
    expect(result.code).toBe(130);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r.fixesOut).toBe(readJsonl(out).length);
    expect(r.fixesOut).toBeLessThan(flight.seconds * 5);
    // a real-time replay is read as a live feed: its frames must not wait a batch time slice
    expect(r.scheduling).toBe('default');
    // the page's pictures would hold the exit up: it is left out, and said so
    expect(result.stderr).toContain('page    not written (interrupted)');
    expect(existsSync(join(dir, 'interrupted.html'))).toBe(false);
  });

  test("an index whose imagery is gone: registration is refused with the way on; retrieval's report is written, report.html is not, with a coded warning, exit 0", async () => {
    const blind = join(dir, 'index-without-imagery');
    rmSync(blind, { recursive: true, force: true });
    cpSync(flight.index, blind, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(blind, 'manifest.json'), 'utf8'));
    manifest.imagery = { ...manifest.imagery, path: undefined, sources: [{ path: join(dir, 'gone.png') }] };
    writeFileSync(join(blind, 'manifest.json'), JSON.stringify(manifest));
    const report = join(dir, 'blind.json');
    const replay = ['replay', flight.video, '--telemetry', flight.telemetry, '--report', report, '--index', blind, '--model', flight.model, '--cpu'];
    // this index has no reference features: registration would need the imagery, and says how to go on
    const registering = await runCli(replay);
    expectClean(registering);
    expect(registering.code).toBe(1);
    expect(registering.stderr).toMatch(/GEOLOC_ERR_INDEX_IMAGERY_MISSING: index .*no reference features and its imagery .*gone\.png is gone.*--no-register/);
    const result = await runCli([...replay, '--no-register']);
    expectClean(result);
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(report, 'utf8')).fixesOut).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/GEOLOC_ERR_INDEX_IMAGERY_MISSING: .*blind\.html not written: index .* was built from imagery .*gone\.png, which is gone; put it back/);
    expect(existsSync(join(dir, 'blind.html'))).toBe(false);
  });

  test('usage errors exit 2 with GEOLOC_ERR_USAGE; a demo without its artifacts says to run make setup', async () => {
    const noSource = await runCli(['run', ...common()]);
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toContain('GEOLOC_ERR_USAGE');
    const emptyCache = join(dir, 'empty-cache');
    mkdirSync(emptyCache, { recursive: true });
    const demo = await runCli(['demo', '--cache', emptyCache]);
    expectClean(demo);
    expect(demo.code).toBe(1);
    expect(demo.stderr).toMatch(/GEOLOC_ERR_SETUP_MISSING: .*flight\.mp4.*run make setup/);
  });
});
