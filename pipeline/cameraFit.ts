/**
 * Whether the running camera fits the index it is matched against: an index cut for another
 * field of view, frame shape or altitude band holds tiles of the wrong size, which retrieval
 * matches poorly. Said once per run, as a warning naming what differs and the flags to rebuild with.
 */
import { cameraMisfits, rebuildFlags } from '../models/indexCamera';
import type { IndexManifest } from '../models/indexFiles';
import type { Logger } from './core/log';
import { probeVideoStream } from './video/ffmpegSource';
import { sourceKind } from './video/sourceKind';

export interface CameraFacts {
  /** index folder, for the rebuild command */
  indexDir: string;
  manifest: IndexManifest;
  /** the video source: a file's frame shape is probed */
  source: string;
  /** field of view across the frame's shorter side (tracker.cameraFovDeg), degrees */
  shortSideFovDeg: number;
  /** altitudes above ground telemetry reports, metres */
  altitudesM?: number[];
}

/** Logs GEOLOC_ERR_CAMERA_MISMATCH once when the camera does not fit; never rejects. */
export async function warnIfCameraMisfits(facts: CameraFacts, logger: Logger): Promise<void> {
  const { camera, altitudesM } = facts.manifest.settings;
  if (!camera) return;
  const stream = sourceKind(facts.source) === 'file' ? await probeVideoStream(facts.source) : {};
  const observed = {
    shortSideFovDeg: facts.shortSideFovDeg,
    ...(stream.width && stream.height ? { aspect: stream.width / stream.height } : {}),
    ...(facts.altitudesM ? { altitudesM: facts.altitudesM } : {}),
  };
  const misfits = cameraMisfits(camera, altitudesM, observed);
  if (misfits.length === 0) return;
  logger.log({
    level: 'warn',
    code: 'GEOLOC_ERR_CAMERA_MISMATCH',
    message:
      `the camera does not fit the index ${facts.indexDir}: ${misfits.join('; ')}. Fixes will be poorer; rebuild the index for this camera with ` +
      `geoloc index build --imagery <map> --out ${facts.indexDir} ${rebuildFlags(camera, altitudesM, observed)}, or give the camera's field of view (--hfov, --aspect) if it is not the one assumed`,
  });
}
