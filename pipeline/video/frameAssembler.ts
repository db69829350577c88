import { Writable } from 'node:stream';
import type { Demand } from './demand';

/**
 * Cuts ffmpeg's raw video byte stream into frames. Each frame gets its own buffer, filled by
 * copying every byte exactly once from the pipe's chunks. While the demand has no credit,
 * the write callback is held back, so the pipe (and with it ffmpeg) pauses: lossless replay.
 */
export class FrameAssembler extends Writable {
  private frame: Buffer | undefined;
  private filled = 0;
  private pending: { chunk: Buffer; offset: number; done: (err?: Error | null) => void } | undefined;
  private readonly stopListening: () => void;
  private draining = false;
  /** bytes of an incomplete last frame, dropped at the end of the stream */
  truncatedBytes = 0;

  constructor(
    private readonly frameBytes: number,
    private readonly demand: Demand,
    private readonly onFrame: (pixels: Buffer) => void,
  ) {
    super({ highWaterMark: frameBytes });
    this.stopListening = demand.onGrant(() => this.drain());
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending = { chunk, offset: 0, done };
    this.drain();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.truncatedBytes = this.filled;
    this.frame = undefined;
    this.filled = 0;
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.stopListening();
    this.pending = undefined;
    this.frame = undefined;
    done(err);
  }

  private drain(): void {
    // onFrame may grant credit synchronously, which calls back here: the running loop sees it
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainPending();
    } finally {
      this.draining = false;
    }
  }

  private drainPending(): void {
    while (this.pending) {
      if (this.filled === 0 && !this.demand.available) return;
      const { chunk, offset } = this.pending;
      this.frame ??= Buffer.allocUnsafe(this.frameBytes);
      const copied = chunk.copy(this.frame, this.filled, offset, Math.min(chunk.length, offset + this.frameBytes - this.filled));
      this.filled += copied;
      this.pending.offset += copied;
      if (this.filled === this.frameBytes) {
        const frame = this.frame;
        this.frame = undefined;
        this.filled = 0;
        this.demand.take();
        this.onFrame(frame);
      }
      if (this.pending && this.pending.offset >= chunk.length) {
        const { done } = this.pending;
        this.pending = undefined;
        done();
      }
    }
  }
}
