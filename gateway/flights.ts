/**
 * The flights the gateway has seen, with the last fixes of each (already serialized, for
 * the snapshot), and who subscribes to which flight name.
 */
import type { FixFeature, FixMatches } from '../pipeline/core/types';
import type { FlightSummary, WireFix } from './protocol';

interface Flight {
  summary: FlightSummary;
  /** serialized WireFix JSON with its stream sequence when it came from NATS, oldest first, at most snapshotSize */
  recent: Array<{ json: string; seq?: number }>;
  /** serialized matched points by frame, oldest first, at most evidenceSize */
  matches: Map<number, string>;
}

export class FlightRegistry<Subscriber> {
  private readonly flights = new Map<string, Flight>();
  /** A client may subscribe before a flight's first fix; the set goes when its last subscriber does. */
  private readonly subscribersByFlight = new Map<string, Set<Subscriber>>();

  constructor(
    private readonly snapshotSize: number,
    private readonly evidenceSize: number,
  ) {}

  /**
   * Stamps the fix with the gateway's send time and serializes it once for every client.
   * Returns the JSON and whether this is the flight's first fix.
   */
  record(flight: string, fix: FixFeature, now: number, matches?: FixMatches): { json: string; isNew: boolean } {
    const wire: WireFix = { ...fix, properties: { ...fix.properties, flight, sentAt: now } };
    const json = JSON.stringify(wire);
    let entry = this.flights.get(flight);
    const isNew = entry === undefined;
    if (!entry) {
      entry = { summary: { flight, fixes: 0, lastT: fix.properties.t, lastFixAt: now }, recent: [], matches: new Map() };
      this.flights.set(flight, entry);
    }
    entry.summary.fixes += 1;
    entry.summary.lastT = fix.properties.t;
    entry.summary.lastFixAt = now;
    if (this.snapshotSize > 0) {
      const { seq } = fix.properties;
      entry.recent.push(typeof seq === 'number' ? { json, seq } : { json });
      if (entry.recent.length > this.snapshotSize) entry.recent.shift();
    }
    if (matches && this.evidenceSize > 0) {
      const frame = fix.properties.frame;
      entry.matches.delete(frame);
      entry.matches.set(frame, JSON.stringify({ flight, frame, ...matches }));
      if (entry.matches.size > this.evidenceSize) entry.matches.delete(entry.matches.keys().next().value!);
    }
    return { json, isNew };
  }

  /** The matched points kept for one fix of a flight, as JSON; undefined when none are. */
  matchesJson(flight: string, frame: number): string | undefined {
    return this.flights.get(flight)?.matches.get(frame);
  }

  /** The snapshot message, built from the stored JSON without parsing it again; with `after`, only fixes of a greater `seq`. */
  snapshotJson(flight: string, after?: number): string {
    const recent = this.flights.get(flight)?.recent ?? [];
    const kept = after === undefined ? recent : recent.filter((r) => r.seq !== undefined && r.seq > after);
    return `{"type":"snapshot","flight":${JSON.stringify(flight)},"features":[${kept.map((r) => r.json).join(',')}]}`;
  }

  summaries(): FlightSummary[] {
    return [...this.flights.values()].map((f) => ({ ...f.summary }));
  }

  subscribe(flight: string, subscriber: Subscriber): void {
    let set = this.subscribersByFlight.get(flight);
    if (!set) {
      set = new Set();
      this.subscribersByFlight.set(flight, set);
    }
    set.add(subscriber);
  }

  unsubscribe(flight: string, subscriber: Subscriber): void {
    const set = this.subscribersByFlight.get(flight);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.subscribersByFlight.delete(flight);
  }

  subscribers(flight: string): Iterable<Subscriber> {
    return this.subscribersByFlight.get(flight) ?? [];
  }
}
