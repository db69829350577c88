import { execFileSync } from 'node:child_process';
import { createReadStream, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, Subject, take, toArray } from 'rxjs';
import { RecordingLogger } from '../pipeline/core/log';
import { writeNorthUp } from '../pipeline/video/northUp';
import { frameBytes } from '../pipeline/video/pixelFormat';
import { isAlive, waitFor } from '../tests/support/processes';
import { makeTestVideo, referenceFrames, testArtifactsDir } from '../tests/support/testVideos';
import { type DecodedFrame, decodeVideo } from './decodeVideo';

const SIZE = { width: 64, height: 48 };
const FPS = 5;
const SECONDS = 2;

function collect(source: string, options: Partial<Parameters<typeof decodeVideo>[1]> = {}): Promise<DecodedFrame[]> {
  return lastValueFrom(decodeVideo(source, { ...SIZE, fps: FPS, ...options }).pipe(toArray()));
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('decodeVideo from files and stdin', () => {
  const video = makeTestVideo({ seconds: SECONDS });

  test('delivers every frame at the asked rate and size, numbered and timed, equal to an independent decode', async () => {
    const frames = await collect(video);
    const reference = referenceFrames(video, SIZE.width, SIZE.height, FPS);
    const frameBytes = SIZE.width * SIZE.height * 3;
    expect(frames).toHaveLength(reference.length / frameBytes);
    expect(frames).toHaveLength(SECONDS * FPS);
    frames.forEach((frame, i) => {
      expect(frame).toMatchObject({ index: i, width: SIZE.width, height: SIZE.height, format: 'rgb24' });
      expect(frame.t).toBeCloseTo(i / FPS, 9);
      expect(frame.pixels.equals(reference.subarray(i * frameBytes, (i + 1) * frameBytes))).toBe(true);
    });
  });

  test('each frame of a file carries the number of the source frame it is: the one on screen at its time', async () => {
    const frameBytes = SIZE.width * SIZE.height * 3;
    for (const { rate, fps } of [{ rate: 30, fps: FPS }, { rate: 25, fps: 4 }]) {
      const source = makeTestVideo({ seconds: SECONDS, rate });
      const everyFrame = referenceFrames(source, SIZE.width, SIZE.height);
      const frames = await collect(source, { fps });
      expect(frames).toHaveLength(SECONDS * fps);
      frames.forEach((frame, i) => {
        // the last source frame that began at or before i / fps
        const sourceIndex = Math.floor((i * rate) / fps);
        expect([frame.index, frame.sourceIndex]).toEqual([i, sourceIndex]);
        expect(frame.pixels.equals(everyFrame.subarray(sourceIndex * frameBytes, (sourceIndex + 1) * frameBytes))).toBe(true);
      });
    }
  });

  test('a one-frame file gives its frame', async () => {
    const single = join(testArtifactsDir('decode'), 'one-frame.mp4');
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', video, '-frames:v', '1', '-c:v', 'libx264', '-preset', 'ultrafast', single]);
    const frames = await collect(single);
    expect(frames.map((f) => [f.index, f.sourceIndex, f.t])).toEqual([[0, 0, 0]]);
    expect(frames[0]!.pixels.equals(referenceFrames(single, SIZE.width, SIZE.height))).toBe(true);
  });

  test('a file with several source frames per frame wanted skips its non-reference frames: same frames out, each within its B-frame run', async () => {
    const bframes = 3;
    const withB = makeTestVideo({ seconds: 4, bframes });
    const frameBytes = SIZE.width * SIZE.height * 3;
    const everyFrame = referenceFrames(withB, SIZE.width, SIZE.height);
    /** which source frame (by index) an RGB frame is, compared byte for byte */
    const sourceIndex = (pixels: Buffer) => {
      for (let j = 0; j * frameBytes < everyFrame.length; j++) if (pixels.equals(everyFrame.subarray(j * frameBytes, (j + 1) * frameBytes))) return j;
      return -1;
    };
    const logger = new RecordingLogger();
    const skipping = await collect(withB, { logger });
    const decodingAll = await collect(withB, { skipNonReferenceFrames: false });
    expect(logger.records.some((r) => /non-reference frames are not decoded/.test(r.message))).toBe(true);
    expect(skipping.map((f) => [f.index, f.t])).toEqual(decodingAll.map((f) => [f.index, f.t]));
    const offsets = skipping.map((frame, i) => sourceIndex(decodingAll[i]!.pixels) - sourceIndex(frame.pixels));
    expect(decodingAll.every((frame) => sourceIndex(frame.pixels) >= 0)).toBe(true);
    expect(skipping.every((frame) => sourceIndex(frame.pixels) >= 0)).toBe(true);
    // at most a B-frame run earlier, and some frames did come from a skipped run's reference
    expect(offsets.every((d) => d >= 0 && d <= bframes)).toBe(true);
    expect(offsets.some((d) => d > 0)).toBe(true);
  });

  test('non-reference frames are decoded when the rate wanted is close to the source rate', async () => {
    const withB = makeTestVideo({ seconds: 2, bframes: 3 });
    const logger = new RecordingLogger();
    const frames = await collect(withB, { fps: 10, logger });
    expect(frames).toHaveLength(2 * 10);
    expect(logger.records.some((r) => /non-reference/.test(r.message))).toBe(false);
  });

  test('reads "-" from a stream as stdin', async () => {
    const ts = makeTestVideo({ seconds: SECONDS, extension: 'ts' });
    const frames = await collect('-', { stdin: createReadStream(ts) });
    expect(frames.map((f) => f.index)).toEqual([...Array(SECONDS * FPS).keys()]);
    expect(frames[3]!.pixels.equals(referenceFrames(ts, SIZE.width, SIZE.height, FPS).subarray(3 * frames[3]!.pixels.length, 4 * frames[3]!.pixels.length))).toBe(true);
  });

  test('a missing file and a file that is not a video fail with GEOLOC_ERR_SOURCE_UNREADABLE naming it', async () => {
    const missing = join(testArtifactsDir('decode'), 'no-such-video.mp4');
    const notVideo = join(testArtifactsDir('decode'), 'not-a-video.mp4');
    writeFileSync(notVideo, 'this is text, not a video\n'.repeat(50));
    for (const path of [missing, notVideo]) {
      const err = await rejection(collect(path));
      expect(err.code).toBe('GEOLOC_ERR_SOURCE_UNREADABLE');
      expect(err.message).toContain(path);
    }
  });

  test('an unsupported URL scheme fails with GEOLOC_ERR_SOURCE_UNSUPPORTED', async () => {
    const err = await rejection(collect('gopher://example.invalid/video'));
    expect(err.code).toBe('GEOLOC_ERR_SOURCE_UNSUPPORTED');
  });

  test('corrupt data in the middle is logged as GEOLOC_ERR_FRAME_CORRUPT and decoding goes on', async () => {
    const ts = makeTestVideo({ seconds: 4, extension: 'ts' });
    const bytes = readFileSync(ts);
    // overwrite a stretch of payload in the middle (MPEG-TS headers stay, so the demuxer resyncs)
    for (let i = Math.floor(bytes.length * 0.4); i < Math.floor(bytes.length * 0.4) + 20_000; i++) if (i % 188 > 4) bytes[i] = (i * 7919) & 0xff;
    const damaged = join(testArtifactsDir('decode'), 'damaged.ts');
    writeFileSync(damaged, bytes);
    const logger = new RecordingLogger();
    const frames = await collect(damaged, { logger });
    expect(logger.withCode('GEOLOC_ERR_FRAME_CORRUPT').length).toBeGreaterThan(0);
    expect(frames.length).toBeGreaterThanOrEqual(4 * FPS - 2);
    expect(frames.map((f) => f.index)).toEqual([...frames.keys()]);
  });

  test('with request$, frames are delivered only against granted credit', async () => {
    const requests = new Subject<number>();
    const received: DecodedFrame[] = [];
    let done = false;
    const subscription = decodeVideo(video, { ...SIZE, fps: FPS, request$: requests }).subscribe({ next: (f) => received.push(f), complete: () => (done = true) });
    requests.next(2);
    await waitFor(() => received.length === 2, 10_000, 'two frames');
    // ffmpeg has the whole clip decoded long before this; only credit holds it back
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(2);
    requests.next(3);
    await waitFor(() => received.length === 5, 10_000, 'five frames');
    requests.next(Infinity);
    await waitFor(() => done, 10_000, 'completion');
    expect(received.map((f) => f.index)).toEqual([...Array(SECONDS * FPS).keys()]);
    subscription.unsubscribe();
  });

  test('unsubscribing while ffmpeg is held back by credit still ends it', async () => {
    const long = makeTestVideo({ seconds: 20 });
    const requests = new Subject<number>();
    const pids: number[] = [];
    const received: DecodedFrame[] = [];
    const subscription = decodeVideo(long, { ...SIZE, fps: FPS, request$: requests, onProcessStart: (pid) => pid && pids.push(pid) }).subscribe((f) => received.push(f));
    requests.next(1);
    await waitFor(() => received.length === 1, 10_000, 'one frame');
    subscription.unsubscribe();
    await waitFor(() => !isAlive(pids[0]!), 5000, `paused ffmpeg ${pids[0]} to be reaped`);
    expect(received).toHaveLength(1);
  });

  test('unsubscribing kills ffmpeg and leaves no zombie', async () => {
    const long = makeTestVideo({ seconds: 20 });
    const pids: number[] = [];
    const frame = await firstValueFrom(decodeVideo(long, { ...SIZE, fps: FPS, realtime: true, onProcessStart: (pid) => pid && pids.push(pid) }).pipe(take(1)));
    expect(frame.index).toBe(0);
    expect(pids).toHaveLength(1);
    // a zombie still answers kill(pid, 0); a reaped process does not
    await waitFor(() => !isAlive(pids[0]!), 5000, `ffmpeg ${pids[0]} to be reaped`);
  });
});

describe('decodeVideo with acceptYuv', () => {
  /**
   * How far, on average, a YUV frame turned into RGB (by writeNorthUp, unturned, from the
   * centre square) is from the exact conversion of the same frame: levels per channel.
   */
  function colourError(frame: DecodedFrame, exact: Buffer): number {
    const side = Math.min(frame.width, frame.height);
    const rgb = new Uint8Array(side * side * 3);
    writeNorthUp(frame, side, 0, [0, 0, 0], rgb, 0);
    const left = (frame.width - side) / 2;
    let sum = 0;
    let n = 0;
    // the last row and column have no neighbour to blend with and are fill colour
    for (let y = 0; y < side - 1; y++) {
      for (let x = 0; x < side - 1; x++) {
        for (let c = 0; c < 3; c++) sum += Math.abs(rgb[3 * (y * side + x) + c]! - exact[3 * (y * frame.width + x + left) + c]!);
        n += 3;
      }
    }
    return sum / n;
  }

  test.each([
    ['untagged, read as BT.601', undefined, 'bt601'],
    ['BT.709, tagged', 'bt709', 'bt709'],
    ['full range, tagged', 'full-range', 'bt601'],
  ] as const)('a YUV file (%s) comes as the 4:2:0 planes ffmpeg gives, with its matrix, and converts to the colours of an exact conversion', async (_, colour, matrix) => {
    // smooth colour: where colour changes every pixel, 4:2:0 cannot hold it whatever reads it
    const video = makeTestVideo({ seconds: 1, colour, pattern: 'gradients' });
    const frames = await collect(video, { acceptYuv: true });
    const planes = referenceFrames(video, SIZE.width, SIZE.height, FPS, 'yuv420p');
    const exact = referenceFrames(video, SIZE.width, SIZE.height, FPS, 'rgb24-exact');
    const yuvBytes = frameBytes('yuv420p', SIZE.width, SIZE.height);
    const rgbBytes = frameBytes('rgb24', SIZE.width, SIZE.height);
    expect(frames).toHaveLength(FPS);
    frames.forEach((frame, i) => {
      expect(frame).toMatchObject({ index: i, format: 'yuv420p', matrix: { name: matrix } });
      expect(frame.pixels.equals(planes.subarray(i * yuvBytes, (i + 1) * yuvBytes))).toBe(true);
      // 4:2:0 at this size, and a full-range source squeezed into limited range, cost 0.5–0.75
      // levels here; chroma read half a pixel off its place costs 1.5–1.8
      expect(colourError(frame, exact.subarray(i * rgbBytes, (i + 1) * rgbBytes))).toBeLessThan(1.2);
    });
    if (colour === 'bt709') {
      // read in the other matrix, the same planes are visibly off
      const misread = { ...frames[0]!, matrix: { name: 'bt601', kr: 0.299, kb: 0.114 } };
      expect(colourError(misread, exact.subarray(0, rgbBytes))).toBeGreaterThan(5);
    }
  });

  test('RGB video, an odd size and a stream without a probe come as RGB24', async () => {
    const rgbVideo = makeTestVideo({ seconds: 1, colour: 'rgb' });
    const [fromRgb] = await collect(rgbVideo, { acceptYuv: true });
    expect(fromRgb!.format).toBe('rgb24');
    expect(fromRgb!.pixels.equals(referenceFrames(rgbVideo, SIZE.width, SIZE.height, FPS).subarray(0, fromRgb!.pixels.length))).toBe(true);
    const video = makeTestVideo({ seconds: 1 });
    const [odd] = await collect(video, { acceptYuv: true, width: 63, height: 47 });
    expect(odd).toMatchObject({ format: 'rgb24', width: 63, height: 47 });
    const ts = makeTestVideo({ seconds: 1, extension: 'ts' });
    const [piped] = await collect('-', { acceptYuv: true, stdin: createReadStream(ts) });
    expect(piped!.format).toBe('rgb24');
  });
});
