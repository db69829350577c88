/**
 * Map tiles a tile cache already holds, returned as stored (no decode, no re-encode): the
 * file {z}/{x}/{y}.png|jpg of an XYZ folder, or the tile_data row of an MBTiles (whose rows
 * count from the south: TMS). Undefined when the imagery is no cache or lacks that tile.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset } from 'gdal-async';
import { closeAtExit, gdal } from './gdal';
import type { Imagery } from './imagerySource';

export interface StoredTile {
  body: Buffer;
  /** its media type, from its own bytes */
  type: string;
}

const XYZ_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp'];
const SIGNATURES: [number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47], 'image/png'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
  [[0x52, 0x49, 0x46, 0x46], 'image/webp'],
];

function mediaType(body: Buffer): string | undefined {
  return SIGNATURES.find(([magic]) => magic.every((b, i) => body[i] === b))?.[1];
}

const tables = new WeakMap<Imagery, Dataset>();

/** The MBTiles as the SQLite database it is (GDAL's raster driver offers no access to stored tiles). */
function mbtilesTable(imagery: Imagery): Dataset {
  let ds = tables.get(imagery);
  if (!ds) {
    ds = gdal().open(`SQLITE:${imagery.path}`, 'r', ['SQLite']);
    closeAtExit([ds]);
    tables.set(imagery, ds);
  }
  return ds;
}

export async function storedTile(imagery: Imagery, { z, x, y }: { z: number; x: number; y: number }): Promise<StoredTile | undefined> {
  let body: Buffer | undefined;
  if (imagery.kind === 'xyz-folder') {
    const file = XYZ_EXTENSIONS.map((ext) => join(imagery.path, String(z), String(x), `${y}.${ext}`)).find((f) => existsSync(f));
    body = file ? await readFile(file) : undefined;
  } else if (imagery.kind === 'mbtiles') {
    const tmsRow = 2 ** z - 1 - y;
    const layer = mbtilesTable(imagery).executeSQL(`SELECT tile_data FROM tiles WHERE zoom_level = ${z} AND tile_column = ${x} AND tile_row = ${tmsRow}`);
    const feature = layer.features.first();
    const data = feature?.fields.get('tile_data') as unknown;
    body = data instanceof Uint8Array ? Buffer.from(data) : undefined;
  }
  const type = body && mediaType(body);
  return body && type ? { body, type } : undefined;
}
