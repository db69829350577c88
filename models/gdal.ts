/**
 * The one place geoloc loads GDAL (gdal-async built against Debian's libgdal by
 * models/gdal-native/build.sh). Loaded on first use, so commands that never read imagery
 * do not pay for it, and a missing build is one coded error saying how to make it.
 */
import { createRequire } from 'node:module';
import type { Dataset } from 'gdal-async';
import { GeolocError } from '../pipeline/core/errors';

export type Gdal = typeof import('gdal-async');

/**
 * GDAL's block cache, bytes: what bounds the memory of windowed reads, whatever the image size.
 * An index build reads a cell at a time, and a 1 km cell's source blocks at 0.5 m/px with the
 * widest footprint's margin take ~50 MB decoded: this holds that cell and its neighbour's
 * shared edge. Reading a 2 km COG took the same time with 128 MB as with 256 MB.
 */
export const GDAL_CACHE_BYTES = 128 * 1024 * 1024;

let loaded: Gdal | undefined;

/** Set on gdal-async's native module once its JavaScript has wrapped the native methods. */
const WRAPPED = Symbol.for('geoloc.gdal-async.wrapped');

/**
 * gdal-async's JavaScript wraps the methods of its native module, which a process loads
 * once. Under a runner that gives each test file a module registry of its own, that
 * JavaScript would run again and wrap the wrappers (every windowed read then ignores its
 * buffer size), so once the native module is marked it is used as it stands.
 */
function loadGdalAsync(): Gdal {
  const requireFromPackage = createRequire(require.resolve('gdal-async'));
  const preGyp = requireFromPackage('@mapbox/node-pre-gyp') as { find(packageJson: string): string };
  const native = require(preGyp.find(requireFromPackage.resolve('../package.json'))) as Gdal & { [WRAPPED]?: true };
  if (native[WRAPPED]) return native;
  const wrapped = require('gdal-async') as Gdal & { [WRAPPED]?: true };
  wrapped[WRAPPED] = true;
  return wrapped;
}

export function gdal(): Gdal {
  if (loaded) return loaded;
  try {
    loaded = loadGdalAsync();
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_GDAL_UNAVAILABLE', `GDAL (gdal-async) could not be loaded: ${(cause as Error).message}; run make setup (it builds gdal-async against Debian's libgdal-dev)`, { cause });
  }
  loaded.config.set('GDAL_CACHEMAX', String(Math.round(GDAL_CACHE_BYTES / (1024 * 1024))));
  return loaded;
}

/**
 * Datasets left open are closed when the process exits, each after those built on it (a
 * warped VRT before its source; a later chain, which may read an earlier one's datasets,
 * before that one): GDAL crashes at exit on datasets left to the collector.
 * Returns the function that closes them sooner; it is safe to call twice.
 */
const open = new Set<Dataset[]>();
process.on('exit', () => {
  for (const chain of [...open].reverse()) closeChain(chain);
});

function closeChain(chain: Dataset[]): void {
  for (const dataset of [...new Set(chain)].reverse()) dataset.close();
}

/** `chain` lists each dataset before those that read it. */
export function closeAtExit(chain: Dataset[]): () => void {
  open.add(chain);
  return () => {
    if (open.delete(chain)) closeChain(chain);
  };
}

/** A fresh name under GDAL's in-memory file system, for the VRTs geoloc writes. */
let counter = 0;
export function memoryPath(stem: string, ext = 'vrt'): string {
  counter += 1;
  return `/vsimem/geoloc/${process.pid}-${counter}-${stem}.${ext}`;
}
