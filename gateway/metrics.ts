/**
 * The gateway's Prometheus metrics, in a registry of its own so that several gateways in
 * one process (tests, benchmarks) keep separate counts.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutputStats } from '../pipeline/core/types';

/** Why a WebSocket connection or message was refused. */
export type WsRejectReason =
  | 'host'
  | 'unauthorized'
  | 'origin'
  | 'too_many_connections'
  | 'not_found'
  | 'malformed'
  | 'unknown_type'
  | 'payload_too_large'
  | 'too_many_subscriptions';

/** Why an HTTP request was refused. */
export type HttpRejectReason = 'host' | 'tile_bad_path' | 'tile_not_found' | 'bad_path' | 'not_found' | 'method' | 'unauthorized' | 'internal';

/** Which limit a connection was closed for as soon as it was accepted. */
export type ConnectionLimit = 'per_address' | 'total';

/** Why node's HTTP parser refused a request before it reached the routes. */
export type ClientErrorReason = 'malformed' | 'header_overflow' | 'headers_timeout' | 'request_timeout';

/** Why the gateway ended a connection itself. */
export type TerminateReason = 'heartbeat' | 'hard_limit';

/** The part of the metrics a publisher feeds: what happened before the fix reached the gateway. */
export interface PipelineMetrics {
  framesIn: { inc(count?: number): void };
  framesDropped: { inc(count?: number): void };
  inferenceLatency: { observe(ms: number): void };
  /** Shows the fix outputs' counts (NMEA, MAVLink, CoT sinks), read from `outputs` at each scrape. */
  watchOutputs(outputs: () => readonly OutputStats[]): void;
}

/** OutputStats' counts as Prometheus counters, and its momentary values as gauges. */
const OUTPUT_COUNTERS = {
  sent: ['geoloc_output_messages_sent_total', 'Messages a fix output handed to its transport'],
  dropped: ['geoloc_output_messages_dropped_total', 'Messages a fix output discarded unsent (queue full, connection lost or cut off)'],
  errors: ['geoloc_output_errors_total', 'Failures of a fix output: connects refused or timed out, datagrams refused, connections lost or cut off'],
  cutOffs: ['geoloc_output_cut_offs_total', 'Stream consumers a fix output cut off for leaving too many bytes unread'],
} as const;
const OUTPUT_GAUGES = {
  connected: ['geoloc_output_connected', '1 while a fix output has its transport open'],
  queued: ['geoloc_output_queued_messages', 'Messages a fix output holds for want of a connection'],
  bufferedBytes: ['geoloc_output_buffered_bytes', 'Bytes a fix output handed to its connection that have not left'],
} as const;

