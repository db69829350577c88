/**
 * A small, real end-to-end setting for pipeline tests: synthetic georeferenced imagery, a
 * satellite index built from it with the tiny test model, and a flight over it — an H.264
 * video whose frames are nadir crops of the imagery along a straight path, with its DJI-style
 * SRT telemetry. Built once per model version under test-artifacts/synthetic-flight/.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { buildIndex } from '../../models/buildIndex';
import { readGeoImage } from '../../models/imagerySource';
import { formatSrt, readTelemetry, type TelemetryRecord } from '../../pipeline/telemetry';
import { writeSyntheticGeoImage } from './syntheticImagery';
import { testArtifactsDir } from './testVideos';
import { tinyModelPath } from './tinyModel';

export interface SyntheticFlight {
  dir: string;
  model: string;
  index: string;
  video: string;
  telemetry: string;
  /** frames per second of the video */
  fps: number;
  seconds: number;
  records: TelemetryRecord[];
}

const IMAGE_SIDE_PX = 600;
const METERS_PER_PIXEL = 1;
const ALTITUDE_M = 100;
const HFOV_DEG = 60;
const VIDEO_FPS = 10;
const SECONDS = 6;
const FRAME_SIDE_PX = 112;
const PATH_FROM_PX = 170;
const PATH_TO_PX = 430;

function encode(frames: Buffer[], path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn('ffmpeg', [
      '-y', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${FRAME_SIDE_PX}x${FRAME_SIDE_PX}`, '-r', String(VIDEO_FPS), '-i', 'pipe:0',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-pix_fmt', 'yuv420p', '-g', String(VIDEO_FPS), path,
    ], { stdio: ['pipe', 'ignore', 'inherit'] });
    ffmpeg.on('error', reject);
    ffmpeg.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code} encoding ${path}`))));
    for (const frame of frames) ffmpeg.stdin.write(frame);
    ffmpeg.stdin.end();
  });
}

async function build(dir: string): Promise<void> {
  const model = await tinyModelPath();
  const imagery = await writeSyntheticGeoImage(dir, { width: IMAGE_SIDE_PX, height: IMAGE_SIDE_PX, metersPerPixel: METERS_PER_PIXEL, north: 46.5, west: 7.5, seed: 11 });
  await buildIndex({ imagery, modelPath: model, out: join(dir, 'index'), altitudesM: [ALTITUDE_M], hfovDeg: HFOV_DEG, aspect: 1, referenceFeatures: false, overlap: 0.75, log: () => undefined });
  const geo = await readGeoImage(imagery);
  const footprintPx = Math.round((2 * ALTITUDE_M * Math.tan((HFOV_DEG * Math.PI) / 360)) / METERS_PER_PIXEL);
  const frames: Buffer[] = [];
  const records: TelemetryRecord[] = [];
  const count = SECONDS * VIDEO_FPS;
  for (let i = 0; i < count; i++) {
    const centre = PATH_FROM_PX + ((PATH_TO_PX - PATH_FROM_PX) * i) / (count - 1);
    const left = Math.round(centre - footprintPx / 2);
    frames.push(
      await sharp(geo.rgb, { raw: { width: geo.width, height: geo.height, channels: 3 } })
        .extract({ left, top: left, width: footprintPx, height: footprintPx })
        .resize(FRAME_SIDE_PX, FRAME_SIDE_PX, { fit: 'fill' })
        .raw()
        .toBuffer(),
    );
    const { lat, lon } = geo.georef.pixelToLonLat(centre, centre);
    records.push({ index: i + 1, t: i / VIDEO_FPS, lat, lon, alt: ALTITUDE_M, headingDeg: 135, line: 0 });
  }
  await encode(frames, join(dir, 'flight.mp4'));
  writeFileSync(join(dir, 'flight.srt'), formatSrt(records));
}

/** The synthetic flight for the current tiny model, built if absent (parallel test files are safe). */
export async function syntheticFlight(): Promise<SyntheticFlight> {
  const model = await tinyModelPath();
  const dir = join(testArtifactsDir('synthetic-flight'), basename(dirname(model)));
  if (!existsSync(join(dir, 'flight.srt'))) {
    const staging = `${dir}.partial-${process.pid}-${Date.now()}`;
    await mkdir(staging, { recursive: true });
    try {
      await build(staging);
      await rename(staging, dir).catch((err: unknown) => {
        if (!existsSync(join(dir, 'flight.srt'))) throw err;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  const { records } = readTelemetry(join(dir, 'flight.srt'));
  return { dir, model, index: join(dir, 'index'), video: join(dir, 'flight.mp4'), telemetry: join(dir, 'flight.srt'), fps: VIDEO_FPS, seconds: SECONDS, records };
}
