/**
 * Live sources for real: an ffmpeg sender streams MPEG-TS over UDP, TCP and SRT loopback (and
 * a small RTSP server relays RTP/H.264); the sender is killed mid-stream and started again,
 * and the decoder must log the loss, reconnect with backoff and go on numbering frames.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Subject, type Subscription } from 'rxjs';
import { type DecodedFrame, decodeVideo } from '../operators/decodeVideo';
import { RecordingLogger } from '../pipeline/core/log';
import { freeTcpPort, freeUdpPort, isAlive, killAndWait, startSender, waitFor } from './support/processes';
import { startRtspServer } from './support/rtspServer';
import { makeTestVideo } from './support/testVideos';

const SIZE = { width: 32, height: 32 };
const FPS = 10;
const READ_TIMEOUT_MS = 800;
const RECONNECT = { initialDelayMs: 100, maxDelayMs: 400, maxAttempts: 40 };
const FRAMES_WANTED = 3;
const WAIT_MS = 15_000;
/** how long after its sender dies a frame already on its way may still arrive: well under the read timeout */
const IN_FLIGHT_MS = READ_TIMEOUT_MS / 2;

interface LiveRun {
  frames: DecodedFrame[];
  pids: number[];
  logger: RecordingLogger;
  error?: { code?: string };
  subscription: Subscription;
}

function decodeLive(url: string, maxAttempts = RECONNECT.maxAttempts): LiveRun {
  const run: LiveRun = { frames: [], pids: [], logger: new RecordingLogger(), subscription: undefined as unknown as Subscription };
  run.subscription = decodeVideo(url, {
    ...SIZE,
    fps: FPS,
    readTimeoutMs: READ_TIMEOUT_MS,
    reconnect: { ...RECONNECT, maxAttempts },
    logger: run.logger,
    onProcessStart: (pid) => pid && run.pids.push(pid),
  }).subscribe({ next: (f) => run.frames.push(f), error: (err) => (run.error = err) });
  return run;
}

async function expectResumesAfterSenderRestart(url: string, start: () => ChildProcess): Promise<void> {
  let sender = start();
  const run = decodeLive(url);
  try {
    await waitFor(() => run.frames.length >= FRAMES_WANTED, WAIT_MS, `frames from ${url}`);
    await killAndWait(sender);
    await waitFor(() => run.logger.withCode('GEOLOC_ERR_STREAM_LOST').length > 0, WAIT_MS, 'the loss to be logged');
    const before = run.frames.length;
    sender = start();
    await waitFor(() => run.frames.length >= before + FRAMES_WANTED, WAIT_MS, `frames after ${url} came back`);
    expect(run.error).toBeUndefined();
    expect(run.frames.map((f) => f.index)).toEqual([...run.frames.keys()]);
    expect(run.pids.length).toBeGreaterThanOrEqual(2);
    const lost = run.logger.withCode('GEOLOC_ERR_STREAM_LOST')[0]!;
    expect(lost).toMatchObject({ level: 'warn', attempt: 1 });
  } finally {
    run.subscription.unsubscribe();
    await killAndWait(sender);
  }
  await waitFor(() => run.pids.every((pid) => !isAlive(pid)), 5000, 'every decoder to be reaped');
}

