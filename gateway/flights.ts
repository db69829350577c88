/**
 * The flights the gateway has seen, with the last fixes of each (already serialized, for
 * the snapshot), and who subscribes to which flight name.
 */
import type { FixFeature } from '../pipeline/core/types';
import type { FlightSummary, WireFix } from './protocol';

interface Flight {
  summary: FlightSummary;
  /** serialized WireFix JSON, oldest first, at most snapshotSize */
  recent: string[];
}

export class FlightRegistry<Subscriber> {
  private readonly flights = new Map<string, Flight>();
  /** A client may subscribe before a flight's first fix; the set goes when its last subscriber does. */
  private readonly subscribersByFlight = new Map<string, Set<Subscriber>>();

  constructor(private readonly snapshotSize: number) {}

  /**
   * Stamps the fix with the gateway's send time and serializes it once for every client.
   * Returns the JSON and whether this is the flight's first fix.
   */
  record(flight: string, fix: FixFeature, now: number): { json: string; isNew: boolean } {
    const wire: WireFix = { ...fix, properties: { ...fix.properties, flight, sentAt: now } };
    const json = JSON.stringify(wire);
    let entry = this.flights.get(flight);
    const isNew = entry === undefined;
    if (!entry) {
      entry = { summary: { flight, fixes: 0, lastT: fix.properties.t, lastFixAt: now }, recent: [] };
      this.flights.set(flight, entry);
    }
    entry.summary.fixes += 1;
    entry.summary.lastT = fix.properties.t;
    entry.summary.lastFixAt = now;
    if (this.snapshotSize > 0) {
      entry.recent.push(json);
      if (entry.recent.length > this.snapshotSize) entry.recent.shift();
    }
    return { json, isNew };
  }

  /** The snapshot message, built from the stored JSON without parsing it again. */
  snapshotJson(flight: string): string {
    const recent = this.flights.get(flight)?.recent ?? [];
    return `{"type":"snapshot","flight":${JSON.stringify(flight)},"features":[${recent.join(',')}]}`;
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
