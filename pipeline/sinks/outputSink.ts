/**
 * One fix output — a format (NMEA, MAVLink, CoT) over a transport (UDP, TCP, a file) — as one of
 * the pipeline's sinks. fix() never waits: when the output's rate allows, it encodes the fix and
 * queues the messages; the I/O runs afterwards on the event loop. A consumer that is slow,
 * refuses, or cannot be reached costs this output its own messages (a bounded queue that drops
 * the oldest, a stalled stream cut off at a byte limit), never the pipeline or the other
 * outputs, and the output reconnects with the pipeline's backoff for as long as the run lasts.
 */
import { backoffDelayMs, type BackoffPolicy, DEFAULT_BACKOFF } from '../core/backoff';
import { GeolocError } from '../core/errors';
import { type Logger, silentLogger } from '../core/log';
import { definedOnly } from '../core/options';
import type { FixFeature, OutputStats, PipelineSink } from '../core/types';
import type { OutputFormat } from './outputFormat';
import type { Connection, Transport } from './transport';

export interface OutputSinkOptions {
  /**
   * fixes sent per second of the flight's own time (`t`) at most: a fix goes when 1/maxRateHz has
   * passed since the last one sent, later ones in between are left out. On the flight's clock, a
   * replay at any speed sends the same fixes as a live run, and no fix waits for a timer.
   */
  maxRateHz: number;
  /** messages kept while the consumer cannot take them; past it the oldest are dropped */
  maxQueuedMessages: number;
  /** bytes handed to a connection that have not left; past it the consumer is stalled and cut off */
  maxBufferedBytes: number;
  /** waits between reconnect attempts, which go on for as long as the run lasts */
  backoff: BackoffPolicy;
  /** how long close() lets queued messages leave before it drops them */
  closeTimeoutMs: number;
  /** the UTC a fix stands for, the format's `now` (default: the wall clock when the fix arrives) */
  fixTime: (feature: FixFeature) => Date;
  logger: Logger;
}

export const OUTPUT_SINK_DEFAULTS: OutputSinkOptions = {
  maxRateHz: 10,
  maxQueuedMessages: 64,
  maxBufferedBytes: 256 * 1024,
  backoff: DEFAULT_BACKOFF,
  closeTimeoutMs: 2000,
  fixTime: () => new Date(),
  logger: silentLogger,
};

/** The defaults under `options`, checked: GEOLOC_ERR_OUTPUT_OPTIONS names an option out of range. */
export function resolveOutputSinkOptions(options: Partial<OutputSinkOptions>): OutputSinkOptions {
  const resolved = { ...OUTPUT_SINK_DEFAULTS, ...definedOnly(options) };
  const check = (name: string, ok: boolean, want: string, got: number) => {
    if (!ok) throw new GeolocError('GEOLOC_ERR_OUTPUT_OPTIONS', `output option ${name} must be ${want}, got ${got}`);
  };
  const whole = (value: number, least: number) => Number.isInteger(value) && value >= least;
  check('maxRateHz', resolved.maxRateHz > 0 && Number.isFinite(resolved.maxRateHz), 'a positive number of fixes per second', resolved.maxRateHz);
  check('maxQueuedMessages', whole(resolved.maxQueuedMessages, 1), 'a positive whole number', resolved.maxQueuedMessages);
  check('maxBufferedBytes', whole(resolved.maxBufferedBytes, 1), 'a positive whole number', resolved.maxBufferedBytes);
  check('closeTimeoutMs', whole(resolved.closeTimeoutMs, 0), 'a whole number of milliseconds', resolved.closeTimeoutMs);
  check('backoff.initialDelayMs', whole(resolved.backoff.initialDelayMs, 1), 'a positive whole number of milliseconds', resolved.backoff.initialDelayMs);
  check('backoff.maxDelayMs', whole(resolved.backoff.maxDelayMs, resolved.backoff.initialDelayMs), 'a whole number of milliseconds, at least initialDelayMs', resolved.backoff.maxDelayMs);
  return resolved;
}

