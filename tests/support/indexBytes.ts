/** Every file of an index folder but its manifest (whose createdAt differs between builds), by relative path. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../../models/indexFiles';

export function indexBytes(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = join(sub, name);
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else if (rel !== MANIFEST_FILE) files.set(rel, readFileSync(join(dir, rel)));
    }
  };
  walk('');
  return files;
}

/** The relative paths whose bytes differ between two index folders (or that only one has). */
export function indexDifferences(a: string, b: string): string[] {
  const left = indexBytes(a);
  const right = indexBytes(b);
  const names = new Set([...left.keys(), ...right.keys()]);
  return [...names].filter((n) => !left.get(n) || !right.get(n) || !left.get(n)!.equals(right.get(n)!)).sort();
}
