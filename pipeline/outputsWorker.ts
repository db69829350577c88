/**
 * The outputs' thread (started by outputsThread.ts): opens the outputs the flags name, gives each
 * the fixes the pipeline hands over, publishes their counts, and closes them when told.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from './core/log';
import { planOutputs } from './outputArgs';
import type { FromOutputsWorker, OutputsWorkerData, ToOutputsWorker } from './outputsThread';
import { OutputSink } from './sinks/outputSink';
import { SharedOutputStats } from './sinks/sharedOutputStats';

const port = parentPort!;
const { values, stats, statsIntervalMs } = workerData as OutputsWorkerData;
const post = (message: FromOutputsWorker) => port.postMessage(message);
const logger: Logger = { log: (record) => post({ log: record }) };
/** a fix's time without --output-start: when the pipeline handed it over, not when this thread got to it */
let handedOverMs = 0;
const sinks = planOutputs(values, logger, () => new Date(handedOverMs)).map(({ name, format, transport, options }) => new OutputSink(name, format, transport, options));
const counts = new SharedOutputStats(stats);
const publish = () => sinks.forEach((sink, i) => counts.write(i, sink.stats()));
const publisher = setInterval(publish, statsIntervalMs);

port.on('message', (message: ToOutputsWorker) => {
  if ('fix' in message) {
    handedOverMs = message.handedOverMs;
    for (const sink of sinks) sink.fix(message.fix);
    return;
  }
  clearInterval(publisher);
  void Promise.all(sinks.map((sink) => sink.close())).then(() => {
    publish();
    post({ closed: true });
  });
});
