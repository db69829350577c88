/**
 * The gateway's HTTP endpoints: health, metrics, the flight list, a fix's matched points, the
 * imagery description, map tiles and the map page. Only GET and HEAD, only for requests that name an allowed Host;
 * every refusal is a coded JSON body and a count in /metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../pipeline/core/errors';
import { checkHost, checkToken } from './auth';
import type { HostPolicy } from './hosts';
import type { GatewayMetrics, HttpRejectReason } from './metrics';
import type { FlightSummary } from './protocol';
import type { StaticAsset } from './static';
import { parseTilePath, type TileSource } from './tiles';

export interface HttpDeps {
  metrics: GatewayMetrics;
  assets: Map<string, StaticAsset>;
  tiles: TileSource | undefined;
  hosts: HostPolicy;
  token: string | undefined;
  flights(): FlightSummary[];
  /** the matched points kept for one fix, as JSON */
  matchesJson(flight: string, frame: number): string | undefined;
  clientCount(): number;
}

const ALLOWED_METHODS = 'GET, HEAD';
const TILE_PREFIX = '/tiles/';
const TILE_MAX_AGE_S = 3600;
/** `..` as a segment, encoded dots, slashes or backslashes, a raw backslash or NUL. */
const TRAVERSAL = /(^|\/)\.\.(\/|$)|%2e|%2f|%5c|\\|\0/i;
/** /api/flights/<flight, URI-encoded>/fixes/<frame>/matches */
const MATCHES_PATH = /^\/api\/flights\/([^/]+)\/fixes\/(\d{1,15})\/matches$/;
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'";

export function createRequestHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const refuse = (res: ServerResponse, status: number, reason: HttpRejectReason, code: ErrorCode, message: string) => {
    deps.metrics.rejectHttp(reason);
    sendJson(res, status, { code, message });
  };

  return (req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const wrongHost = checkHost(req, deps.hosts);
    if (wrongHost) {
      refuse(res, wrongHost.status, 'host', wrongHost.code, wrongHost.message);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', ALLOWED_METHODS);
      refuse(res, 405, 'method', 'GEOLOC_ERR_HTTP_METHOD', `${req.method} is not served; use ${ALLOWED_METHODS}`);
      return;
    }
    // The raw path, never decoded: routes match it exactly or by a digits-only pattern.
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith(TILE_PREFIX)) {
      serveTile(path, res);
      return;
    }
    if (TRAVERSAL.test(path)) {
      refuse(res, 400, 'bad_path', 'GEOLOC_ERR_HTTP_BAD_PATH', `${JSON.stringify(path)} is not a path this gateway serves`);
      return;
    }
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { status: 'ok', clients: deps.clientCount(), flights: deps.flights().length, imagery: deps.tiles !== undefined });
        return;
      case '/metrics':
        deps.metrics.registry.metrics().then(
          (text) => send(res, 200, deps.metrics.registry.contentType, text, 'no-store'),
          (err: unknown) => refuse(res, 500, 'internal', 'GEOLOC_ERR_GATEWAY_INTERNAL', `metrics could not be collected: ${String(err)}`),
        );
        return;
      case '/api/flights': {
        const refusal = checkToken(req, deps.token);
        if (refusal) refuse(res, refusal.status, 'unauthorized', refusal.code, refusal.message);
        else sendJson(res, 200, { flights: deps.flights() });
        return;
      }
      case '/api/imagery':
        sendJson(res, 200, { imagery: deps.tiles?.info ?? null });
        return;
    }
    const matchesPath = MATCHES_PATH.exec(path);
    if (matchesPath) {
      serveMatches(req, res, matchesPath[1]!, Number(matchesPath[2]));
      return;
    }
    const asset = deps.assets.get(path);
    if (asset) {
      if (asset.contentType.startsWith('text/html')) res.setHeader('Content-Security-Policy', PAGE_POLICY);
      send(res, 200, asset.contentType, asset.body, 'no-cache');
      return;
    }
    refuse(res, 404, 'not_found', 'GEOLOC_ERR_HTTP_NOT_FOUND', `nothing is served at ${JSON.stringify(path)}; try / for the map or /healthz`);
  };

  function serveMatches(req: IncomingMessage, res: ServerResponse, encodedFlight: string, frame: number): void {
    const refusal = checkToken(req, deps.token);
    if (refusal) {
      refuse(res, refusal.status, 'unauthorized', refusal.code, refusal.message);
      return;
    }
    let flight: string;
    try {
      flight = decodeURIComponent(encodedFlight);
    } catch {
      refuse(res, 400, 'bad_path', 'GEOLOC_ERR_HTTP_BAD_PATH', `${JSON.stringify(encodedFlight)} is not a URI-encoded flight name`);
      return;
    }
    const json = deps.matchesJson(flight, frame);
    if (json) send(res, 200, JSON_TYPE, json, 'no-store');
    else refuse(res, 404, 'not_found', 'GEOLOC_ERR_MATCHES_NOT_FOUND', `no matched points are kept for frame ${frame} of flight ${JSON.stringify(flight)}: it did not register, or it is older than the registered fixes the gateway keeps (evidenceSize)`);
  }

  function serveTile(path: string, res: ServerResponse): void {
    const address = parseTilePath(path);
    if (!address) {
      refuse(res, 400, 'tile_bad_path', 'GEOLOC_ERR_TILE_BAD_PATH', `${JSON.stringify(path)} is not /tiles/{z}/{x}/{y}.png with integers inside the tile grid`);
      return;
    }
    const tiles = deps.tiles;
    if (!tiles) {
      refuse(res, 404, 'tile_not_found', 'GEOLOC_ERR_TILE_NOT_FOUND', 'this gateway has no imagery; start it with --index <dir> or --imagery <image>');
      return;
    }
    const { z, x, y } = address;
    tiles.tile(address).then(
      (tile) => {
        if (tile) send(res, 200, tile.type, tile.body, `public, max-age=${TILE_MAX_AGE_S}`);
        else refuse(res, 404, 'tile_not_found', 'GEOLOC_ERR_TILE_NOT_FOUND', `tile ${z}/${x}/${y} is outside the imagery (zoom ${tiles.info.minZoom}–${tiles.info.maxZoom})`);
      },
      (err: unknown) => refuse(res, 500, 'internal', 'GEOLOC_ERR_GATEWAY_INTERNAL', `tile ${z}/${x}/${y} could not be rendered: ${String(err)}`),
    );
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, cacheControl: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': cacheControl });
  res.end(body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON_TYPE, JSON.stringify(value), 'no-store');
}