/** A fix's `t` is rounded to the millisecond: intervals are compared to within half of one. */
const T_RESOLUTION_S = 0.0005;

export class OutputSink implements PipelineSink {
  private readonly options: OutputSinkOptions;
  private readonly intervalS: number;
  private readonly queue: Buffer[] = [];
  private readonly counts = { sent: 0, dropped: 0, errors: 0, cutOffs: 0 };
  private connection: Connection | undefined;
  private connecting = false;
  /** messages written to the connection that have not left, and their bytes */
  private pending = 0;
  private pendingBytes = 0;
  /** consecutive failed connects, for the backoff */
  private failures = 0;
  /** a warning went out and no connection has worked since */
  private outage = false;
  /** the flight time (`t`) of the last fix sent */
  private lastSentT: number | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly periodicTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private closing: Promise<void> | undefined;
  private closed = false;
  private wakeCloser: (() => void) | undefined;
  private encoderFailed = false;

  /** `name`: the output's name in logs, metrics and reports (the format's, numbered when it has several targets) */
  constructor(
    readonly name: string,
    private readonly format: OutputFormat,
    private readonly transport: Transport,
    options: Partial<OutputSinkOptions> = {},
  ) {
    this.options = resolveOutputSinkOptions(options);
    this.intervalS = 1 / this.options.maxRateHz;
    const periodic = format.periodic;
    if (periodic) this.periodicTimer = setInterval(() => this.enqueue(this.encode(() => periodic.encode(new Date()))), periodic.intervalMs).unref();
    this.connect();
  }

  /** As a pipeline sink: encodes and queues the fix when the rate limit lets it go, else leaves it out. */
  fix(feature: FixFeature): void {
    if (this.closing) return;
    const { t } = feature.properties;
    // a source that starts again (a reconnected stream) counts its time from 0: that fix goes
    const sinceLast = this.lastSentT === undefined || t < this.lastSentT ? Infinity : t - this.lastSentT;
    if (sinceLast < this.intervalS - T_RESOLUTION_S) return;
    this.lastSentT = t;
    this.enqueue(this.encode(() => this.format.encodeFix(feature, this.options.fixTime(feature))));
  }

  stats(): OutputStats {
    return { name: this.name, target: this.transport.target, ...this.counts, connected: this.connection !== undefined, queued: this.queue.length, bufferedBytes: this.pendingBytes };
  }

  /**
   * Lets what is queued leave for up to closeTimeoutMs,
   * drops the rest (counted) and closes the connection. Safe to call twice.
   */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  /**
   * A format that throws costs its own output that fix, never the pipeline (the periodic
   * messages run on a timer): counted each time, said once.
   */
  private encode(encode: () => Buffer[]): Buffer[] {
    try {
      return encode();
    } catch (err) {
      this.counts.errors += 1;
      if (!this.encoderFailed) {
        this.options.logger.log({ level: 'warn', message: `${this.name} → ${this.transport.target}: the ${this.format.name} encoder failed (${(err as Error).message}); skipped, and later failures are only counted` });
      }
      this.encoderFailed = true;
      return [];
    }
  }

