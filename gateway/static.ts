/**
 * The map page and Leaflet, served from an explicit allow-list read into memory at start:
 * no request path is ever joined onto a folder, so there is nothing to traverse.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../pipeline/core/paths';

export interface StaticAsset {
  body: Buffer;
  contentType: string;
}

const PAGE_DIR = 'gateway/public';
const LEAFLET_DIR = 'node_modules/leaflet/dist';
const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const PNG = 'image/png';

/** URL path → file under the repository root. Leaflet's CSS finds its icons at images/ beside it. */
const ASSETS: Record<string, { file: string; contentType: string }> = {
  '/': { file: `${PAGE_DIR}/index.html`, contentType: HTML },
  '/map.js': { file: `${PAGE_DIR}/map.js`, contentType: JS },
  '/map.css': { file: `${PAGE_DIR}/map.css`, contentType: CSS },
  '/vendor/leaflet/leaflet.js': { file: `${LEAFLET_DIR}/leaflet.js`, contentType: JS },
  '/vendor/leaflet/leaflet.css': { file: `${LEAFLET_DIR}/leaflet.css`, contentType: CSS },
  '/vendor/leaflet/images/layers.png': { file: `${LEAFLET_DIR}/images/layers.png`, contentType: PNG },
  '/vendor/leaflet/images/layers-2x.png': { file: `${LEAFLET_DIR}/images/layers-2x.png`, contentType: PNG },
  '/vendor/leaflet/images/marker-icon.png': { file: `${LEAFLET_DIR}/images/marker-icon.png`, contentType: PNG },
  '/vendor/leaflet/images/marker-icon-2x.png': { file: `${LEAFLET_DIR}/images/marker-icon-2x.png`, contentType: PNG },
  '/vendor/leaflet/images/marker-shadow.png': { file: `${LEAFLET_DIR}/images/marker-shadow.png`, contentType: PNG },
};

export async function loadStaticAssets(): Promise<Map<string, StaticAsset>> {
  const root = repoRoot();
  const entries = await Promise.all(
    Object.entries(ASSETS).map(async ([urlPath, { file, contentType }]) => [urlPath, { body: await readFile(join(root, file)), contentType }] as const),
  );
  return new Map(entries);
}
