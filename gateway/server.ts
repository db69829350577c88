/**
 * The gateway: one HTTP server and one WebSocket server on one port. Publishers hand it
 * fixes; it serializes each once and fans it out to every subscriber of its flight.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { GeolocError } from '../pipeline/core/errors';
import type { FixFeature, FixMatches } from '../pipeline/core/types';
import { checkHost, checkOrigin, checkToken, type Refusal } from './auth';
import { ClientChannel } from './clientChannel';
import { createClientErrorHandler } from './clientErrors';
import { ConnectionGuard } from './connections';
import { FlightRegistry } from './flights';
import { Heartbeat } from './heartbeat';
import { createHostPolicy, hostForUrl, type HostPolicy } from './hosts';
import { createRequestHandler } from './http';
import { loadImagery } from './imagery';
import { GatewayMetrics, type PipelineMetrics } from './metrics';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options';
import { WS_PATH, errorMessage, parseClientMessage, type FlightsMessage, type UnsubscribedMessage } from './protocol';
import { answerAndClose } from './rawResponse';
import { loadStaticAssets } from './static';
import { TileSource } from './tiles';

export interface Gateway {
  readonly port: number;
  /** http://host:port — the map page is at `${url}/` */
  readonly url: string;
  /** ws://host:port/ws */
  readonly wsUrl: string;
  /**
   * Sends a fix to every subscriber of its flight; never blocks on a client. Ignored after
   * close(). Its matched points, when given, are kept for /api/flights/<flight>/fixes/<frame>/matches.
   */
  publish(flight: string, fix: FixFeature, matches?: FixMatches): void;
  /** counters the pipeline feeds, exported on /metrics */
  readonly metrics: PipelineMetrics;
  clientCount(): number;
  /** Says goodbye (1001) to every client and stops listening; safe to call more than once. */
  close(): Promise<void>;
}