const INFERENCE_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export class GatewayMetrics implements PipelineMetrics {
  readonly registry = new Registry();
  readonly framesIn = new Counter({ name: 'geoloc_frames_in_total', help: 'Video frames the pipeline decoded', registers: [this.registry] });
  readonly framesDropped = new Counter({ name: 'geoloc_frames_dropped_total', help: 'Frames dropped because inference was busy (live sources)', registers: [this.registry] });
  readonly inferenceLatency = new Histogram({
    name: 'geoloc_inference_latency_ms',
    help: 'Milliseconds from a frame entering inference to its fix',
    buckets: INFERENCE_LATENCY_BUCKETS_MS,
    registers: [this.registry],
  });
  readonly fixesPublished = new Counter({ name: 'geoloc_fixes_published_total', help: 'Fixes handed to the gateway by publishers', registers: [this.registry] });
  readonly fixesOut = new Counter({ name: 'geoloc_fixes_out_total', help: 'Fixes written to WebSocket clients (one per client)', registers: [this.registry] });
  readonly messagesSkipped = new Counter({
    name: 'geoloc_ws_messages_skipped_total',
    help: 'Fixes not sent to a slow client because a newer one replaced them',
    registers: [this.registry],
  });
  readonly wsRejected = new Counter({
    name: 'geoloc_ws_rejected_total',
    help: 'WebSocket upgrades and client messages refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly wsTerminated = new Counter({
    name: 'geoloc_ws_terminated_total',
    help: 'WebSocket clients the gateway disconnected, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly httpRejected = new Counter({
    name: 'geoloc_http_rejected_total',
    help: 'HTTP requests refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'geoloc_http_connections_refused_total',
    help: 'TCP connections closed as soon as they were accepted, by the limit they were over',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  readonly connectionsEvicted = new Counter({
    name: 'geoloc_http_connections_evicted_total',
    help: 'Connections still waiting for a request, closed (longest waiting first) to make room for a new one',
    registers: [this.registry],
  });
  readonly clientErrors = new Counter({
    name: 'geoloc_http_client_errors_total',
    help: "Requests node's HTTP parser refused (malformed, headers too large, too slow), by reason",
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly clients: Gauge;
  readonly bytesQueued: Gauge;
  private readonly outputSources: Array<() => readonly OutputStats[]> = [];

  constructor(sources: { clientCount(): number; bytesQueued(): number; connections(): number; waitingConnections(): number }) {
    this.clients = this.gauge('geoloc_ws_clients', 'WebSocket clients connected now', () => sources.clientCount());
    this.bytesQueued = this.gauge('geoloc_ws_bytes_queued', 'Bytes waiting to be sent to WebSocket clients, summed over clients', () => sources.bytesQueued());
    this.gauge('geoloc_http_connections', 'TCP connections open now, HTTP and WebSocket', () => sources.connections());
    this.gauge('geoloc_http_connections_waiting', 'Connections open now with no request in flight: new, idle keep-alive, or still sending headers', () => sources.waitingConnections());
    this.gauge('geoloc_process_resident_memory_bytes', 'Resident set size of the gateway process', () => process.memoryUsage.rss());
    const outputs = () => this.outputSources.flatMap((source) => source());
    const labelNames = ['output', 'target'];
    for (const [field, [name, help]] of Object.entries(OUTPUT_COUNTERS) as Array<[keyof typeof OUTPUT_COUNTERS, readonly [string, string]]>) {
      new Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        // the sinks keep the counts; each scrape copies them
        collect() {
          this.reset();
          for (const o of outputs()) this.inc({ output: o.name, target: o.target }, o[field]);
        },
      });
    }
    for (const [field, [name, help]] of Object.entries(OUTPUT_GAUGES) as Array<[keyof typeof OUTPUT_GAUGES, readonly [string, string]]>) {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const o of outputs()) this.set({ output: o.name, target: o.target }, Number(o[field]));
        },
      });
    }
    // Every reason shows up as 0 before its first occurrence, so a scrape always lists them.
    const wsReasons: WsRejectReason[] = ['host', 'unauthorized', 'origin', 'too_many_connections', 'not_found', 'malformed', 'unknown_type', 'payload_too_large', 'too_many_subscriptions'];
    const httpReasons: HttpRejectReason[] = ['host', 'tile_bad_path', 'tile_not_found', 'bad_path', 'not_found', 'method', 'unauthorized', 'internal'];
    const terminateReasons: TerminateReason[] = ['heartbeat', 'hard_limit'];
    const limits: ConnectionLimit[] = ['per_address', 'total'];
    const clientErrorReasons: ClientErrorReason[] = ['malformed', 'header_overflow', 'headers_timeout', 'request_timeout'];
    for (const reason of wsReasons) this.wsRejected.inc({ reason }, 0);
    for (const reason of httpReasons) this.httpRejected.inc({ reason }, 0);
    for (const reason of terminateReasons) this.wsTerminated.inc({ reason }, 0);
    for (const limit of limits) this.connectionsRefused.inc({ limit }, 0);
    for (const reason of clientErrorReasons) this.clientErrors.inc({ reason }, 0);
  }

  watchOutputs(outputs: () => readonly OutputStats[]): void {
    this.outputSources.push(outputs);
  }

  rejectWs(reason: WsRejectReason): void {
    this.wsRejected.inc({ reason });
  }

  rejectHttp(reason: HttpRejectReason): void {
    this.httpRejected.inc({ reason });
  }

  terminated(reason: TerminateReason): void {
    this.wsTerminated.inc({ reason });
  }

  refusedConnection(limit: ConnectionLimit): void {
    this.connectionsRefused.inc({ limit });
  }

  clientError(reason: ClientErrorReason): void {
    this.clientErrors.inc({ reason });
  }

  /** A gauge read at each scrape. */
  private gauge(name: string, help: string, read: () => number): Gauge {
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
