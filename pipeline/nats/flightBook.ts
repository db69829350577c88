/**
 * Every flight NATS knows, in one key-value bucket: its job and its status (which worker holds
 * it, rate, lag, drops, the error that ended it), and whether someone asked it to stop. Any
 * process may read it; `flights add` creates a flight (refusing a name in use), workers update
 * the flights they hold.
 */
import type { KV } from '@nats-io/kv';
import { GeolocError, type ErrorCode } from '../core/errors';
import type { FlightJob } from './job';

export type FlightState = 'queued' | 'running' | 'stopped' | 'done' | 'failed';

export interface FlightStatus {
  flight: string;
  state: FlightState;
  job: FlightJob;
  /** the worker holding (or that last held) the flight */
  worker?: string;
  /** how many times a worker took the flight: more than 1 after a failover */
  claim?: number;
  /** fixes published by the current claim */
  fixes?: number;
  /** fixes per second over the last status interval */
  ratePerS?: number;
  /** decoded frame to fix published on NATS, ms, over the last status interval */
  lagMs?: { p50: number; p95: number };
  /** live frames replaced by a newer one before they could be localized */
  framesDropped?: number;
  /** fixes dropped unpublished because NATS was away longer than the buffer lasts */
  fixesDropped?: number;
  /** fixes waiting to be published */
  buffered?: number;
  /** why a flight failed */
  error?: { code: ErrorCode | string; message: string };
  updatedAt: number;
}

const statusKey = (flight: string) => `status.${flight}`;
const stopKey = (flight: string) => `stop.${flight}`;
const encode = (value: unknown) => JSON.stringify(value);

export class FlightBook {
  constructor(private readonly kv: KV) {}

  /** Records a new flight as queued; GEOLOC_ERR_NATS_FLIGHT_EXISTS when the name is taken. */
  async create(job: FlightJob): Promise<FlightStatus> {
    const status: FlightStatus = { flight: job.flight, state: 'queued', job, updatedAt: Date.now() };
    try {
      await this.kv.create(statusKey(job.flight), encode(status));
    } catch (err) {
      if (await this.get(job.flight)) {
        throw new GeolocError('GEOLOC_ERR_NATS_FLIGHT_EXISTS', `flight ${job.flight} already exists; choose another name or remove it first (geoloc flights remove ${job.flight})`, { cause: err });
      }
      throw err;
    }
    return status;
  }

  async get(flight: string): Promise<FlightStatus | undefined> {
    const entry = await this.kv.get(statusKey(flight));
    return entry && entry.operation === 'PUT' ? (entry.json() as FlightStatus) : undefined;
  }

  /** The flight's status, or GEOLOC_ERR_NATS_FLIGHT_UNKNOWN. */
  async require(flight: string): Promise<FlightStatus> {
    const status = await this.get(flight);
    if (!status) throw new GeolocError('GEOLOC_ERR_NATS_FLIGHT_UNKNOWN', `no flight ${flight} is known to NATS; geoloc flights list shows them`);
    return status;
  }

  async put(status: FlightStatus): Promise<void> {
    await this.kv.put(statusKey(status.flight), encode({ ...status, updatedAt: Date.now() }));
  }

  async list(): Promise<FlightStatus[]> {
    const names: string[] = [];
    for await (const key of await this.kv.keys('status.>')) names.push(key.slice('status.'.length));
    const statuses = await Promise.all(names.sort().map((name) => this.get(name)));
    return statuses.filter((s): s is FlightStatus => s !== undefined);
  }

  async requestStop(flight: string): Promise<void> {
    await this.require(flight);
    await this.kv.put(stopKey(flight), encode({ requestedAt: Date.now() }));
  }

  async stopRequested(flight: string): Promise<boolean> {
    const entry = await this.kv.get(stopKey(flight));
    return entry?.operation === 'PUT';
  }

  /**
   * Calls `onEnd` once, when a stop is asked for `flight` (at once if it already was) or when
   * another worker's later claim takes it over (this worker's heartbeats did not reach NATS in
   * time: the copy running here must stop, or the flight would be localized twice). Returns
   * the unwatch.
   */
  async watchFlight(flight: string, claim: number, onEnd: (why: 'stop' | 'superseded', by?: FlightStatus) => void): Promise<() => void> {
    const watches = await Promise.all([this.kv.watch({ key: stopKey(flight) }), this.kv.watch({ key: statusKey(flight) })]);
    let ended = false;
    const end = (why: 'stop' | 'superseded', by?: FlightStatus) => {
      if (ended) return;
      ended = true;
      onEnd(why, by);
    };
    const [stops, statuses] = watches;
    void (async () => {
      for await (const entry of stops) if (entry.operation === 'PUT') end('stop');
    })();
    void (async () => {
      for await (const entry of statuses) {
        if (entry.operation !== 'PUT') continue;
        const status = entry.json<FlightStatus>();
        if ((status.claim ?? 0) > claim) end('superseded', status);
      }
    })();
    return () => watches.forEach((w) => w.stop());
  }

  /** Forgets a flight (its status and stop request), so its name may be used again. */
  async remove(flight: string): Promise<void> {
    await this.require(flight);
    await Promise.all([this.kv.purge(statusKey(flight)), this.kv.purge(stopKey(flight))]);
  }
}
