/** Where an output goes, as the command line names it: udp://host:port, tcp://host:port or a file. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GeolocError } from '../core/errors';
import { fileTransport } from './fileTransport';
import { tcpTransport } from './tcpTransport';
import type { Transport } from './transport';
import { udpTransport } from './udpTransport';

export type OutputTarget = { kind: 'udp' | 'tcp'; host: string; port: number } | { kind: 'file'; path: string };

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const MAX_PORT = 65535;

/** Refuses (GEOLOC_ERR_OUTPUT_URL) anything but the three forms, and a file in a folder that does not exist. */
export function parseOutputTarget(text: string): OutputTarget {
  const refuse = (why: string) => new GeolocError('GEOLOC_ERR_OUTPUT_URL', `output ${JSON.stringify(text)}: ${why}; give udp://host:port, tcp://host:port or a file path`);
  const scheme = SCHEME.exec(text)?.[1]!.toLowerCase();
  if (scheme === undefined) {
    if (text === '' || text === '-') throw refuse('not a file (stdout carries the JSONL fixes)');
    if (!existsSync(dirname(resolve(text)))) throw refuse(`folder ${dirname(resolve(text))} does not exist`);
    return { kind: 'file', path: text };
  }
  if (scheme !== 'udp' && scheme !== 'tcp') throw refuse(`${scheme}:// is not an output transport`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('not a valid URL (port out of range?)');
  }
  const port = Number(url.port);
  if (url.hostname === '') throw refuse('no host');
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) throw refuse('no port (1-65535)');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash || url.username || url.password) throw refuse('nothing may follow host:port');
  return { kind: scheme, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** The transport of a target. `lines`: a text format, written to files one message a line. */
export function transportFor(target: OutputTarget, options: { lines: boolean }): Transport {
  switch (target.kind) {
    case 'udp':
      return udpTransport(target.host, target.port);
    case 'tcp':
      return tcpTransport(target.host, target.port);
    case 'file':
      return fileTransport(target.path, options);
  }
}