describe('live sources reconnect after the sender dies and comes back', () => {
  const video = makeTestVideo({ seconds: 4, extension: 'ts' });

  test('UDP MPEG-TS', async () => {
    const port = await freeUdpPort();
    await expectResumesAfterSenderRestart(`udp://127.0.0.1:${port}`, () => startSender(video, `udp://127.0.0.1:${port}?pkt_size=1316`));
  });

  test('TCP MPEG-TS (sender listens, decoder calls)', async () => {
    const port = await freeTcpPort();
    await expectResumesAfterSenderRestart(`tcp://127.0.0.1:${port}`, () => startSender(video, `tcp://127.0.0.1:${port}?listen=1`));
  });

  test('SRT MPEG-TS (sender listens, decoder calls)', async () => {
    const port = await freeUdpPort();
    await expectResumesAfterSenderRestart(`srt://127.0.0.1:${port}`, () => startSender(video, `srt://127.0.0.1:${port}?mode=listener`));
  });

  test('RTSP over TCP: a dropped connection is reconnected', async () => {
    const server = await startRtspServer();
    const run = decodeLive(server.url);
    try {
      await waitFor(() => run.frames.length >= FRAMES_WANTED, WAIT_MS, 'frames over RTSP');
      server.dropClients();
      await waitFor(() => run.logger.withCode('GEOLOC_ERR_STREAM_LOST').length > 0, WAIT_MS, 'the loss to be logged');
      const before = run.frames.length;
      await waitFor(() => run.frames.length >= before + FRAMES_WANTED, WAIT_MS, 'frames after reconnecting');
      expect(run.error).toBeUndefined();
      expect(run.frames.map((f) => f.index)).toEqual([...run.frames.keys()]);
    } finally {
      run.subscription.unsubscribe();
      await server.close();
    }
    await waitFor(() => run.pids.every((pid) => !isAlive(pid)), 5000, 'every decoder to be reaped');
  });

  test('the frames ffmpeg still holds when a stream falls silent are dropped, not delivered later as new ones', async () => {
    const port = await freeUdpPort();
    const url = `udp://127.0.0.1:${port}`;
    const sender = startSender(video, `${url}?pkt_size=1316`);
    const run = decodeLive(url);
    try {
      await waitFor(() => run.frames.length >= FRAMES_WANTED, WAIT_MS, `frames from ${url}`);
      await killAndWait(sender);
      const senderGone = performance.now();
      await waitFor(() => run.logger.withCode('GEOLOC_ERR_STREAM_LOST').length > 0, WAIT_MS, 'the loss to be logged');
      // what was on its way when the sender died comes at once; nothing comes from before the loss after that
      const late = run.frames.filter((f) => f.decodedAt > senderGone + IN_FLIGHT_MS).map((f) => ({ index: f.index, msAfterSender: f.decodedAt - senderGone }));
      expect(late).toEqual([]);
      expect(run.logger.withCode('GEOLOC_ERR_STREAM_LOST')[0]!.message).toMatch(new RegExp(`no frame for ${READ_TIMEOUT_MS} ms(; \\d+ frame\\(s\\) ffmpeg gave out after that, held from before it, were dropped)?\\)`));
    } finally {
      run.subscription.unsubscribe();
      await killAndWait(sender);
    }
    await waitFor(() => run.pids.every((pid) => !isAlive(pid)), 5000, 'every decoder to be reaped');
  });

  test('a lossless live read held back by credit is not taken for a silent stream', async () => {
    const port = await freeUdpPort();
    const url = `udp://127.0.0.1:${port}`;
    const sender = startSender(video, `${url}?pkt_size=1316`);
    const credit = new Subject<number>();
    const logger = new RecordingLogger();
    const frames: DecodedFrame[] = [];
    const subscription = decodeVideo(url, { ...SIZE, fps: FPS, readTimeoutMs: READ_TIMEOUT_MS, reconnect: RECONNECT, request$: credit, logger }).subscribe((f) => frames.push(f));
    try {
      credit.next(FRAMES_WANTED);
      await waitFor(() => frames.length === FRAMES_WANTED, WAIT_MS, `frames from ${url}`);
      await new Promise((resolve) => setTimeout(resolve, 2 * READ_TIMEOUT_MS));
      credit.next(FRAMES_WANTED);
      await waitFor(() => frames.length === 2 * FRAMES_WANTED, WAIT_MS, 'frames once credit came');
      expect(logger.withCode('GEOLOC_ERR_STREAM_LOST')).toEqual([]);
    } finally {
      subscription.unsubscribe();
      await killAndWait(sender);
    }
  });

  test('a stream that never comes back ends in GEOLOC_ERR_STREAM_LOST after the last attempt', async () => {
    const port = await freeTcpPort();
    const run = decodeLive(`tcp://127.0.0.1:${port}`, 2);
    await waitFor(() => run.error !== undefined, WAIT_MS, 'the decoder to give up');
    expect(run.error).toMatchObject({ code: 'GEOLOC_ERR_STREAM_LOST' });
    expect(run.logger.withCode('GEOLOC_ERR_STREAM_LOST').map((r) => r.attempt)).toEqual([1, 2]);
    await waitFor(() => run.pids.every((pid) => !isAlive(pid)), 5000, 'every decoder to be reaped');
  });
});
