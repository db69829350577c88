/** Frames of a video file, by their frame numbers, decoded as the pipeline decodes frames for registration. */
import { lastValueFrom, takeWhile, tap } from 'rxjs';
import { decodeVideo, type DecodedFrame } from '../operators/decodeVideo';
import { GeolocError } from './core/errors';
import { probeVideoStream } from './video/ffmpegSource';

/**
 * Frames `frameNumbers` (from 0, the numbering of a fix's `frame`), each a centred crop of
 * `size`'s aspect scaled to it, RGB, from one pass over the video up to the last of them, at
 * `fps` (default the video's own rate: every frame can be asked for; at the rate a pipeline
 * localized at, only the frames it localized are, and the others are not decoded). A number
 * past the video's end, or not among the frames at `fps`, is GEOLOC_ERR_FRAME_NOT_FOUND; a file
 * ffmpeg cannot read, GEOLOC_ERR_SOURCE_UNREADABLE.
 */
export async function readVideoFrames(path: string, frameNumbers: readonly number[], size: { width: number; height: number }, fps?: number): Promise<Map<number, DecodedFrame>> {
  const found = new Map<number, DecodedFrame>();
  if (frameNumbers.length === 0) return found;
  const sourceFps = (await probeVideoStream(path)).fps;
  if (sourceFps === undefined) throw new GeolocError('GEOLOC_ERR_SOURCE_UNREADABLE', `${path} is neither an image nor a video whose frame rate ffprobe can read, so its frame ${frameNumbers[0]} cannot be found`);
  const wanted = new Set(frameNumbers);
  const last = Math.max(...frameNumbers);
  let frames = 0;
  await lastValueFrom(
    decodeVideo(path, { ...size, fps: fps ?? sourceFps, fit: 'crop' }).pipe(
      takeWhile((f) => f.sourceIndex < last, true),
      tap((f) => {
        frames = f.sourceIndex + 1;
        if (wanted.has(f.sourceIndex)) found.set(f.sourceIndex, f);
      }),
    ),
    { defaultValue: undefined },
  );
  const missing = frameNumbers.find((n) => !found.has(n));
  if (missing !== undefined) {
    throw new GeolocError('GEOLOC_ERR_FRAME_NOT_FOUND', `${path} has ${frames} frame${frames === 1 ? '' : 's'} (0 to ${frames - 1}); there is no frame ${missing}: give --frame a number below ${frames}`);
  }
  return found;
}
