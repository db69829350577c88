/**
 * Retrieval for a still photo: its embedding (the model's square input sampled from the photo,
 * turned north-up by its heading when known, as the pipeline's preprocess does for a frame)
 * searched in the satellite index. Each tile proposed is a place to register against, with the
 * flight height its tile scale was cut for.
 */
import type { Frame } from '../pipeline/core/types';
import { writeNorthUp } from '../pipeline/video/northUp';
import type { EmbedderPool } from './embedderPool';
import type { Place } from './locate';
import type { SatelliteIndex } from './satelliteIndex';
import { imageTensorLength, meanColour } from './tensor';

const DEG = Math.PI / 180;
/** a tile's footprint matches its scale's to well under a millimetre: both come from the same numbers */
const FOOTPRINT_TOLERANCE_M = 1e-3;

export async function retrievePlaces(embedder: EmbedderPool, index: SatelliteIndex, rgb: Buffer, width: number, height: number, headingDeg: number | undefined, k: number): Promise<Place[]> {
  const [size] = embedder.info.inputSize;
  const input = new Uint8Array(imageTensorLength(embedder.info));
  const frame: Frame = { index: 0, t: 0, width, height, format: 'rgb24', pixels: rgb };
  writeNorthUp(frame, size, (headingDeg ?? 0) * DEG, meanColour(embedder.info), input, 0);
  const { descriptors } = await embedder.embed(input, 1);
  const [candidates] = await index.search(descriptors, 1, k);
  return (candidates ?? []).map((c) => {
    const scale = index.manifest.scales.find((s) => Math.abs(s.footprintM - c.footprintM) < FOOTPRINT_TOLERANCE_M);
    return { lat: c.lat, lon: c.lon, ...(scale ? { heightM: scale.altitudeM } : {}), source: `tile ${c.tileId} (score ${c.score.toFixed(3)})` };
  });
}
