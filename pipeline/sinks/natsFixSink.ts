/**
 * A flight's fixes to JetStream, on geoloc.fixes.<flight>, in order. Each fix carries a message
 * id (flight, claim, frame), so a fix published again after a lost acknowledgement is stored
 * once. While NATS is away the fixes wait in a bounded buffer (the oldest dropped first, counted
 * and said once per outage) and go out, still in order, when it is back; the pipeline never waits.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { type BackoffPolicy, backoffDelayMs } from '../core/backoff';
import { GeolocError } from '../core/errors';
import type { Logger } from '../core/log';
import { summarize } from '../core/stats';
import type { FixFeature, PipelineSink } from '../core/types';
import { fixMessageId, fixSubject } from '../nats/names';

export interface NatsFixSinkOptions {
  flight: string;
  /** how many times a worker took this flight (1 first): part of every message id */
  claim: number;
  /** fixes held while NATS is away, at most (default 1000: over 3 minutes at 5 fps) */
  maxBuffered?: number;
  /** the wait between publish attempts while NATS does not acknowledge */
  retry?: BackoffPolicy;
  /** how long one publish waits for JetStream's acknowledgement */
  publishTimeoutMs?: number;
  logger: Logger;
}

export const DEFAULT_FIX_BUFFER = 1000;
const DEFAULT_RETRY: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 2000 };
const DEFAULT_PUBLISH_TIMEOUT_MS = 2000;

interface Pending {
  data: string;
  msgID: string;
  /** when the frame was decoded (performance clock), for the lag */
  decodedAt: number;
}

export interface NatsFixSinkStats {
  published: number;
  buffered: number;
  /** fixes dropped unpublished (the buffer was full) */
  dropped: number;
  framesDropped: number;
}

export class NatsFixSink implements PipelineSink {
  private readonly queue: Pending[] = [];
  private readonly maxBuffered: number;
  private readonly retry: BackoffPolicy;
  private readonly subject: string;
  private inFlight: Pending | undefined;
  private published = 0;
  private dropped = 0;
  private framesDropped = 0;
  /** decoded → acknowledged by JetStream, ms, since the last lagSince() */
  private lags: number[] = [];
  private outage = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly js: JetStreamClient,
    private readonly options: NatsFixSinkOptions,
  ) {
    this.maxBuffered = options.maxBuffered ?? DEFAULT_FIX_BUFFER;
    if (!Number.isInteger(this.maxBuffered) || this.maxBuffered < 1) {
      throw new GeolocError('GEOLOC_ERR_USAGE', `the fix buffer must be a whole number ≥ 1 (default ${DEFAULT_FIX_BUFFER}), got ${this.maxBuffered}`);
    }
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.subject = fixSubject(options.flight);
  }

  frameDropped(): void {
    this.framesDropped += 1;
  }

  fix(feature: FixFeature, latencyMs: number): void {
    const { flight, claim } = this.options;
    const wire = { ...feature, properties: { ...feature.properties, flight, claim, emittedAt: Date.now() } };
    this.queue.push({ data: JSON.stringify(wire), msgID: fixMessageId(flight, claim, feature.properties.frame), decodedAt: performance.now() - latencyMs });
    if (this.queue.length > this.maxBuffered) this.dropOldest();
    if (!this.inFlight) void this.pump();
  }

  stats(): NatsFixSinkStats {
    return { published: this.published, buffered: this.queue.length, dropped: this.dropped, framesDropped: this.framesDropped };
  }

  /** p50/p95 of decoded → published since the last call (undefined when nothing was published). */
  takeLag(): { p50: number; p95: number } | undefined {
    const lags = this.lags;
    this.lags = [];
    if (lags.length === 0) return undefined;
    const { p50, p95 } = summarize(lags);
    return { p50: Math.round(p50), p95: Math.round(p95) };
  }

  /** Resolves once every buffered fix is published, or after `timeoutMs`; the rest count as dropped. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.queue.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((done) => this.idle.push(done)), new Promise<void>((done) => (timer = setTimeout(done, timeoutMs)))]);
      clearTimeout(timer);
    }
    if (this.queue.length > 0) {
      this.dropped += this.queue.length;
      this.options.logger.log({ level: 'warn', code: 'GEOLOC_ERR_NATS_FIXES_DROPPED', message: `flight ${this.options.flight}: ${this.queue.length} fixes not published within ${timeoutMs} ms of the end; dropped`, dropped: this.dropped });
      this.queue.length = 0;
    }
  }

  private dropOldest(): void {
    // the fix being published stays: it may already be stored
    this.queue.splice(this.inFlight === this.queue[0] ? 1 : 0, 1);
    this.dropped += 1;
    if (this.dropped === 1 || this.outage) {
      this.options.logger.log({ level: 'warn', code: 'GEOLOC_ERR_NATS_FIXES_DROPPED', message: `flight ${this.options.flight}: NATS away for longer than ${this.maxBuffered} fixes last; dropping the oldest unpublished`, dropped: this.dropped });
      this.outage = false;
    }
  }

  private async pump(): Promise<void> {
    let failures = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      this.inFlight = next;
      try {
        await this.js.publish(this.subject, next.data, { msgID: next.msgID, timeout: this.options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS });
        if (this.queue[0] === next) this.queue.shift();
        this.published += 1;
        this.lags.push(performance.now() - next.decodedAt);
        if (failures > 0) this.options.logger.log({ level: 'info', message: `flight ${this.options.flight}: publishing again after ${failures} failed attempt(s); ${this.queue.length} fixes buffered, ${this.dropped} dropped so far` });
        failures = 0;
      } catch (err) {
        failures += 1;
        if (failures === 1) {
          this.outage = true;
          this.options.logger.log({ level: 'warn', code: 'GEOLOC_ERR_NATS_UNREACHABLE', message: `flight ${this.options.flight}: cannot publish fixes (${(err as Error).message}); buffering up to ${this.maxBuffered} and retrying` });
        }
        await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(this.retry, failures)));
      }
    }
    this.inFlight = undefined;
    for (const done of this.idle.splice(0)) done();
  }
}
