/** Helpers the gateway's tests and its load benchmark share: real ws clients, fixes, /metrics scrapes. */
import { request, type OutgoingHttpHeaders } from 'node:http';
import { WebSocket, type ClientOptions } from 'ws';
import type { FixFeature } from '../../pipeline/core/types';
import { isFix, type ServerMessage, type WireFix } from '../../gateway/protocol';

const DEFAULT_WAIT_MS = 5000;
const POLL_MS = 10;

/** A fix at a point, with the few properties every fix has. */
export function makeFix(flight: string, frame: number, lon = 8.5 + frame * 1e-4, lat = 47.3): FixFeature {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: { flight, frame, t: frame / 10, radiusM: 25, confidence: 0.8 },
  };
}

/** Matches the fix of one frame (of one flight, when named). */
export const isFixOfFrame =
  (frame: number, flight?: string) =>
  (m: ServerMessage): m is WireFix =>
    isFix(m) && m.properties.frame === frame && (flight === undefined || m.properties.flight === flight);

/** A real ws client that keeps every message it receives and lets a test wait for one. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** Resolves once open; rejects with the HTTP status of a refused upgrade as `err.status`. */
  static connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The first message, at or after index `from`, that matches. */
  async waitFor<T extends ServerMessage>(match: (m: ServerMessage) => m is T, from = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    return this.until(() => this.messages.slice(from).find(match) as T | undefined, timeoutMs, 'a matching message');
  }

  waitForClose(timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    return this.until(() => this.closeCode, timeoutMs, 'the connection to close');
  }

  /** Resolves with the first defined value of `probe`, re-checked on every message and close. */
  private until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return false;
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.messages.length} messages`));
      }, timeoutMs);
      const waiter = () => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.waiters.push(waiter);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}

export const isType =
  <K extends Exclude<ServerMessage['type'], 'Feature'>>(type: K) =>
  (m: ServerMessage): m is Extract<ServerMessage, { type: K }> =>
    m.type === type;

/** The value of one sample in a Prometheus text exposition, e.g. ('geoloc_ws_rejected_total', {reason: 'origin'}). */
export async function scrapeMetric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const labelText = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const prefix = labelText ? `${name}{${labelText}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`metric ${prefix.trim()} not found in /metrics`);
  return Number(line.slice(prefix.length));
}

/** A GET with headers fetch() will not send (Host); the status and body as text. */
export function httpGet(baseUrl: string, path: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls a condition until it holds. */
export async function waitUntil(condition: () => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
