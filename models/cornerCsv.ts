/**
 * The wildnav tile-folder layout: images beside a CSV of their corner coordinates
 * (Filename, Top_left_lat, Top_left_lon, Bottom_right_lat, Bottom_right_lon), each image an
 * axis-aligned EPSG:4326 raster whose corners are the outer corners of its edge pixels.
 */
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GeolocError } from '../pipeline/core/errors';

export const TILE_FOLDER_CSV = 'map.csv';
const CORNER_COLUMNS = {
  file: ['filename', 'file', 'image'],
  topLeftLat: ['topleftlat'],
  topLeftLon: ['topleftlon', 'topleftlong', 'topleftlng'],
  bottomRightLat: ['bottomrightlat'],
  bottomRightLon: ['bottomrightlon', 'bottomrightlong', 'bottomrightlng'],
} as const;

export interface CornerRow {
  file: string;
  topLeftLat: number;
  topLeftLon: number;
  bottomRightLat: number;
  bottomRightLon: number;
}

/** map.csv, or the only CSV in the folder. */
async function findCornerCsv(folder: string): Promise<string> {
  const preferred = join(folder, TILE_FOLDER_CSV);
  if (existsSync(preferred)) return preferred;
  const csvs = (await readdir(folder)).filter((f) => f.toLowerCase().endsWith('.csv'));
  if (csvs.length === 1) return join(folder, csvs[0]!);
  throw new GeolocError(
    'GEOLOC_ERR_TILE_FOLDER',
    `tile folder ${folder} has ${csvs.length === 0 ? 'no CSV' : `${csvs.length} CSVs and no ${TILE_FOLDER_CSV}`}; add ${TILE_FOLDER_CSV} with columns Filename, Top_left_lat, Top_left_lon, Bottom_right_lat, Bottom_right_lon`,
  );
}

const unquote = (cell: string) => cell.trim().replace(/^"(.*)"$/, '$1').trim();
const columnKey = (name: string) => unquote(name).toLowerCase().replace(/[^a-z]/g, '');

export async function readCornerCsv(folder: string): Promise<{ csv: string; rows: CornerRow[] }> {
  const csv = await findCornerCsv(folder);
  const lines = (await readFile(csv, 'utf8')).split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = (lines[0] ?? '').split(',').map(columnKey);
  const column = {} as Record<keyof CornerRow, number>;
  for (const [field, aliases] of Object.entries(CORNER_COLUMNS) as [keyof CornerRow, readonly string[]][]) {
    const at = header.findIndex((h) => aliases.includes(h));
    if (at < 0) throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} has no ${field} column (its header is ${JSON.stringify(lines[0] ?? '')}); expected Filename, Top_left_lat, Top_left_lon, Bottom_right_lat, Bottom_right_lon`);
    column[field] = at;
  }
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',').map(unquote);
    const number = (field: Exclude<keyof CornerRow, 'file'>) => {
      const value = Number(cells[column[field]]);
      if (cells[column[field]] === undefined || cells[column[field]] === '' || !Number.isFinite(value)) {
        throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} line ${i + 2}: ${field} is ${JSON.stringify(cells[column[field]] ?? '')}, not a number`);
      }
      return value;
    };
    const row: CornerRow = { file: cells[column.file] ?? '', topLeftLat: number('topLeftLat'), topLeftLon: number('topLeftLon'), bottomRightLat: number('bottomRightLat'), bottomRightLon: number('bottomRightLon') };
    if (!row.file || row.topLeftLat <= row.bottomRightLat || row.topLeftLon >= row.bottomRightLon) {
      throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} line ${i + 2}: needs a file name and a top-left corner north-west of the bottom-right one`);
    }
    return row;
  });
  if (rows.length === 0) throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} lists no images`);
  return { csv, rows };
}
