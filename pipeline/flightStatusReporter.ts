/**
 * A running flight's status in the flight book, written every interval from its NATS sink's
 * counts (fixes published, rate, lag, drops), and once more with the state it ends in.
 */
import type { FlightBook, FlightState, FlightStatus } from './nats/flightBook';
import type { NatsFixSink } from './sinks/natsFixSink';

const MS_PER_S = 1000;

export class FlightStatusReporter {
  private readonly timer: NodeJS.Timeout;
  private lastPublished = 0;

  constructor(
    private readonly book: FlightBook,
    private status: FlightStatus,
    private readonly sink: NatsFixSink,
    private readonly intervalMs: number,
  ) {
    // a status that cannot be written now is written at the next interval
    this.timer = setInterval(() => this.book.put(this.current()).catch(() => undefined), intervalMs);
  }

  /** Stops the interval and writes the final status. */
  async finish(state: FlightState): Promise<void> {
    this.stop();
    await this.book.put({ ...this.current(), state });
  }

  /** Stops the interval (a failed flight's status is written by whoever saw it fail). */
  stop(): void {
    clearInterval(this.timer);
  }

  private current(): FlightStatus {
    const stats = this.sink.stats();
    const lagMs = this.sink.takeLag();
    const ratePerS = Number((((stats.published - this.lastPublished) * MS_PER_S) / this.intervalMs).toFixed(1));
    this.lastPublished = stats.published;
    this.status = { ...this.status, fixes: stats.published, ratePerS, ...(lagMs && { lagMs }), framesDropped: stats.framesDropped, fixesDropped: stats.dropped, buffered: stats.buffered };
    return this.status;
  }
}
