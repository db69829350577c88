/** The gateway's options: every limit is named here with its default and checked once. */
import { GeolocError } from '../pipeline/core/errors';
import { ANY_HOST, isHostName, parseHttpUrl } from './hosts';
import { definedOnly } from '../pipeline/core/options';

export interface ImagerySource {
  /** a georeferenced image (PNG/JPG + world file, or GeoTIFF) */
  imagery?: string;
  /** a satellite index folder whose manifest.json names its source imagery */
  index?: string;
}

export interface GatewayOptions {
  /** interface to listen on; loopback unless told otherwise */
  host?: string;
  /** TCP port for HTTP and WebSocket alike; 0 picks a free one */
  port?: number;
  /** when set, WebSocket upgrades and /api/* need `Authorization: Bearer <token>` or `?token=<token>` */
  token?: string;
  /**
   * The URL browsers reach the gateway at when it is not `http://host:port` (a DNS name, a
   * reverse proxy): its host name is allowed and its origin may open WebSockets.
   */
  publicUrl?: string;
  /**
   * Host names, besides the listen host, publicUrl's and (listening on loopback) `localhost`,
   * that requests may name in their Host header; ['*'] allows any (no DNS-rebinding guard).
   */
  allowedHosts?: string[];
  /**
   * Origins a browser may connect from. Unset: the allowed hosts at the gateway's port, and
   * publicUrl's origin (and clients that send no Origin, which are not browsers). ['*'] allows every origin.
   */
  allowedOrigins?: string[];
  /** largest client message, bytes; a larger one closes the connection with 1009 */
  maxPayload?: number;
  /** WebSocket clients served at once; the next upgrade gets 503 */
  maxClients?: number;
  /** TCP connections (HTTP and WebSocket) one client address may hold; the next is closed at once */
  maxConnectionsPerAddress?: number;
  /** a request whose headers have not all arrived this long after it began is answered 408 and closed */
  headersTimeoutMs?: number;
  /** a request not wholly received this long after it began is answered 408 and closed */
  requestTimeoutMs?: number;
  /** flights one client may subscribe to at once */
  maxSubscriptionsPerClient?: number;
  /** a ping goes out this often; a client that has not answered the previous one is terminated */
  heartbeatIntervalMs?: number;
  /** past this many bytes queued to a client, it skips intermediate fixes and gets the latest */
  highWaterMark?: number;
  /** past this many bytes queued to a client, it is closed (1013) */
  hardLimit?: number;
  /** fixes per flight kept for the snapshot a new subscriber gets */
  snapshotSize?: number;
  /** registered fixes per flight whose matched points are kept for /api/flights/<flight>/fixes/<frame>/matches */
  evidenceSize?: number;
  /** bytes of rendered PNG map tiles kept in memory (least recently used go first) */
  tileCacheBytes?: number;
  /** source of the map tiles; without it /tiles answers 404 */
  imagery?: ImagerySource;
  /** where the gateway's notes go (a skipped image of a tile folder, ...); stderr by default */
  log?: (line: string) => void;
}

export type ResolvedGatewayOptions = Required<Omit<GatewayOptions, 'token' | 'publicUrl' | 'allowedOrigins' | 'imagery'>> &
  Pick<GatewayOptions, 'token' | 'publicUrl' | 'allowedOrigins' | 'imagery'>;

export const GATEWAY_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  allowedHosts: [] as string[],
  maxPayload: 4 * 1024,
  maxClients: 1000,
  maxConnectionsPerAddress: 64,
  // Node's own defaults (60 s, 300 s) let a socket trickling its headers hold a connection
  // for a minute or more; a browser sends its headers in one go.
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  maxSubscriptionsPerClient: 64,
  heartbeatIntervalMs: 30_000,
  highWaterMark: 64 * 1024,
  hardLimit: 1024 * 1024,
  snapshotSize: 500,
  // a minute at 5 fixes/s, about 3 kB each
  evidenceSize: 300,
  tileCacheBytes: 32 * 1024 * 1024,
  log: (line: string) => process.stderr.write(`${line}\n`),
};

const MAX_PORT = 65535;

export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const resolved: ResolvedGatewayOptions = { ...GATEWAY_DEFAULTS, ...definedOnly(options) };
  requireInteger('port', resolved.port, 0, MAX_PORT);
  requireInteger('maxPayload', resolved.maxPayload, 1);
  requireInteger('maxClients', resolved.maxClients, 1);
  requireInteger('maxConnectionsPerAddress', resolved.maxConnectionsPerAddress, 1);
  requireInteger('headersTimeoutMs', resolved.headersTimeoutMs, 1);
  // node:http refuses a headers timeout longer than the request timeout
  requireInteger('requestTimeoutMs', resolved.requestTimeoutMs, resolved.headersTimeoutMs);
  requireInteger('maxSubscriptionsPerClient', resolved.maxSubscriptionsPerClient, 1);
  requireInteger('heartbeatIntervalMs', resolved.heartbeatIntervalMs, 1);
  requireInteger('highWaterMark', resolved.highWaterMark, 1);
  requireInteger('hardLimit', resolved.hardLimit, resolved.highWaterMark + 1);
  requireInteger('snapshotSize', resolved.snapshotSize, 0);
  requireInteger('evidenceSize', resolved.evidenceSize, 0);
  requireInteger('tileCacheBytes', resolved.tileCacheBytes, 0);
  if (resolved.token !== undefined && resolved.token.length === 0) {
    throw new GeolocError('GEOLOC_ERR_GATEWAY_OPTIONS', 'token must not be empty; leave it out to run without one');
  }
  if (resolved.publicUrl !== undefined && !parseHttpUrl(resolved.publicUrl)) {
    throw new GeolocError('GEOLOC_ERR_GATEWAY_OPTIONS', `publicUrl must be an http:// or https:// URL such as https://ground.example; got ${JSON.stringify(resolved.publicUrl)}`);
  }
  for (const name of resolved.allowedHosts) {
    if (name !== ANY_HOST && !isHostName(name)) {
      throw new GeolocError('GEOLOC_ERR_GATEWAY_OPTIONS', `allowedHosts: ${JSON.stringify(name)} is not a host name (example.org, 10.0.0.7, [fd00::7]) or *`);
    }
  }
  return resolved;
}

function requireInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GeolocError('GEOLOC_ERR_GATEWAY_OPTIONS', `${name} must be an integer from ${min} to ${max}; got ${value}`);
  }
}
