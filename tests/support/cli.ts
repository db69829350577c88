import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../pipeline/core/paths';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** stderr so far */
  stderr(): string;
  stdout(): string;
  done: Promise<CliResult>;
}

/** The compiled `geoloc` CLI, as the npm bin runs it. */
export const CLI_PATH = join(repoRoot(), 'dist', 'pipeline', 'cli.js');

/** Starts `geoloc <args>` as users do: the compiled CLI in its own Node process. */
export function startCli(args: string[], options: { stdin?: Buffer | 'pipe' } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: repoRoot(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (Buffer.isBuffer(options.stdin)) child.stdin!.end(options.stdin);
  else if (options.stdin !== 'pipe') child.stdin!.end();
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, stderr: () => stderr, stdout: () => stdout, done };
}

export function runCli(args: string[], options: { stdin?: Buffer } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Every line of a JSONL text parsed; throws on a partial or invalid line. */
export function parseJsonl(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((line, i, all) => line !== '' || i < all.length - 1)
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, any>;
      } catch {
        throw new Error(`line ${i + 1} is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
      }
    });
}

export function readJsonl(path: string): Array<Record<string, any>> {
  return parseJsonl(readFileSync(path, 'utf8'));
}

/** A GeoJSON fix as the contract states it. */
export function expectFix(feature: Record<string, any>): void {
  expect(feature).toMatchObject({ type: 'Feature', geometry: { type: 'Point' }, properties: { flight: expect.any(String), frame: expect.any(Number), t: expect.any(Number), radiusM: expect.any(Number), confidence: expect.any(Number) } });
  const [lon, lat] = feature.geometry.coordinates as number[];
  expect(Math.abs(lon!)).toBeLessThanOrEqual(180);
  expect(Math.abs(lat!)).toBeLessThanOrEqual(90);
}
