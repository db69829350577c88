/** Fixes as the pipeline makes them (tracker → toFixFeature), from a simulated flight: input for the output encoders' tests. */
import type { FixFeature } from '../../pipeline/core/types';
import { toFixFeature } from '../../pipeline/fixFeature';
import { TrackFilter } from '../../pipeline/tracking/trackFilter';
import { SIMULATED_CAMERA_FOV_DEG, simulateFlight } from './trackingSimulation';

/** One fix per simulated frame of `durationS` seconds: re-localizing at first, then tracking. */
export function simulatedFixes(flight: string, durationS: number, latencyMs: number): FixFeature[] {
  const filter = new TrackFilter({ cameraFovDeg: SIMULATED_CAMERA_FOV_DEG });
  return simulateFlight({ seed: 1, durationS }).flatMap((fix) => {
    const estimate = filter.update(fix.measurement);
    return estimate ? [toFixFeature(estimate, flight, latencyMs)] : [];
  });
}
