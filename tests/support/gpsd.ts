/**
 * A gpsd of the test's own, fed NMEA over loopback UDP, and a gpspipe that watches it: the
 * DESIGN recipe `gpsd -N -n -S <ctl-port> udp://127.0.0.1:<port>`, then `gpspipe -w
 * localhost:<ctl-port>`. gpsd and gpsd-clients are installed on first use by
 * scripts/ensure-gpsd.sh; no system gpsd service is involved.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../pipeline/core/paths';
import { freeTcpPort, freeUdpPort, killAndWait, waitFor } from './processes';

/** How closely gpsd's reports must match the fixes sent: positions as the issue asks, speeds as
 * gpsd prints them (mm/s), eph as HDOP's two decimals × gpsd's 19 m. */
export const GPSD_TOLERANCE = { degrees: 1e-6, speedMps: 2e-3, ephM: 0.1 } as const;
/** GSA, RMC, VTG, GST, GGA: one message (one datagram) per fix */
export const NMEA_SENTENCES_PER_FIX = 5;

/** A gpsd report (TPV, GST, DEVICES, …) as gpspipe -w prints it. */
export type GpsdReport = Record<string, any> & { class: string };

export interface Gpsd {
  /** where to send NMEA: udp://127.0.0.1:<port> */
  nmeaUrl: string;
  reports: GpsdReport[];
  ofClass(name: string): GpsdReport[];
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const GPSPIPE_RETRY_MS = 100;

/** Installs gpsd when it is missing (root and the Debian archive needed); throws with the script's words otherwise. */
export function ensureGpsd(): void {
  const run = spawnSync('bash', [join(repoRoot(), 'scripts', 'ensure-gpsd.sh')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scripts/ensure-gpsd.sh failed: ${run.stderr}`);
}

/** Starts gpsd on free loopback ports and a gpspipe on its control port; resolves once gpsd watches its UDP port. */
export async function startGpsd(): Promise<Gpsd> {
  const [udpPort, controlPort] = [await freeUdpPort(), await freeTcpPort()];
  const source = `udp://127.0.0.1:${udpPort}`;
  const gpsd = spawn('gpsd', ['-N', '-n', '-S', String(controlPort), source], { stdio: ['ignore', 'ignore', 'pipe'] });
  gpsd.stderr!.resume();
  const reports: GpsdReport[] = [];
  let pipe: ChildProcess | undefined;
  const stop = async () => {
    if (pipe) await killAndWait(pipe);
    await killAndWait(gpsd);
  };
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    // gpspipe gives up at once when gpsd is not listening yet: start it again until it stays
    while (!reports.some((r) => r.class === 'DEVICES' && r.devices?.some((d: GpsdReport) => d.path === source))) {
      if (Date.now() > deadline) throw new Error(`gpsd did not come up on control port ${controlPort} within ${READY_TIMEOUT_MS} ms`);
      if (!pipe || pipe.exitCode !== null) {
        pipe = spawn('gpspipe', ['-w', `localhost:${controlPort}`], { stdio: ['ignore', 'pipe', 'ignore'] });
        createInterface({ input: pipe.stdout! }).on('line', (line) => reports.push(JSON.parse(line) as GpsdReport));
      }
      await new Promise((r) => setTimeout(r, GPSPIPE_RETRY_MS));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nmeaUrl: source, reports, ofClass: (name) => reports.filter((r) => r.class === name), stop };
}

/** Waits until `count` reports of a class arrived (or throws after `timeoutMs`). */
export function waitForReports(gpsd: Gpsd, name: string, count: number, timeoutMs: number): Promise<void> {
  return waitFor(() => gpsd.ofClass(name).length >= count, timeoutMs, `${count} gpsd ${name} reports`);
}
