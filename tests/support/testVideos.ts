import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../pipeline/core/paths';
import { isAlive } from './processes';

export interface TestVideoOptions {
  seconds: number;
  width?: number;
  height?: number;
  rate?: number;
  /** container by file extension: mp4 (H.264) or ts (MPEG-TS, H.264) */
  extension?: 'mp4' | 'ts';
  /** B-frames between reference frames, none of them a reference (default 0: every frame is one) */
  bframes?: number;
  /**
   * how colour is coded (default: untagged YUV 4:2:0, which readers take as BT.601 in limited
   * range): YUV in the BT.709 matrix, tagged; full-range YUV, tagged; or RGB (libx264rgb)
   */
  colour?: 'bt709' | 'full-range' | 'rgb';
  /** ffmpeg's moving test pattern (sharp edges, saturated colours), or its smooth moving colour gradients */
  pattern?: 'testsrc2' | 'gradients';
}

/**
 * Each pattern's lavfi options besides size and rate. gradients picks random colours (whatever its
 * seed) and a random band unless told: these two colours meet across a band about 57 pixels
 * wide, steep enough that 4:2:0 chroma read from the wrong place shows.
 */
const PATTERN_OPTIONS: Record<NonNullable<TestVideoOptions['pattern']>, string> = {
  testsrc2: '',
  gradients: ':c0=0x20c040:c1=0xd02080:x0=140:y0=100:x1=180:y1=140',
};

const COLOUR_ARGUMENTS: Record<NonNullable<TestVideoOptions['colour']>, string[]> = {
  bt709: ['-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-c:v', 'libx264'],
  'full-range': ['-vf', 'scale=out_range=pc,format=yuv420p', '-color_range', 'pc', '-c:v', 'libx264'],
  rgb: ['-c:v', 'libx264rgb', '-pix_fmt', 'rgb24'],
};

/** Where tests write what they make; git-ignored. */
export function testArtifactsDir(...parts: string[]): string {
  const dir = join(repoRoot(), 'test-artifacts', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A folder of this test process's own under test-artifacts/<parts>, named by its pid, kept after
 * the run for a look; folders that earlier runs left there (pids no longer running) are removed.
 */
export function runArtifactsDir(...parts: string[]): string {
  const parent = testArtifactsDir(...parts);
  for (const entry of readdirSync(parent)) {
    if (/^\d+$/.test(entry) && !isAlive(Number(entry))) rmSync(join(parent, entry), { recursive: true, force: true });
  }
  return testArtifactsDir(...parts, String(process.pid));
}

/** A real H.264 video of one of ffmpeg's moving patterns, made once per kind and kept in test-artifacts/videos. */
export function makeTestVideo(options: TestVideoOptions): string {
  const { seconds, width = 320, height = 240, rate = 30, extension = 'mp4', bframes = 0, colour, pattern = 'testsrc2' } = options;
  const path = join(testArtifactsDir('videos'), `${pattern}-${width}x${height}-${rate}fps-${seconds}s${bframes ? `-b${bframes}` : ''}${colour ? `-${colour}` : ''}.${extension}`);
  if (!existsSync(path)) {
    const tmp = `${path}.partial.${process.pid}.${extension}`;
    const coding = colour ? COLOUR_ARGUMENTS[colour] : ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'];
    execFileSync('ffmpeg', [
      '-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `${pattern}=size=${width}x${height}:rate=${rate}${PATTERN_OPTIONS[pattern]}`, '-t', String(seconds),
      ...coding, '-preset', 'ultrafast', '-g', String(rate), '-bf', String(bframes), '-x264-params', 'b-pyramid=none', tmp,
    ]);
    execFileSync('mv', [tmp, path]);
  }
  return path;
}

/**
 * How reference frames are laid out: RGB24 as the pipeline asks ffmpeg for it; limited-range
 * YUV 4:2:0; or RGB24 from swscale's exact conversion (rounded, full chroma), a yardstick for
 * colour, which its fast default is not (it comes out about 1.5 levels dark).
 */
export type ReferenceLayout = 'rgb24' | 'yuv420p' | 'rgb24-exact';

/**
 * Decodes `video` independently of geoloc: raw frames at `fps` (every frame without it), the
 * centre crop of the output's aspect ratio area-scaled to width × height, as the pipeline does.
 */
export function referenceFrames(video: string, width: number, height: number, fps?: number, layout: ReferenceLayout = 'rgb24'): Buffer {
  const flags = { rgb24: 'area', yuv420p: 'area:out_range=tv', 'rgb24-exact': 'area+accurate_rnd+full_chroma_int' }[layout];
  const fit = `crop=min(iw\\,ih*${width}/${height}):min(ih\\,iw*${height}/${width}),scale=${width}:${height}:flags=${flags}`;
  const pixelFormat = layout === 'yuv420p' ? 'yuv420p' : 'rgb24';
  return execFileSync('ffmpeg', ['-loglevel', 'error', '-i', video, '-vf', fps ? `setpts=PTS-STARTPTS,fps=${fps}:round=up,${fit}` : fit, '-pix_fmt', pixelFormat, '-f', 'rawvideo', 'pipe:1'], {
    maxBuffer: 1 << 30,
  });
}
