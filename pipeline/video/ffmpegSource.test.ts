import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestVideo, testArtifactsDir } from '../../tests/support/testVideos';
import ffmpeg from 'fluent-ffmpeg';
import { DEFAULT_FFMPEG_OPTIONS, type FfmpegDecodeOptions, inputArguments, learnFfmpegCapabilities, probeVideoStream, SOCKET_TIMEOUT_GRACE_MS, videoFilter } from './ffmpegSource';
import { sourceKind } from './sourceKind';

const OPTIONS: FfmpegDecodeOptions = { ...DEFAULT_FFMPEG_OPTIONS, width: 224, height: 224, fps: 5, readTimeoutMs: 2000 };

function args(source: string, overrides: Partial<FfmpegDecodeOptions> = {}) {
  return inputArguments(source, sourceKind(source), { ...OPTIONS, ...overrides });
}

describe('ffmpeg command construction', () => {
  test('network inputs get a socket timeout in microseconds, a grace longer than the read timeout, and user query parameters win', () => {
    const timeout = (OPTIONS.readTimeoutMs + SOCKET_TIMEOUT_GRACE_MS) * 1000;
    expect(args('udp://0.0.0.0:5000').input).toBe(`udp://0.0.0.0:5000?timeout=${timeout}&overrun_nonfatal=1&fifo_size=50000`);
    expect(args('udp://0.0.0.0:5000?fifo_size=10').input).toBe(`udp://0.0.0.0:5000?fifo_size=10&timeout=${timeout}&overrun_nonfatal=1`);
    expect(args('tcp://10.0.0.2:9000').input).toBe(`tcp://10.0.0.2:9000?timeout=${timeout}`);
    expect(args('srt://10.0.0.2:9000', { srtLatencyMs: 200 }).input).toBe(`srt://10.0.0.2:9000?timeout=${timeout}&latency=200000`);
  });

  test('RTSP goes over TCP with a timeout option; files read as fast as possible unless realtime', () => {
    const rtsp = args('rtsp://cam.local/stream');
    expect(rtsp.input).toBe('rtsp://cam.local/stream');
    expect(rtsp.inputOptions.join(' ')).toContain(`-rtsp_transport tcp -timeout ${(OPTIONS.readTimeoutMs + SOCKET_TIMEOUT_GRACE_MS) * 1000}`);
    expect(args('flight.mp4').inputOptions).toEqual([]);
    expect(args('flight.mp4', { realtime: true }).inputOptions).toEqual(['-re']);
    expect(args('-').input).toBe('pipe:0');
  });

  test('the filter drops the frame rate first, crops to the aspect ratio before a single area scaling, and ends in the pixel format asked', () => {
    expect(videoFilter({ width: 224, height: 224, fps: 5, fit: 'crop', pixelFormat: 'rgb24' })).toBe('setpts=PTS-STARTPTS,fps=5:round=up,crop=min(iw\\,ih*224/224):min(ih\\,iw*224/224),scale=224:224:flags=area,format=rgb24');
    expect(videoFilter({ width: 64, height: 32, fps: undefined, fit: 'pad', pixelFormat: 'rgb24' })).toBe('scale=64:32:force_original_aspect_ratio=decrease:flags=area,pad=64:32:(ow-iw)/2:(oh-ih)/2,format=rgb24');
    expect(videoFilter({ width: 64, height: 32, fps: 2, fit: 'stretch', pixelFormat: 'rgb24' })).toBe('setpts=PTS-STARTPTS,fps=2:round=up,scale=64:32:flags=area,format=rgb24');
    // YUV leaves the scaler in limited range, whatever the source's
    expect(videoFilter({ width: 336, height: 336, fps: 5, fit: 'crop', pixelFormat: 'yuv420p' })).toBe('setpts=PTS-STARTPTS,fps=5:round=up,crop=min(iw\\,ih*336/336):min(ih\\,iw*336/336),scale=336:336:flags=area:out_range=tv,format=yuv420p');
  });

  test('decoder threads and frame skipping are input options, left to ffmpeg unless set', () => {
    expect(args('flight.mp4').inputOptions).toEqual([]);
    expect(args('flight.mp4', { decodeThreads: 1, skipNonReferenceFrames: true }).inputOptions).toEqual(['-threads', '1', '-skip_frame', 'noref']);
    expect(args('udp://0.0.0.0:5000', { decodeThreads: 2 }).inputOptions.slice(-2)).toEqual(['-threads', '2']);
  });

  test('learnFfmpegCapabilities asks once per process, and fluent-ffmpeg then answers its own checks without running ffmpeg', async () => {
    const first = learnFfmpegCapabilities();
    expect(learnFfmpegCapabilities()).toBe(first);
    await first;
    // a cached answer comes back synchronously; one that needs ffmpeg would come later
    let formats: Record<string, unknown> | undefined;
    let encoders: Record<string, unknown> | undefined;
    ffmpeg.getAvailableFormats((_err, found) => (formats = found));
    ffmpeg.getAvailableEncoders((_err, found) => (encoders = found));
    expect(formats).toHaveProperty('rawvideo');
    expect(encoders).toHaveProperty('rawvideo');
  });

  test('probeVideoStream reads a file\'s frame rate, colour matrix and size, and says nothing of what is not a video', async () => {
    expect(await probeVideoStream(makeTestVideo({ seconds: 1, rate: 25 }))).toEqual({ fps: 25, width: 320, height: 240, yuvMatrix: expect.objectContaining({ name: 'bt601' }) });
    const notVideo = join(testArtifactsDir('probe'), 'not-a-video.mp4');
    writeFileSync(notVideo, 'text\n');
    expect(await probeVideoStream(notVideo)).toEqual({});
    expect(await probeVideoStream(join(testArtifactsDir('probe'), 'missing.mp4'))).toEqual({});
  });

  test('source kinds: files, stdin and the five URL schemes; others are refused with a code', () => {
    expect(['a.mp4', 'file:///a.mp4', '-', 'rtsp://h/s', 'udp://h:1', 'tcp://h:1', 'srt://h:1'].map(sourceKind)).toEqual(['file', 'file', 'stdin', 'rtsp', 'udp', 'tcp', 'srt']);
    expect(() => sourceKind('http://example.com/v.mp4')).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_SOURCE_UNSUPPORTED' }));
  });
});
