import type { FixFeature, FixMatches, PipelineSink } from '../pipeline/core/types';
import type { Gateway } from './server';

/**
 * The gateway as one of a pipeline's sinks: it counts the pipeline's frames and drops on
 * /metrics as they happen, and publishes each fix under `flight`, with its matched points.
 */
export function gatewaySink(gateway: Pick<Gateway, 'metrics' | 'publish'>, flight: string): PipelineSink {
  return {
    frameIn: () => gateway.metrics.framesIn.inc(),
    frameDropped: () => gateway.metrics.framesDropped.inc(),
    fix(feature: FixFeature, latencyMs: number, matches?: FixMatches) {
      gateway.metrics.inferenceLatency.observe(latencyMs);
      gateway.publish(flight, feature, matches);
    },
  };
}