  private enqueue(messages: Buffer[]): void {
    for (const message of messages) {
      if (this.queue.length >= this.options.maxQueuedMessages) {
        this.queue.shift();
        this.counts.dropped += 1;
      }
      this.queue.push(message);
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.connection) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  /** Hands the queue to the connection; a consumer that leaves more than maxBufferedBytes unread is cut off. */
  private pump(): void {
    this.pumpScheduled = false;
    const connection = this.connection;
    if (!connection) return;
    while (this.queue.length > 0) {
      const message = this.queue.shift()!;
      this.pending += 1;
      this.pendingBytes += message.length;
      connection.write(message, (err) => this.written(connection, message.length, err));
      if (this.pendingBytes > this.options.maxBufferedBytes) {
        this.cutOff(connection);
        return;
      }
    }
  }

  private written(connection: Connection, bytes: number, err: Error | null | undefined): void {
    // a connection that is gone had its unsent messages counted as dropped when it went
    if (connection !== this.connection) return;
    this.pending -= 1;
    this.pendingBytes -= bytes;
    if (err) this.failed(err);
    else this.counts.sent += 1;
    this.wake();
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    this.connecting = true;
    let connection: Connection | undefined;
    this.transport
      .open({
        onError: (err) => {
          if (connection && connection === this.connection) this.failed(err);
        },
        onLost: (err) => {
          if (connection && connection === this.connection) this.lost(connection, err ?? new Error('closed by the consumer'));
        },
      })
      .then(
        (opened) => {
          this.connecting = false;
          if (this.closed) {
            opened.destroy();
            return;
          }
          connection = opened;
          this.connection = opened;
          this.failures = 0;
          this.options.logger.log({ level: 'info', message: `${this.name} → ${this.transport.target}: ${this.outage ? 'reconnected' : 'connected'}` });
          this.outage = false;
          this.schedulePump();
        },
        (err: Error) => {
          this.connecting = false;
          this.counts.errors += 1;
          this.warnOutage(err.message);
          this.scheduleReconnect();
        },
      );
  }

  private scheduleReconnect(): void {
    this.wake();
    if (this.closing) return;
    this.failures += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), backoffDelayMs(this.options.backoff, this.failures)).unref();
  }

  /** A failure the connection survives (a refused datagram). */
  private failed(err: Error): void {
    this.counts.errors += 1;
    this.warnOutage(err.message);
  }

  private lost(connection: Connection, err: Error): void {
    this.drop(connection);
    this.counts.errors += 1;
    this.warnOutage(err.message);
    this.scheduleReconnect();
  }

  private cutOff(connection: Connection): void {
    this.counts.cutOffs += 1;
    this.counts.errors += 1;
    this.outage = true;
    this.options.logger.log({
      level: 'warn',
      code: 'GEOLOC_ERR_OUTPUT_STALLED',
      message: `${this.name} → ${this.transport.target}: the consumer left more than ${this.options.maxBufferedBytes} bytes unread; cut off, reconnecting with backoff`,
    });
    this.drop(connection);
    connection.destroy();
    this.scheduleReconnect();
  }

  /** Forgets the connection; the messages it had not sent are dropped. */
  private drop(connection: Connection): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    this.counts.dropped += this.pending;
    this.pending = 0;
    this.pendingBytes = 0;
  }

  private warnOutage(reason: string): void {
    if (this.outage) return;
    this.outage = true;
    this.options.logger.log({
      level: 'warn',
      code: 'GEOLOC_ERR_OUTPUT_UNAVAILABLE',
      message: `${this.name} → ${this.transport.target}: ${reason}; the pipeline goes on, this output keeps its newest ${this.options.maxQueuedMessages} messages and reconnects with backoff`,
    });
  }

  /** Nothing left to wait for: all sent, or nothing can send it (no connection, none coming). */
  private idle(): boolean {
    return this.pending === 0 && (this.queue.length === 0 || (this.connection === undefined && !this.connecting));
  }

  private wake(): void {
    if (this.wakeCloser && this.idle()) this.wakeCloser();
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.periodicTimer);
    clearTimeout(this.reconnectTimer);
    const deadline = Date.now() + this.options.closeTimeoutMs;
    const within = (work: Promise<void>) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        void work.then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    if (!this.idle()) await within(new Promise<void>((resolve) => (this.wakeCloser = resolve)));
    this.wakeCloser = undefined;
    this.closed = true;
    this.counts.dropped += this.queue.length + this.pending;
    this.queue.length = 0;
    this.pending = 0;
    this.pendingBytes = 0;
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      await within(connection.end());
      connection.destroy();
    }
  }
}
