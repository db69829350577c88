/** A replay's fixes as the report page draws them, and the stretches of the flight where they were worst. */
import type { LatLon } from './geo/wgs84';
import type { LocalizedFix } from './localize';
import type { EstimateMethod } from './tracking/types';

export interface ReportFix extends LatLon {
  /** the video's frame number (the fix's `frame`) */
  frame: number;
  t: number;
  radiusM: number;
  method: EstimateMethod;
  truth?: LatLon;
  errorM?: number;
}

export function reportFixOf(fix: LocalizedFix): ReportFix {
  const { estimate, feature } = fix;
  const { truth, errorM } = feature.properties as { truth?: LatLon; errorM?: number };
  return {
    frame: feature.properties.frame,
    t: estimate.t,
    lat: estimate.lat,
    lon: estimate.lon,
    radiusM: estimate.radiusM,
    method: estimate.method,
    ...(truth && errorM !== undefined ? { truth, errorM } : {}),
  };
}

export interface Stretch {
  /** seconds of the flight the stretch spans */
  fromT: number;
  toT: number;
  meanErrorM: number;
  /** the stretch's worst fix: the frame its picture explains */
  worst: ReportFix;
}

export interface StretchOptions {
  /** how many stretches, worst first */
  count: number;
  /** length of a stretch, seconds of the flight */
  seconds: number;
}

/** a handful of pictures an analyst looks through; five seconds is 25 fixes at 5 fps */
export const DEFAULT_STRETCHES: StretchOptions = { count: 3, seconds: 5 };

/**
 * The `count` windows of `seconds` with the highest mean error over their fixes with truth, worst
 * first, none overlapping another: each window starts at a fix, and a window overlapping one
 * already taken is skipped.
 */
export function worstStretches(fixes: readonly ReportFix[], options: StretchOptions = DEFAULT_STRETCHES): Stretch[] {
  const scored = fixes.filter((f) => f.errorM !== undefined);
  const windows: Stretch[] = [];
  for (let i = 0, end = 0; i < scored.length; i++) {
    const fromT = scored[i]!.t;
    while (end < scored.length && scored[end]!.t < fromT + options.seconds) end++;
    const inside = scored.slice(i, end);
    const worst = inside.reduce((a, b) => (b.errorM! > a.errorM! ? b : a));
    windows.push({ fromT, toT: inside[inside.length - 1]!.t, meanErrorM: inside.reduce((s, f) => s + f.errorM!, 0) / inside.length, worst });
  }
  windows.sort((a, b) => b.meanErrorM - a.meanErrorM);
  const taken: Stretch[] = [];
  for (const w of windows) {
    if (taken.length >= options.count) break;
    if (taken.every((t) => w.toT < t.fromT || w.fromT > t.toT)) taken.push(w);
  }
  return taken;
}
