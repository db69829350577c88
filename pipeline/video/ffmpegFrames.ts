import { Observable } from 'rxjs';
import { GeolocError } from '../core/errors';
import type { Logger } from '../core/log';
import type { Demand } from './demand';
import { type DecoderExit, type FfmpegDecodeOptions, spawnDecoder } from './ffmpegSource';
import { FrameAssembler } from './frameAssembler';
import { frameBytes } from './pixelFormat';
import { isNetworkKind, type SourceKind } from './sourceKind';

/** ffmpeg's words for damaged input it concealed or skipped (it keeps decoding after them). */
const CORRUPT_DATA = /error while decoding|corrupt|concealing|invalid nal|decode_slice_header|non-existing pps|no frame!|missing picture|overread|damaged|error in the bitstream|ac-tex|dc, ac|mb_type|cbp too large/i;

const STDIN_HINT = 'a pipe needs a streamable container such as MPEG-TS (an MP4 needs -movflags +faststart or fragments)';

/** What one ffmpeg run met, for the caller's statistics. */
export interface DecodeRunEvents {
  onStart?(pid: number | undefined): void;
  onCorruptData?(line: string): void;
}

function lastWords(exit: DecoderExit): string {
  const tail = exit.stderrTail.filter((line) => line.trim() !== '').slice(-3).join(' | ');
  return tail ? `: ${tail}` : '';
}

function exitDescription(exit: DecoderExit): string {
  if (exit.spawnError) return `ffmpeg could not be started (${exit.spawnError.message})`;
  return exit.signal ? `ffmpeg was killed by ${exit.signal}` : `ffmpeg exited with code ${exit.code}`;
}

/**
 * One ffmpeg run over `source` as a stream of raw frame buffers (in `options.pixelFormat`). A file or stdin
 * completes at its end and errors with GEOLOC_ERR_SOURCE_UNREADABLE when ffmpeg fails; a
 * network stream never ends on purpose, so any exit, or readTimeoutMs without a frame once
 * frames came, is GEOLOC_ERR_STREAM_LOST (the caller may reconnect). Unsubscribing stops ffmpeg
 * (SIGTERM, then SIGKILL) and reaps it.
 */
export function ffmpegFrames(
  source: string,
  kind: SourceKind,
  options: FfmpegDecodeOptions,
  demand: Demand,
  logger: Logger,
  events: DecodeRunEvents = {},
): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    let corruptLines = 0;
    const size = frameBytes(options.pixelFormat, options.width, options.height);
    // once a live stream's frames flow, readTimeoutMs without one while there is credit for it
    // means the stream is lost: ffmpeg is stopped then, and the frames it still holds are not
    // taken (see SOCKET_TIMEOUT_GRACE_MS)
    let silence: NodeJS.Timeout | undefined;
    let flowing = false;
    let fellSilent = false;
    const watchSilence = () => {
      clearTimeout(silence);
      if (flowing && demand.available && !subscriber.closed) {
        silence = setTimeout(() => {
          fellSilent = true;
          void decoder.stop();
        }, options.readTimeoutMs);
      }
    };
    const stopWatching = demand.onGrant(watchSilence);
    const assembler = new FrameAssembler(size, demand, (pixels) => {
      flowing = isNetworkKind(kind);
      subscriber.next(pixels);
      watchSilence();
    });
    const decoder = spawnDecoder(source, kind, options, assembler, {
      onStart: events.onStart,
      onStderrLine(line) {
        if (!CORRUPT_DATA.test(line)) return;
        corruptLines += 1;
        events.onCorruptData?.(line);
      },
    });
    void decoder.exited.then((exit) => {
      stopWatching();
      clearTimeout(silence);
      if (subscriber.closed) return;
      // every byte ffmpeg wrote reaches the assembler before it finishes
      assembler.end(() => {
        if (subscriber.closed) return;
        if (assembler.truncatedBytes > 0 && !fellSilent) {
          logger.log({ level: 'warn', code: 'GEOLOC_ERR_FRAME_CORRUPT', message: `${source}: dropped an incomplete last frame (${assembler.truncatedBytes} bytes)`, source });
        }
        if (corruptLines > 0) {
          logger.log({ level: 'warn', code: 'GEOLOC_ERR_FRAME_CORRUPT', message: `${source}: the decoder concealed or skipped damaged data ${corruptLines} times and went on`, source, corruptLines });
        }
        finish(exit);
      });
    });

    const finish = (exit: DecoderExit) => {
      if (fellSilent) {
        // the frames ffmpeg held (a partial one in the assembler, the rest written after the stop)
        const held = Math.floor((assembler.truncatedBytes + exit.discardedBytes) / size);
        const dropped = held > 0 ? `; ${held} frame(s) ffmpeg gave out after that, held from before it, were dropped` : '';
        subscriber.error(new GeolocError('GEOLOC_ERR_STREAM_LOST', `live source ${source}: no frame for ${options.readTimeoutMs} ms${dropped}`));
      } else if (isNetworkKind(kind)) {
        subscriber.error(new GeolocError('GEOLOC_ERR_STREAM_LOST', `live source ${source}: ${exitDescription(exit)}${lastWords(exit)}`));
      } else if (exit.code === 0) {
        subscriber.complete();
      } else {
        subscriber.error(
          new GeolocError(
            'GEOLOC_ERR_SOURCE_UNREADABLE',
            `video source ${source} could not be decoded: ${exitDescription(exit)}${lastWords(exit)}; ${kind === 'stdin' ? STDIN_HINT : 'check that it exists and is a video ffmpeg can read'}`,
          ),
        );
      }
    };

    return () => {
      stopWatching();
      clearTimeout(silence);
      void decoder.stop();
      assembler.destroy();
    };
  });
}
