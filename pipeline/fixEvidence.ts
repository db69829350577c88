/**
 * A fix's evidence: the tile retrieval ranked first and how it was searched, what the frame's
 * registration found (or why it found nothing), and the frame's footprint on the ground. The
 * matched points are returned apart: they are served beside the fix, not on it.
 */
import { GeolocError } from './core/errors';
import type { FixMatches, RegistrationEvidence } from './core/types';
import { PinholeCamera, groundLatLon } from '../fixtures/render/camera';
import type { Measurement, TrackEstimate } from './tracking/types';

/** The frame the fixes describe: its size and horizontal field of view. */
export interface EvidenceCamera {
  width: number;
  height: number;
  hfovDeg: number;
}

export interface GeoJsonPolygon {
  type: 'Polygon';
  coordinates: [number, number][][];
}

export interface FixEvidence {
  /** the top candidate: its tile and whether it came from a search of the track's region or of the whole index */
  tile?: { id: number; search: 'region' | 'global' };
  /** registered frames: what proposed the place it registered at */
  proposedBy?: string;
  /** frames that did not register: why */
  registrationFailed?: string;
  /** the frame's outline on the ground, corners clockwise from its top-left, closed */
  footprint?: GeoJsonPolygon;
  /** 'registration': the corners through the fit; 'camera': through the camera model at the estimate */
  footprintFrom?: 'registration' | 'camera';
  /** why there is no footprint */
  footprintMissing?: string;
  /** matched points kept for this fix (served beside it) */
  matches: number;
}

/** Nadir in the DJI convention: camera pitch is measured from it, forward. */
const NADIR_PITCH_DEG = -90;
/** ~1 cm, as the fix's own coordinates */
const COORD_DECIMALS = 7;

const round = (value: number) => Number(value.toFixed(COORD_DECIMALS));

function polygon(corners: { lat: number; lon: number }[]): GeoJsonPolygon {
  const ring = [...corners, corners[0]!].map((c): [number, number] => [round(c.lon), round(c.lat)]);
  return { type: 'Polygon', coordinates: [ring] };
}

export function fixEvidence(
  estimate: TrackEstimate,
  measurement: Measurement & { registrationEvidence?: RegistrationEvidence },
  camera: EvidenceCamera,
): { evidence: FixEvidence; matches?: FixMatches } {
  const top = estimate.top1 ?? measurement.candidates[0];
  const evidence: FixEvidence = { matches: 0 };
  if (top) evidence.tile = { id: top.tileId, search: measurement.searchRegion ? 'region' : 'global' };
  const registered = measurement.registrationEvidence;
  if (measurement.registration && 'failed' in measurement.registration) evidence.registrationFailed = measurement.registration.failed;
  if (registered) {
    evidence.proposedBy = registered.proposedBy;
    evidence.footprint = polygon(registered.footprint);
    evidence.footprintFrom = 'registration';
    evidence.matches = registered.points.length;
    const { frameWidth, frameHeight, points } = registered;
    return { evidence, matches: { frameWidth, frameHeight, points } };
  }
  const projected = cameraFootprint(estimate, measurement, camera);
  if (typeof projected === 'string') evidence.footprintMissing = projected;
  else {
    evidence.footprint = polygon(projected);
    evidence.footprintFrom = 'camera';
  }
  return { evidence };
}

/**
 * The frame's corners projected to flat ground by a pinhole camera standing at the estimate,
 * its top facing telemetry's heading, at telemetry's altitude and gimbal pitch (nadir without
 * one, as the tracker assumes); or why that cannot be drawn.
 */
function cameraFootprint(estimate: TrackEstimate, m: Measurement, camera: EvidenceCamera): { lat: number; lon: number }[] | string {
  if (m.altitudeM === undefined || !(m.altitudeM > 0)) return 'no altitude above ground from telemetry';
  if (m.headingDeg === undefined) return 'no camera heading from telemetry';
  const pitchDeg = m.gimbalPitchDeg !== undefined ? m.gimbalPitchDeg - NADIR_PITCH_DEG : 0;
  let pinhole: PinholeCamera;
  try {
    pinhole = new PinholeCamera({ ...camera, pitchDeg });
  } catch (err) {
    if (err instanceof GeolocError) return `the camera model cannot project this frame: ${err.message}`;
    throw err;
  }
  const pose = { lat: estimate.lat, lon: estimate.lon, altM: m.altitudeM, headingDeg: m.headingDeg };
  const { width, height } = camera;
  const corners = [groundLatLon(pinhole, pose, 0, 0), groundLatLon(pinhole, pose, width, 0), groundLatLon(pinhole, pose, width, height), groundLatLon(pinhole, pose, 0, height)];
  if (corners.some((c) => c === null)) return 'the frame reaches above the horizon';
  return corners as { lat: number; lon: number }[];
}
