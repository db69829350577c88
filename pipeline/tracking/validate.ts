/** Checks a measurement before it touches the filter, so a bad one leaves the state as it was. */
import { GeolocError } from '../core/errors';
import type { Measurement } from './types';

/** Scores are inner products of unit vectors; a little float slack beyond ±1 is allowed. */
const SCORE_SLACK = 0.01;
/** Camera pitch range the filter can use: straight down up to (not including) the horizon. */
const NADIR_PITCH_DEG = -90;
const HORIZON_PITCH_DEG = 0;

function refuse(what: string, fix: string): never {
  throw new GeolocError('GEOLOC_ERR_TRACK_INPUT', `${what}; ${fix}`);
}

const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Throws GEOLOC_ERR_TRACK_INPUT naming the field when `m` cannot be used after time `lastT`. */
export function validateMeasurement(m: Measurement, lastT: number | undefined): void {
  if (typeof m !== 'object' || m === null) refuse(`a measurement is ${String(m)}`, 'pass {frame, t, candidates}');
  const at = `measurement for frame ${String(m.frame)}`;
  if (!isFiniteNumber(m.frame)) refuse(`${at}: frame is not a finite number`, 'number frames from the source');
  if (!isFiniteNumber(m.t)) refuse(`${at}: t is ${String(m.t)}`, 'give the frame time in seconds');
  if (lastT !== undefined && m.t < lastT) {
    refuse(`${at}: t = ${m.t} s is before the previous measurement's ${lastT} s`, 'feed measurements in time order, or reset() the filter when the source restarts');
  }
  if (!Array.isArray(m.candidates)) refuse(`${at}: candidates is not an array`, 'pass the search results (an empty array when there are none)');
  m.candidates.forEach((c, j) => {
    const field = `${at}: candidates[${j}]`;
    if (typeof c !== 'object' || c === null) refuse(`${field} is ${String(c)}`, 'pass {tileId, score, lat, lon, footprintM}');
    if (!isFiniteNumber(c.lat) || c.lat < -90 || c.lat > 90) refuse(`${field}.lat is ${String(c.lat)}`, 'give WGS84 degrees in [-90, 90]');
    if (!isFiniteNumber(c.lon) || c.lon < -180 || c.lon > 180) refuse(`${field}.lon is ${String(c.lon)}`, 'give WGS84 degrees in [-180, 180]');
    if (!isFiniteNumber(c.score) || Math.abs(c.score) > 1 + SCORE_SLACK) {
      refuse(`${field}.score is ${String(c.score)}`, 'scores are inner products of unit embeddings in [-1, 1] (not L2 distances)');
    }
    if (!isFiniteNumber(c.footprintM) || c.footprintM <= 0) refuse(`${field}.footprintM is ${String(c.footprintM)}`, "give the tile's ground size in metres (> 0)");
  });
  if (m.altitudeM !== undefined && !isFiniteNumber(m.altitudeM)) refuse(`${at}: altitudeM is ${String(m.altitudeM)}`, 'omit altitudeM when telemetry has none');
  if (m.gimbalPitchDeg !== undefined && !(isFiniteNumber(m.gimbalPitchDeg) && m.gimbalPitchDeg >= NADIR_PITCH_DEG && m.gimbalPitchDeg < HORIZON_PITCH_DEG)) {
    refuse(`${at}: gimbalPitchDeg is ${String(m.gimbalPitchDeg)}`, 'give the camera pitch in [-90, 0) degrees (-90 looks straight down), or omit it');
  }
  const region = m.searchRegion;
  if (region !== undefined) {
    const valid = typeof region === 'object' && region !== null && isFiniteNumber(region.lat) && isFiniteNumber(region.lon) && isFiniteNumber(region.radiusM) && region.radiusM > 0;
    if (!valid || Math.abs(region.lat) > 90 || Math.abs(region.lon) > 180) {
      refuse(`${at}: searchRegion is ${JSON.stringify(region)}`, 'pass the {lat, lon, radiusM} the search was restricted to, or omit it for a global search');
    }
  }
  const reg = m.registration;
  if (reg !== undefined && !('failed' in reg)) {
    const [nn, ne, ee] = Array.isArray(reg.covarianceM2) ? reg.covarianceM2 : [];
    const positiveDefinite = isFiniteNumber(nn) && isFiniteNumber(ne) && isFiniteNumber(ee) && nn >= 0 && ee >= 0 && nn * ee - ne * ne >= 0;
    if (!isFiniteNumber(reg.lat) || !isFiniteNumber(reg.lon) || Math.abs(reg.lat) > 90 || Math.abs(reg.lon) > 180 || !positiveDefinite) {
      refuse(`${at}: registration is ${JSON.stringify(reg)}`, 'give WGS84 degrees and a covariance [nn, ne, ee] in m² (positive semi-definite), or {failed: reason}');
    }
  }
  if (m.headingDeg !== undefined && !isFiniteNumber(m.headingDeg)) refuse(`${at}: headingDeg is ${String(m.headingDeg)}`, 'omit headingDeg when telemetry has none');
}
