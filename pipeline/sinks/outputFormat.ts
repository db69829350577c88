import type { FixFeature } from '../core/types';

/**
 * An output's encoder: what goes on the wire for each fix. An OutputSink runs one format over
 * one transport (UDP, TCP, a file) with its own rate limit, queue and reconnects; a format only
 * turns fixes into messages.
 */
export interface OutputFormat {
  /** the output's name in logs and metrics: 'nmea', 'mavlink', 'cot' */
  readonly name: string;
  /** the messages for one fix (none: send nothing) */
  encodeFix(feature: FixFeature, now: Date): Buffer[];
  /** messages sent on a timer whatever the fixes (MAVLink's 1 Hz HEARTBEAT) */
  readonly periodic?: { intervalMs: number; encode(now: Date): Buffer[] };
}
