import { GeolocError } from '../core/errors';

/** Where frames come from. Network kinds are live: they may drop out and come back. */
export type SourceKind = 'file' | 'stdin' | 'rtsp' | 'udp' | 'tcp' | 'srt';

const URL_KINDS: Record<string, SourceKind> = { 'rtsp:': 'rtsp', 'rtsps:': 'rtsp', 'udp:': 'udp', 'tcp:': 'tcp', 'srt:': 'srt' };

export const STDIN_SOURCE = '-';

export function sourceKind(source: string): SourceKind {
  if (source === STDIN_SOURCE) return 'stdin';
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(source)?.[1]?.toLowerCase();
  if (scheme === undefined) return 'file';
  if (scheme === 'file:') return 'file';
  const kind = URL_KINDS[scheme];
  if (!kind) {
    throw new GeolocError(
      'GEOLOC_ERR_SOURCE_UNSUPPORTED',
      `video source ${source}: ${scheme}// is not supported; give a file path, "-" for stdin, or an rtsp://, udp://, tcp:// or srt:// URL`,
    );
  }
  return kind;
}

/** A network stream that can die and come back, so it is reconnected and read newest-frame-first. */
export function isNetworkKind(kind: SourceKind): boolean {
  return kind !== 'file' && kind !== 'stdin';
}
