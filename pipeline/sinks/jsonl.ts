import { closeSync, openSync, writeSync } from 'node:fs';
import { GeolocError } from '../core/errors';
import type { FixFeature, PipelineSink } from '../core/types';

/**
 * Writes one JSON value per line. Each line goes out in a single write call, so whatever stops
 * the process (an error, a signal, SIGKILL) leaves a file of complete lines only.
 */
export class JsonlWriter implements PipelineSink {
  private fd: number | undefined;
  /** a stream's failure (stdout closed by its reader: EPIPE), raised at the next write */
  private streamError: Error | undefined;
  lines = 0;

  private constructor(
    readonly target: string,
    fd: number | undefined,
    private readonly stream?: NodeJS.WritableStream,
  ) {
    this.fd = fd;
    stream?.on('error', (err: Error) => (this.streamError = err));
  }

  /** A file (created or truncated), or stdout when `path` is undefined or "-". */
  static open(path?: string): JsonlWriter {
    if (path === undefined || path === '-') return new JsonlWriter('stdout', undefined, process.stdout);
    try {
      return new JsonlWriter(path, openSync(path, 'w'));
    } catch (cause) {
      throw new GeolocError('GEOLOC_ERR_OUTPUT_WRITE', `cannot write fixes to ${path} (${(cause as Error).message}); check the folder exists and is writable`, { cause });
    }
  }

  /** As a pipeline's sink: one fix a line. */
  fix(feature: FixFeature): void {
    this.write(feature);
  }

  write(value: unknown): void {
    const line = JSON.stringify(value) + '\n';
    try {
      if (this.streamError) throw this.streamError;
      if (this.stream) this.stream.write(line);
      else if (this.fd !== undefined) writeSync(this.fd, line);
      else throw new Error('the writer is closed');
    } catch (cause) {
      throw new GeolocError('GEOLOC_ERR_OUTPUT_WRITE', `cannot write a fix to ${this.target} (${(cause as Error).message})`, { cause });
    }
    this.lines += 1;
  }

  /** Safe to call twice. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
