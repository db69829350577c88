import { join } from 'node:path';
import { WorkerClient } from './workerClient';

/**
 * Starts the FAISS worker (indexWorker.ts). FAISS runs its loops under OpenMP, whose threads
 * spin for a while after every parallel region by default; between the pipeline's one-frame
 * searches that spinning took about 2.7 s of CPU from the model per 950-frame replay. libgomp
 * reads its wait policy once, when faiss-node first loads, from the process environment, which
 * only the main thread can change (a worker's process.env is its own copy). A policy the user
 * set stays.
 */
export function startIndexWorker(label: string): Promise<WorkerClient<object>> {
  process.env.OMP_WAIT_POLICY ??= 'passive';
  return WorkerClient.start<object>(join(__dirname, 'indexWorker.js'), undefined, label);
}
