import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../pipeline/core/errors';
import { repoRoot } from '../pipeline/core/paths';

const CODE = /GEOLOC_ERR_[A-Z0-9_]+/g;

function documentedCodes(): Set<string> {
  const doc = readFileSync(join(repoRoot(), 'ERRORS.md'), 'utf8');
  return new Set([...doc.matchAll(/^\|\s*`(GEOLOC_ERR_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!));
}

function pythonCodes(): Set<string> {
  const codes = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'tests' && name !== '__pycache__') walk(path);
      } else if (name.endsWith('.py')) {
        for (const m of readFileSync(path, 'utf8').matchAll(CODE)) codes.add(m[0]);
      }
    }
  };
  walk(join(repoRoot(), 'training'));
  return codes;
}

describe('ERRORS.md', () => {
  const documented = documentedCodes();

  test('lists every code the TypeScript side raises', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  test('lists every code the training package raises', () => {
    const missing = [...pythonCodes()].filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  test('lists no code that nothing raises', () => {
    const known = new Set([...Object.keys(ERROR_CODES), ...pythonCodes()]);
    expect([...documented].filter((code) => !known.has(code))).toEqual([]);
  });
});
