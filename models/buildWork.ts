/**
 * The staging folder of an index build, kept across a kill so that a rerun continues where
 * it stopped: each partition cell, once embedded, leaves its FAISS file, its tiles and last a
 * done marker; a rerun with the same build key (model, imagery, settings, grid) skips every
 * cell with a marker, and one with another key starts afresh. A cell an earlier index already
 * holds may be adopted instead: its files linked in unchanged.
 */
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CELL_DIR, cellFile, decodeCatalog, encodeCatalog, type BuildCounts } from './indexFiles';
import { stagingFolder, type TileGeometry } from './indexWriter';

const KEY_FILE = 'build-key.json';
const RESUMABLE = 'resumable';

export interface CellDone {
  cell: number;
  tiles: number;
  holes: number;
  unreadable: number;
}

const tilesFile = (cell: number) => `${CELL_DIR}/cell-${cell}.tiles.bin`;
const doneFile = (cell: number) => `${CELL_DIR}/cell-${cell}.done.json`;

export class BuildWork {
  private constructor(
    readonly dir: string,
    readonly done: Map<number, CellDone>,
  ) {}

  /** The build folder for `out` and `key`, with the cells an interrupted run finished. */
  static async open(out: string, key: string): Promise<BuildWork> {
    const dir = stagingFolder(out, RESUMABLE);
    const keyPath = join(dir, KEY_FILE);
    const sameKey = existsSync(keyPath) && (await readFile(keyPath, 'utf8')) === key;
    if (!sameKey) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, CELL_DIR), { recursive: true });
      await writeFile(keyPath, key);
    }
    const done = new Map<number, CellDone>();
    for (const name of await readdir(join(dir, CELL_DIR))) {
      if (!name.endsWith('.done.json')) continue;
      const record = JSON.parse(await readFile(join(dir, CELL_DIR, name), 'utf8')) as CellDone;
      done.set(record.cell, record);
    }
    return new BuildWork(dir, done);
  }

  /** Where the cell's FAISS file goes (written by the caller before saveCell). */
  faissPath(cell: number): string {
    return join(this.dir, cellFile(cell));
  }

  /** Records a finished cell; its done marker is written last, by rename, so a kill never leaves half a record. */
  async saveCell(cell: number, tiles: TileGeometry[], counts: Omit<CellDone, 'cell' | 'tiles'>): Promise<void> {
    await writeFile(join(this.dir, tilesFile(cell)), encodeCatalog(tiles.map((t, id) => ({ id, ...t, cell }))));
    const record: CellDone = { cell, tiles: tiles.length, ...counts };
    const marker = join(this.dir, doneFile(cell));
    await writeFile(`${marker}.partial`, JSON.stringify(record));
    await rename(`${marker}.partial`, marker);
    this.done.set(cell, record);
  }

  /**
   * Records a cell whose files an earlier index holds: each is hard-linked into the build
   * (copied with its times where a link cannot be made), so its bytes and mtime stay as they were.
   */
  async adoptCell(cell: number, files: { from: string; to: string }[], tiles: TileGeometry[], counts: Omit<CellDone, 'cell' | 'tiles'>): Promise<void> {
    for (const { from, to } of files) {
      const target = join(this.dir, to);
      await mkdir(dirname(target), { recursive: true });
      await rm(target, { force: true });
      try {
        await link(from, target);
      } catch {
        await copyFile(from, target);
        const { atime, mtime } = await stat(from);
        await utimes(target, atime, mtime);
      }
    }
    await this.saveCell(cell, tiles, counts);
  }

  async cellTiles(cell: number): Promise<TileGeometry[]> {
    const record = this.done.get(cell)!;
    const path = join(this.dir, tilesFile(cell));
    return decodeCatalog(await readFile(path), record.tiles, path).map(({ id: _id, cell: _cell, ...t }) => t);
  }

  counts(planned: number): BuildCounts {
    const all = [...this.done.values()].sort((a, b) => a.cell - b.cell);
    const skipped = all.filter((c) => c.holes + c.unreadable > 0).map(({ cell, holes, unreadable }) => ({ cell, holes, unreadable }));
    return { planned, holes: all.reduce((s, c) => s + c.holes, 0), unreadable: all.reduce((s, c) => s + c.unreadable, 0), skipped };
  }

  /** Drops the bookkeeping that is not part of a finished index, just before it is swapped in. */
  async strip(): Promise<void> {
    for (const cell of this.done.keys()) {
      await rm(join(this.dir, tilesFile(cell)), { force: true });
      await rm(join(this.dir, doneFile(cell)), { force: true });
    }
    await rm(join(this.dir, KEY_FILE), { force: true });
  }
}
