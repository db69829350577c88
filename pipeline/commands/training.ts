/**
 * `geoloc train | evaluate | export` hand over to the Python training package, which owns
 * their options; `--help` is passed through so the package describes them itself.
 */
import { existsSync } from 'node:fs';
import { GeolocError } from '../core/errors';
import { handOverTo } from '../core/handOver';
import { repoRoot } from '../core/paths';
import type { Command } from './command';

/** Debian's interpreter, which has python3-torch; another python3 may come first on PATH. */
export const TRAINING_PYTHON = process.env.GEOLOC_PYTHON ?? '/usr/bin/python3';

export function runTrainingPackage(subcommand: string, argv: string[]): Promise<number> {
  if (!existsSync(TRAINING_PYTHON)) {
    throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `${TRAINING_PYTHON} does not exist; run \`make setup\` (or set GEOLOC_PYTHON to a Python with PyTorch)`);
  }
  return handOverTo(TRAINING_PYTHON, ['-m', 'training', subcommand, ...argv], { cwd: repoRoot() });
}

function handOver(name: string, summary: string): Command {
  return {
    name: [name],
    summary,
    usage: `usage: geoloc ${name} [options]`,
    passHelpThrough: true,
    run: (argv) => runTrainingPackage(name, argv),
  };
}

export const trainCommand = handOver('train', 'train SPE-Net (Python training package; config file + overrides)');
export const evaluateCommand = handOver('evaluate', 'evaluate a checkpoint by the official University-1652 / SUES-200 protocols');
export const exportCommand = handOver('export', 'export a checkpoint to ONNX with the metadata the pipeline reads');
