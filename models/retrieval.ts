/**
 * Retrieval for a still photo: its embedding (the model's square input sampled from the photo,
 * turned north-up by its heading when known, as the pipeline's preprocess does for a frame)
 * searched in the satellite index. Each tile proposed is a place to register against, with the
 * flight height its tile scale was cut for.
 */
import type { Frame } from '../pipeline/core/types';
import type { LatLon } from '../pipeline/geo/wgs84';
import { writeNorthUp } from '../pipeline/video/northUp';
import { EmbedderPool } from './embedderPool';
import { footprintM, PRIOR_GRID_STEP, priorGrid, type Place } from './locate';
import { defaultModelPath } from './modelInfo';
import { SatelliteIndex } from './satelliteIndex';
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

export interface PlaceQuery {
  /** the satellite index folder */
  indexDir: string;
  /** the photo at its own size, packed RGB */
  rgb: Buffer;
  width: number;
  height: number;
  /** a prior circle: a grid over it, nearest its centre first; without one, retrieval proposes tiles */
  near?: LatLon & { radiusM: number };
  /** heights above ground tried; the grid's step follows from the smallest footprint among them */
  heightsM: number[];
  hfovDeg: number;
  pitchDeg: number;
  headingDeg?: number;
  /** how many tiles retrieval proposes */
  k: number;
  /** embedding model for retrieval (default: the embedded model) */
  model?: string;
}

/** Where to register a photo: a grid over the prior circle, or the tiles retrieval ranks highest (the embedder and index opened only for that). */
export async function proposePlaces(q: PlaceQuery): Promise<Place[]> {
  if (q.near) {
    const { near } = q;
    const smallest = Math.min(...q.heightsM.map((h) => footprintM(q, q.hfovDeg, q.pitchDeg, h).heightM));
    return priorGrid(near, near.radiusM, smallest * PRIOR_GRID_STEP, `prior ${near.lat},${near.lon} ±${near.radiusM} m`);
  }
  const embedder = await EmbedderPool.create({ modelPath: q.model ?? defaultModelPath(), providers: ['cpu'] });
  try {
    const index = await SatelliteIndex.open(q.indexDir, { model: embedder.info });
    try {
      return await retrievePlaces(embedder, index, q.rgb, q.width, q.height, q.headingDeg, q.k);
    } finally {
      await index.close();
    }
  } finally {
    await embedder.close();
  }
}