/** 1001 "going away": the server is shutting down; clients may reconnect. */
const CLOSE_GOING_AWAY = 1001;
/** How long clients get to answer the goodbye before their sockets are cut. */
const SHUTDOWN_GRACE_MS = 500;
/** Connections beyond maxClients kept for HTTP requests. */
const HTTP_CONNECTION_HEADROOM = 256;
/** node checks for overdue requests this many times per headersTimeout (its default is every 30 s). */
const TIMEOUT_CHECKS_PER_HEADERS_TIMEOUT = 5;
/** ws raises this when a frame is larger than maxPayload (and closes with 1009). */
const WS_ERR_TOO_LARGE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const config = resolveGatewayOptions(options);
  const [assets, tiles] = await Promise.all([
    loadStaticAssets(),
    config.imagery ? loadImagery(config.imagery, config.log).then(({ name, imagery }) => TileSource.create(name, imagery, config.tileCacheBytes, config.log)) : undefined,
  ]);
  const clients = new Set<ClientChannel>();
  const flights = new FlightRegistry<ClientChannel>(config.snapshotSize, config.evidenceSize);
  // Plain HTTP (page, tiles, metrics) gets room beside the WebSocket clients.
  const connections = new ConnectionGuard(
    { total: config.maxClients + HTTP_CONNECTION_HEADROOM, perAddress: config.maxConnectionsPerAddress },
    { refused: (limit) => metrics.refusedConnection(limit), evicted: () => metrics.connectionsEvicted.inc() },
  );
  const metrics = new GatewayMetrics({
    clientCount: () => clients.size,
    bytesQueued: () => [...clients].reduce((sum, c) => sum + c.bufferedAmount, 0),
    connections: () => connections.size,
    waitingConnections: () => connections.waitingCount,
  });
  const heartbeat = new Heartbeat(config.heartbeatIntervalMs, () => metrics.terminated('heartbeat'));
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxPayload, perMessageDeflate: false, clientTracking: false });
  let port = config.port;
  const hosts = createHostPolicy(config, () => port);
  const server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.ceil(config.headersTimeoutMs / TIMEOUT_CHECKS_PER_HEADERS_TIMEOUT),
    },
    createRequestHandler({ metrics, assets, tiles, hosts, token: config.token, flights: () => flights.summaries(), matchesJson: (flight, frame) => flights.matchesJson(flight, frame), clientCount: () => clients.size }),
  );
  connections.attach(server);
  server.on('clientError', createClientErrorHandler({ isWaiting: (socket) => connections.isWaiting(socket), counted: (reason) => metrics.clientError(reason) }));
  let upgrading = 0;
  let closing: Promise<void> | undefined;

  const flightsJson = () => JSON.stringify({ type: 'flights', flights: flights.summaries() } satisfies FlightsMessage);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const refusal = refuseUpgrade(req, config, hosts, clients.size + upgrading);
    if (refusal) {
      metrics.rejectWs(refusal.reason);
      answerAndClose(socket, refusal.status, refusal, refusal.status === 401 ? ['WWW-Authenticate: Bearer'] : []);
      return;
    }
    // Handshakes in flight count against maxClients too, so a burst cannot overshoot it.
    upgrading += 1;
    const handshakeFailed = () => (upgrading -= 1);
    socket.once('close', handshakeFailed);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', handshakeFailed);
      upgrading -= 1;
      accept(ws);
    });
  });

  function accept(ws: WebSocket): void {
    const channel = new ClientChannel(ws, config, {
      skipped: () => metrics.messagesSkipped.inc(),
      fixSent: () => metrics.fixesOut.inc(),
      overHardLimit: () => metrics.terminated('hard_limit'),
    });
    clients.add(channel);
    heartbeat.watch(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => onMessage(channel, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === WS_ERR_TOO_LARGE) metrics.rejectWs('payload_too_large');
    });
    ws.on('close', () => {
      clients.delete(channel);
      for (const flight of channel.subscriptions) flights.unsubscribe(flight, channel);
      channel.subscriptions.clear();
    });
    channel.sendMessage(flightsJson());
  }

  function onMessage(channel: ClientChannel, data: RawData, isBinary: boolean): void {
    const parsed = isBinary
      ? { ok: false as const, error: errorMessage('GEOLOC_ERR_WS_MALFORMED', 'binary frames are not part of the protocol; send JSON text') }
      : parseClientMessage(data.toString());
    if (!parsed.ok) {
      metrics.rejectWs(parsed.error.code === 'GEOLOC_ERR_WS_UNKNOWN_TYPE' ? 'unknown_type' : 'malformed');
      channel.sendMessage(JSON.stringify(parsed.error));
      return;
    }
    const { type, flight } = parsed.message;
    if (type === 'unsubscribe') {
      channel.forget(flight);
      flights.unsubscribe(flight, channel);
      channel.sendMessage(JSON.stringify({ type: 'unsubscribed', flight } satisfies UnsubscribedMessage));
      return;
    }
    if (!channel.subscriptions.has(flight) && channel.subscriptions.size >= config.maxSubscriptionsPerClient) {
      metrics.rejectWs('too_many_subscriptions');
      const error = errorMessage('GEOLOC_ERR_WS_TOO_MANY_SUBSCRIPTIONS', `a client may follow ${config.maxSubscriptionsPerClient} flights at once; unsubscribe from one first`);
      channel.sendMessage(JSON.stringify(error));
      return;
    }
    channel.subscriptions.add(flight);
    flights.subscribe(flight, channel);
    channel.sendMessage(flights.snapshotJson(flight, parsed.message.type === 'subscribe' ? parsed.message.after : undefined));
  }

  function publish(flight: string, fix: FixFeature, matches?: FixMatches): void {
    if (closing) return;
    metrics.fixesPublished.inc();
    const { json, isNew } = flights.record(flight, fix, Date.now(), matches);
    const data = Buffer.from(json);
    for (const channel of flights.subscribers(flight)) channel.sendFix(flight, data);
    if (isNew) {
      const list = Buffer.from(flightsJson());
      for (const channel of clients) channel.sendMessage(list);
    }
  }

  async function shutdown(): Promise<void> {
    heartbeat.stop();
    const goodbyes = [...clients].map(
      (channel) =>
        new Promise<void>((done) => {
          channel.ws.once('close', () => done());
          channel.ws.close(CLOSE_GOING_AWAY, 'gateway shutting down');
          setTimeout(() => channel.ws.terminate(), SHUTDOWN_GRACE_MS).unref();
        }),
    );
    await Promise.all(goodbyes);
    wss.close();
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  }

  try {
    await listen(server, config);
  } catch (err) {
    heartbeat.stop();
    throw err;
  }
  // Errors after listening (accept failing for want of file descriptors, say) must not end the
  // process: say so and keep serving the clients already connected.
  server.on('error', (err) => config.log(`geoloc gateway: ${err.message}`));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : config.port;
  const host = hostForUrl(config.host);
  return {
    port,
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}${WS_PATH}`,
    publish,
    metrics,
    clientCount: () => clients.size,
    close: () => (closing ??= shutdown()),
  };
}

function refuseUpgrade(req: IncomingMessage, config: ResolvedGatewayOptions, hosts: HostPolicy, connections: number): Refusal | undefined {
  const wrongHost = checkHost(req, hosts);
  if (wrongHost) return wrongHost;
  const path = (req.url ?? '/').split('?')[0];
  if (path !== WS_PATH) {
    return { status: 404, code: 'GEOLOC_ERR_WS_NOT_FOUND', reason: 'not_found', message: `WebSockets are served at ${WS_PATH}, not ${path}` };
  }
  const refusal = checkToken(req, config.token) ?? checkOrigin(req, hosts);
  if (refusal) return refusal;
  if (connections >= config.maxClients) {
    return {
      status: 503,
      code: 'GEOLOC_ERR_WS_TOO_MANY_CONNECTIONS',
      reason: 'too_many_connections',
      message: `the gateway serves at most ${config.maxClients} clients; try again later`,
    };
  }
  return undefined;
}

function listen(server: Server, config: ResolvedGatewayOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new GeolocError('GEOLOC_ERR_GATEWAY_LISTEN', `cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}; choose another --port or --host`, { cause: err }));
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
