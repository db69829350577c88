import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../pipeline/core/paths';
import { importsOf, layerOf, wrongWayImports } from './support/layers';

/** The project's TypeScript sources, as git tracks them. */
function sources(): string[] {
  return execFileSync('git', ['ls-files', '*.ts'], { cwd: repoRoot(), encoding: 'utf8' })
    .split('\n')
    .filter((path) => path !== '');
}

describe('layers', () => {
  const files = sources();
  const graph = new Map(files.map((file) => [file, importsOf(file, readFileSync(join(repoRoot(), file), 'utf8'))]));

  test('every source file belongs to a layer', () => {
    expect(files.filter((file) => layerOf(file) === undefined)).toEqual([]);
  });

  test('imports point down the layers, never up or sideways, and nothing imports an entry point', () => {
    expect(wrongWayImports(graph)).toEqual([]);
  });

  test('the rule catches a wrong-way arrow and names the file', () => {
    const wrong = new Map([
      ['pipeline/core/log.ts', ['pipeline/geo/wgs84.ts']],
      ['pipeline/tracking/types.ts', ['models/satelliteIndex.ts']],
      ['pipeline/video/northUp.ts', ['pipeline/tracking/types.ts']],
      ['operators/searchIndex.ts', ['gateway/server.ts']],
      ['pipeline/replay.ts', ['pipeline/commands/run.ts']],
      ['bench/replay-throughput.ts', ['pipeline/commands/demo.ts']],
      ['models/tensor.ts', ['tests/support/coded.ts']],
    ]);
    expect(wrongWayImports(wrong)).toEqual([
      'pipeline/core/log.ts (core) imports pipeline/geo/wgs84.ts (geo): core may import nothing of the repo',
      'pipeline/tracking/types.ts (tracking) imports models/satelliteIndex.ts (models): tracking may import core, geo',
      'pipeline/video/northUp.ts (video) imports pipeline/tracking/types.ts (tracking): video may import core, geo',
      'operators/searchIndex.ts (operators) imports gateway/server.ts (gateway): operators may import core, geo, video, telemetry, tracking, nats, models',
      'pipeline/replay.ts (composition) imports pipeline/commands/run.ts (entry points): only entry points import entry points',
      'bench/replay-throughput.ts (bench) imports pipeline/commands/demo.ts (entry points): only entry points import entry points',
      'models/tensor.ts (models) imports tests/support/coded.ts (tests): the product never imports tests or benchmarks',
    ]);
  });

  test('imports are read from every form: static, type-only, re-export, dynamic and require', () => {
    const text = [
      "import { a } from './a';",
      "import type { B } from '../pipeline/core/types';",
      "export { c } from './c';",
      "const d = await import('./d');",
      "const e = require('./e');",
      "import { readFileSync } from 'node:fs';",
      "import { map } from 'rxjs';",
    ].join('\n');
    expect(importsOf('operators/x.ts', text)).toEqual(['operators/a.ts', 'pipeline/core/types.ts', 'operators/c.ts', 'operators/d.ts', 'operators/e.ts']);
  });

  test('a folder import means its index module', () => {
    expect(importsOf('pipeline/replay.ts', "import { readTelemetry } from './telemetry';")).toEqual(['pipeline/telemetry/index.ts']);
  });
});
