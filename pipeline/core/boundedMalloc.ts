/**
 * glibc's malloc gives each thread that allocates an arena of its own (up to eight per core),
 * keeps in each arena what its threads freed, and after a large block is freed serves blocks of
 * that size from the arenas instead of fresh mappings. A long job whose native threads allocate
 * and free large buffers all the time (an index build: GDAL's readers, ONNX Runtime's embedding
 * and XFeat workers) then grows cell after cell. glibc reads these settings once, as the process
 * starts, so a command that needs them runs itself again with them set; any the caller set
 * already is kept.
 */

/**
 * Two arenas, and blocks of 128 KiB and more always mapped afresh and unmapped when freed
 * (glibc's starting threshold, held fixed). A 10 km index build (ViT-S/14, two embedding
 * workers, 2 cores) after 14 minutes: 1.48 GiB of RSS and rising with glibc's defaults, 1.30 GiB
 * with the two arenas alone, 1.11–1.18 GiB over the last 7 minutes with both.
 */
export const BOUNDED_MALLOC: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: String(128 * 1024),
};

/** The variables to add to `env` for bounded malloc: those the caller has not set, none where glibc is not the allocator. */
export function boundedMallocEnv(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Record<string, string> {
  if (platform !== 'linux') return {};
  return Object.fromEntries(Object.entries(BOUNDED_MALLOC).filter(([name]) => env[name] === undefined));
}
