import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../pipeline/paths';
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
}

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

/** A real H.264 video of ffmpeg's moving test pattern, made once per size and kept in test-artifacts/videos. */
export function makeTestVideo(options: TestVideoOptions): string {
  const { seconds, width = 320, height = 240, rate = 30, extension = 'mp4', bframes = 0 } = options;
  const path = join(testArtifactsDir('videos'), `testsrc2-${width}x${height}-${rate}fps-${seconds}s${bframes ? `-b${bframes}` : ''}.${extension}`);
  if (!existsSync(path)) {
    const tmp = `${path}.partial.${process.pid}.${extension}`;
    execFileSync('ffmpeg', [
      '-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${rate}`, '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(rate), '-bf', String(bframes), '-x264-params', 'b-pyramid=none', '-pix_fmt', 'yuv420p', tmp,
    ]);
    execFileSync('mv', [tmp, path]);
  }
  return path;
}

/**
 * Decodes `video` independently of geoloc: raw RGB24 frames at `fps` (every frame without it),
 * the centre crop of the output's aspect ratio area-scaled to width × height, as the pipeline does.
 */
export function referenceFrames(video: string, width: number, height: number, fps?: number): Buffer {
  const fit = `crop=min(iw\\,ih*${width}/${height}):min(ih\\,iw*${height}/${width}),scale=${width}:${height}:flags=area`;
  return execFileSync('ffmpeg', ['-loglevel', 'error', '-i', video, '-vf', fps ? `fps=${fps},${fit}` : fit, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'], {
    maxBuffer: 1 << 30,
  });
}
