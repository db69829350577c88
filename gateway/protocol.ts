/**
 * The gateway's wire protocol (documented in PROTOCOL.md). Every message is one JSON text
 * frame. A fix goes out as a bare GeoJSON Feature, recognised by `type: 'Feature'`; every
 * other server message has its own `type`.
 */
import type { FixFeature } from '../pipeline/core/types';
import type { ErrorCode } from '../pipeline/core/errors';

export const WS_PATH = '/ws';
/** Flight names are short labels, not documents. */
export const MAX_FLIGHT_NAME_LENGTH = 128;

export interface SubscribeMessage {
  type: 'subscribe';
  flight: string;
  /**
   * resume: the snapshot then holds only the fixes whose `seq` is greater (a client
   * reconnecting to a gateway fed from NATS gives the `seq` of the last fix it has)
   */
  after?: number;
}

export interface UnsubscribeMessage {
  type: 'unsubscribe';
  flight: string;
}

export type ClientMessage = SubscribeMessage | UnsubscribeMessage;

/** A fix as the gateway sends it: the publisher's Feature plus the gateway's send time. */
export interface WireFix extends FixFeature {
  properties: FixFeature['properties'] & {
    /** ms since the epoch when the gateway received the fix from its publisher */
    sentAt: number;
  };
}

export interface FlightSummary {
  flight: string;
  /** fixes published for this flight since the gateway started */
  fixes: number;
  /** `t` of the latest fix, seconds from the start of its source */
  lastT: number;
  /** ms since the epoch when the latest fix arrived */
  lastFixAt: number;
}

/** The last fixes of a flight, oldest first, sent once after `subscribe`. */
export interface SnapshotMessage {
  type: 'snapshot';
  flight: string;
  features: WireFix[];
}

export interface UnsubscribedMessage {
  type: 'unsubscribed';
  flight: string;
}

/** Sent on connect and whenever a new flight appears. */
export interface FlightsMessage {
  type: 'flights';
  flights: FlightSummary[];
}

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
}

export type ServerMessage = WireFix | SnapshotMessage | UnsubscribedMessage | FlightsMessage | ErrorMessage;

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: ErrorMessage };

const CLIENT_MESSAGE_TYPES: ReadonlySet<string> = new Set<ClientMessage['type']>(['subscribe', 'unsubscribe']);

/** Validates one client frame by hand: JSON object, known type, a flight name that fits. */
export function parseClientMessage(data: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return refuse('GEOLOC_ERR_WS_MALFORMED', 'message is not JSON; send {"type":"subscribe","flight":"<name>"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return refuse('GEOLOC_ERR_WS_MALFORMED', 'message must be a JSON object with a "type" field');
  }
  const { type, flight } = value as Record<string, unknown>;
  if (typeof type !== 'string') {
    return refuse('GEOLOC_ERR_WS_MALFORMED', 'message has no string "type" field');
  }
  if (!CLIENT_MESSAGE_TYPES.has(type)) {
    return refuse('GEOLOC_ERR_WS_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(type.slice(0, MAX_FLIGHT_NAME_LENGTH))}; use one of ${[...CLIENT_MESSAGE_TYPES].join(', ')}`);
  }
  if (typeof flight !== 'string' || flight.length === 0 || flight.length > MAX_FLIGHT_NAME_LENGTH) {
    return refuse('GEOLOC_ERR_WS_MALFORMED', `"${type}" needs a "flight" string of 1 to ${MAX_FLIGHT_NAME_LENGTH} characters`);
  }
  const { after } = value as Record<string, unknown>;
  if (after !== undefined && (type !== 'subscribe' || !Number.isSafeInteger(after) || (after as number) < 0)) {
    return refuse('GEOLOC_ERR_WS_MALFORMED', '"after" belongs to "subscribe" and is the "seq" of the last fix the client has, a whole number ≥ 0');
  }
  if (after !== undefined) return { ok: true, message: { type: 'subscribe', flight, after: after as number } };
  return { ok: true, message: { type: type as ClientMessage['type'], flight } };
}

function refuse(code: ErrorCode, message: string): ParseResult {
  return { ok: false, error: errorMessage(code, message) };
}

export function errorMessage(code: ErrorCode, message: string): ErrorMessage {
  return { type: 'error', code, message };
}

/** Tells a fix from the other server messages. */
export function isFix(message: ServerMessage): message is WireFix {
  return message.type === 'Feature';
}
