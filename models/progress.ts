/**
 * A progress line on stderr without a dependency: a redrawn bar on a terminal, plain
 * periodic lines when the output is a file or pipe (logs stay readable).
 */

export interface ProgressOptions {
  label: string;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** redraw one bar in place; default: when the stream is a terminal */
  bar?: boolean;
}

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

const BAR_WIDTH = 30;
const BAR_REDRAW_MS = 100;
const LINE_INTERVAL_MS = 5000;
const MS_PER_S = 1000;

export function progressReporter({ label, stream = process.stderr, bar = Boolean(stream.isTTY) }: ProgressOptions): Progress {
  const started = Date.now();
  let lastDrawn = 0;
  let last = { done: 0, total: 0 };

  const text = ({ done, total }: typeof last): string => {
    const fraction = total > 0 ? done / total : 1;
    const seconds = (Date.now() - started) / MS_PER_S;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const meter = bar ? `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ` : '';
    return `${label} ${meter}${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${total} ${rate.toFixed(1)}/s ETA ${eta}s`;
  };
  const draw = () => {
    stream.write(bar ? `\r${text(last)}` : `${text(last)}\n`);
    lastDrawn = Date.now();
  };

  return {
    update(done, total) {
      last = { done, total };
      if (Date.now() - lastDrawn >= (bar ? BAR_REDRAW_MS : LINE_INTERVAL_MS)) draw();
    },
    finish() {
      draw();
      if (bar) stream.write('\n');
    },
  };
}
