import { from, lastValueFrom, toArray } from 'rxjs';
import type { Frame } from '../pipeline/types';
import { derotate } from './derotate';

const SOURCE = 40;
const SIZE = 20;
const OVERSAMPLE = 2;
const MARK = [255, 0, 0];

/** A grey source frame with a red 4×4 mark `ahead` pixels above its centre: ground straight ahead of the camera. */
function frameWithMarkAhead(ahead: number): Frame {
  const rgb = Buffer.alloc(SOURCE * SOURCE * 3, 90);
  for (let y = SOURCE / 2 - ahead - 2; y < SOURCE / 2 - ahead + 2; y++) for (let x = SOURCE / 2 - 2; x < SOURCE / 2 + 2; x++) rgb.set(MARK, 3 * (y * SOURCE + x));
  return { index: 0, t: 0, width: SOURCE, height: SOURCE, rgb };
}

/** Centre of the red pixels of an output frame, as (x, y) offsets from its centre. */
function markOffset(frame: Frame): { x: number; y: number } {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const i = 3 * (y * frame.width + x);
      if (frame.rgb[i]! > 170 && frame.rgb[i + 1]! < 80) {
        sx += x + 0.5;
        sy += y + 0.5;
        n++;
      }
    }
  }
  return { x: sx / n - frame.width / 2, y: sy / n - frame.height / 2 };
}

async function turned(headingDeg: number | undefined): Promise<Frame> {
  const [out] = await lastValueFrom(from([frameWithMarkAhead(12)]).pipe(derotate({ size: SIZE, oversample: OVERSAMPLE, headingDeg: () => headingDeg }), toArray()));
  return out!;
}

describe('derotate', () => {
  test.each([
    [0, { x: 0, y: -6 }],
    [90, { x: 6, y: 0 }],
    [180, { x: 0, y: 6 }],
    [270, { x: -6, y: 0 }],
  ])('a camera facing %i° sees ahead of it what a north-up frame shows that way', async (heading, expected) => {
    const out = await turned(heading);
    expect(out).toMatchObject({ width: SIZE, height: SIZE });
    const mark = markOffset(out);
    // 12 source pixels ahead, sampled 2:1 → 6 output pixels from the centre, in the heading's direction
    expect(mark.x).toBeCloseTo(expected.x, 0);
    expect(mark.y).toBeCloseTo(expected.y, 0);
  });

  test('without a heading the frame is only resampled; outside the source is the mean colour', async () => {
    const plain = await turned(undefined);
    expect(markOffset(plain)).toEqual(markOffset(await turned(0)));
    const diagonal = await turned(45);
    // the corner of a 45°-turned square lies outside the source frame
    expect([...diagonal.rgb.subarray(0, 3)]).toEqual([124, 116, 104]);
  });

  test('refuses an impossible size', () => {
    expect(() => derotate({ size: 0, oversample: 2, headingDeg: () => 0 })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_PIPELINE_CONFIG' }));
  });
});
