/** GDAL's command-line tools (Debian's gdal-bin), to write test rasters in every format. */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeSyntheticGeoImage, type SyntheticImageOptions } from './syntheticImagery';

/** Runs a GDAL tool (or another command) and throws with its stderr when it fails. */
export function gdalTool(tool: string, ...args: string[]): string {
  const run = spawnSync(tool, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${run.status}): ${run.stderr}${run.error?.message ?? ''}`);
  return run.stdout;
}

/** The synthetic image (PNG + world file, EPSG:4326) and that image as a GeoTIFF with its CRS stated. */
export async function syntheticGeoTiff(dir: string, o: SyntheticImageOptions): Promise<{ png: string; tif: string }> {
  mkdirSync(dir, { recursive: true });
  const png = await writeSyntheticGeoImage(dir, o);
  const tif = join(dir, `synthetic-${o.seed}.tif`);
  gdalTool('gdal_translate', '-q', '-a_srs', 'EPSG:4326', png, tif);
  return { png, tif };
}
