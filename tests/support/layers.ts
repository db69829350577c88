/**
 * The direction imports follow (README, "Layout"): each layer may import the layers below it
 * and its own folder, never one above or beside it; nothing but an entry point imports an
 * entry point; the product never imports tests or benchmarks.
 */
import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { repoRoot } from '../../pipeline/core/paths';

interface Layer {
  name: string;
  /** lower imports nothing of higher; equal ranks are beside each other and import nothing of each other */
  rank: number;
  matches(file: string): boolean;
}

const ENTRY_RANK = 6;
const TEST_RANK = 7;

const isTest = (file: string) => file.endsWith('.test.ts');
const isEntry = (file: string) => /(^|\/)commands\//.test(file) || file === 'pipeline/cli.ts' || file === 'fixtures/cli.ts';
const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`) && !isEntry(file) && !isTest(file);

/** Bottom to top. The first layer that matches a file is its own. */
const LAYERS: Layer[] = [
  { name: 'tests', rank: TEST_RANK, matches: (file) => file.startsWith('tests/') || isTest(file) },
  { name: 'bench', rank: TEST_RANK, matches: (file) => file.startsWith('bench/') },
  { name: 'entry points', rank: ENTRY_RANK, matches: isEntry },
  { name: 'core', rank: 0, matches: under('pipeline/core') },
  { name: 'geo', rank: 1, matches: under('pipeline/geo') },
  { name: 'video', rank: 2, matches: under('pipeline/video') },
  { name: 'telemetry', rank: 2, matches: under('pipeline/telemetry') },
  { name: 'tracking', rank: 2, matches: under('pipeline/tracking') },
  { name: 'nats', rank: 2, matches: under('pipeline/nats') },
  { name: 'models', rank: 3, matches: under('models') },
  { name: 'operators', rank: 4, matches: under('operators') },
  { name: 'gateway', rank: 4, matches: under('gateway') },
  { name: 'sinks', rank: 4, matches: under('pipeline/sinks') },
  { name: 'fixtures', rank: 4, matches: under('fixtures') },
  { name: 'composition', rank: 5, matches: (file) => /^pipeline\/[^/]+\.ts$/.test(file) && !isEntry(file) && !isTest(file) },
];

export function layerOf(file: string): Layer | undefined {
  return LAYERS.find((layer) => layer.matches(file));
}

const IMPORT_FORMS = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g];

/** The repository files `file` imports (relative specifiers only: packages and node: modules are not ours). */
export function importsOf(file: string, text: string): string[] {
  const found: { at: number; target: string }[] = [];
  for (const form of IMPORT_FORMS) {
    for (const match of text.matchAll(form)) {
      const specifier = match[1]!;
      if (!specifier.startsWith('.')) continue;
      const base = normalize(join(dirname(file), specifier));
      const asFolder = join(base, 'index.ts');
      found.push({ at: match.index, target: !existsSync(join(repoRoot(), `${base}.ts`)) && existsSync(join(repoRoot(), asFolder)) ? asFolder : `${base}.ts` });
    }
  }
  return found.sort((a, b) => a.at - b.at).map(({ target }) => target);
}

function allowedBelow(layer: Layer): string {
  const names = LAYERS.filter((other) => other.rank < layer.rank).map((other) => other.name);
  return names.length > 0 ? `${layer.name} may import ${names.join(', ')}` : `${layer.name} may import nothing of the repo`;
}

/** Why `from` may not import `to`, or undefined when it may. */
function refusal(from: string, to: string): string | undefined {
  const source = layerOf(from);
  const target = layerOf(to);
  if (!source || !target) return undefined;
  if (target.rank === TEST_RANK) return source.rank === TEST_RANK ? undefined : 'the product never imports tests or benchmarks';
  if (target.rank === ENTRY_RANK) {
    // a command's own unit test sits beside it
    const ownTest = from === to.replace(/\.ts$/, '.test.ts');
    return source.rank === ENTRY_RANK || ownTest ? undefined : 'only entry points import entry points';
  }
  if (source === target || target.rank < source.rank) return undefined;
  return allowedBelow(source);
}

/** One line per import that goes the wrong way: the file, its layer, what it imports and the rule. */
export function wrongWayImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const lines: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const why = refusal(from, to);
      if (why) lines.push(`${from} (${layerOf(from)!.name}) imports ${to} (${layerOf(to)!.name}): ${why}`);
    }
  }
  return lines;
}
