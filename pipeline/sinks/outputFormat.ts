import type { FixFeature } from '../core/types';
export interface OutputFormat {
  /** the output's name in logs and metrics: 'nmea', 'mavlink', 'cot' */
  readonly name: string;
  /** the messages for one fix (none: send nothing) */
  encodeFix(feature: FixFeature, now: Date): Buffer[];
  /** messages sent on a timer whatever the fixes (MAVLink's 1 Hz HEARTBEAT) */
  readonly periodic?: { intervalMs: number; encode(now: Date): Buffer[] };
}
