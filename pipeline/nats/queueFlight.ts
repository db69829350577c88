import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FlightBook, FlightStatus } from './flightBook';
import type { FlightJob } from './job';
import { JOBS_SUBJECT } from './names';

/**
 * Records a new flight in the book (GEOLOC_ERR_NATS_FLIGHT_EXISTS when the name is taken), then
 * queues its job for the workers: a refused name queues nothing.
 */
export async function queueFlight(nc: NatsConnection, book: FlightBook, job: FlightJob): Promise<FlightStatus> {
  const status = await book.create(job);
  await jetstream(nc).publish(JOBS_SUBJECT, JSON.stringify(job));
  return status;
}
