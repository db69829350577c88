import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The folder holding package.json: sources, fixtures and assets are found from here, not from dist/. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}

/** The generated fixtures (synthetic world, flight, datasets, default index), built by `make setup`. */
export function fixtureCacheDir(): string {
  return join(repoRoot(), 'fixtures', 'cache');
}

/** Where the real data shared beside the project lives (never part of the repository). */
export function sharedDataPath(...parts: string[]): string {
  return join(repoRoot(), '..', 'shared', 'data', ...parts);
}
