import type { Frame } from '../core/types';
import { writeNorthUp } from './northUp';
import { frameBytes } from './pixelFormat';
import type { YuvMatrix } from '../core/types';

const SOURCE = 40;
const SIZE = 20;
const BT601: YuvMatrix = { name: 'bt601', kr: 0.299, kb: 0.114 };
const BT709: YuvMatrix = { name: 'bt709', kr: 0.2126, kb: 0.0722 };
/** ImageNet's mean in bytes, as the embedded model is normalised */
const FILL = [124, 116, 104] as const;

/** Source pixels (x, y) of a 4×4 mark `ahead` pixels above the centre: ground straight ahead of the camera. */
function inMark(x: number, y: number, ahead: number): boolean {
  return Math.abs(y + 0.5 - (SOURCE / 2 - ahead)) < 2 && Math.abs(x + 0.5 - SOURCE / 2) < 2;
}

/** A dark grey frame with a white mark ahead, in either layout. */
function frameWithMarkAhead(format: Frame['format'], ahead: number): Frame {
  const header = { index: 0, t: 0, width: SOURCE, height: SOURCE };
  if (format === 'rgb24') {
    const pixels = Buffer.alloc(frameBytes('rgb24', SOURCE, SOURCE), 60);
    for (let y = 0; y < SOURCE; y++) for (let x = 0; x < SOURCE; x++) if (inMark(x, y, ahead)) pixels.fill(255, 3 * (y * SOURCE + x), 3 * (y * SOURCE + x) + 3);
    return { ...header, format, pixels };
  }
  const pixels = Buffer.alloc(frameBytes('yuv420p', SOURCE, SOURCE), 128);
  for (let y = 0; y < SOURCE; y++) for (let x = 0; x < SOURCE; x++) pixels[y * SOURCE + x] = inMark(x, y, ahead) ? 235 : 66;
  return { ...header, format, pixels, matrix: BT601 };
}

function turned(frame: Frame, headingDeg: number): Uint8Array {
  const out = new Uint8Array(SIZE * SIZE * 3);
  writeNorthUp(frame, SIZE, (headingDeg * Math.PI) / 180, FILL, out, 0);
  return out;
}

/** Centre of the bright pixels of an output image, as (x, y) offsets from its centre. */
function markOffset(rgb: Uint8Array): { x: number; y: number } {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      if (rgb[3 * (y * SIZE + x)]! > 170) {
        sx += x + 0.5;
        sy += y + 0.5;
        n++;
      }
    }
  }
  return { x: sx / n - SIZE / 2, y: sy / n - SIZE / 2 };
}

/** A flat YUV frame of one colour. */
function flatYuv(y: number, u: number, v: number, matrix: YuvMatrix): Frame {
  const pixels = Buffer.alloc(frameBytes('yuv420p', 8, 8));
  pixels.fill(y, 0, 64).fill(u, 64, 80).fill(v, 80, 96);
  return { index: 0, t: 0, width: 8, height: 8, format: 'yuv420p', pixels, matrix };
}

function centrePixel(frame: Frame): number[] {
  const out = new Uint8Array(4 * 4 * 3);
  writeNorthUp(frame, 4, 0, FILL, out, 0);
  return [...out.subarray(3 * 5, 3 * 5 + 3)];
}

/** Within the rounding of 8-bit codes: one level each way, and one more for the code's own rounding. */
function expectColour(actual: number[], expected: number[]): void {
  actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(2));
}

describe('writeNorthUp', () => {
  describe.each(['rgb24', 'yuv420p'] as const)('from %s', (format) => {
    test.each([
      [0, { x: 0, y: -6 }],
      [90, { x: 6, y: 0 }],
      [180, { x: 0, y: 6 }],
      [270, { x: -6, y: 0 }],
    ])('a camera facing %i° sees ahead of it what a north-up image shows that way', (heading, expected) => {
      const mark = markOffset(turned(frameWithMarkAhead(format, 12), heading));
      // 12 source pixels ahead, sampled 2:1 → 6 output pixels from the centre, in the heading's direction
      expect(mark.x).toBeCloseTo(expected.x, 0);
      expect(mark.y).toBeCloseTo(expected.y, 0);
    });

    test('outside the source is the fill colour', () => {
      // the corner of a 45°-turned square lies outside the source frame
      expect([...turned(frameWithMarkAhead(format, 12), 45).subarray(0, 3)]).toEqual([124, 116, 104]);
    });
  });

  test('writes at the offset asked and nowhere else', () => {
    const out = new Uint8Array(3 * SIZE * SIZE * 3);
    writeNorthUp(frameWithMarkAhead('rgb24', 12), SIZE, 0, FILL, out, SIZE * SIZE * 3);
    expect(out.subarray(0, SIZE * SIZE * 3).every((v) => v === 0)).toBe(true);
    expect(out.subarray(2 * SIZE * SIZE * 3).every((v) => v === 0)).toBe(true);
    expect(out.subarray(SIZE * SIZE * 3, 2 * SIZE * SIZE * 3)).toEqual(turned(frameWithMarkAhead('rgb24', 12), 0));
  });

  test('YUV becomes RGB by the frame\'s own matrix, in limited range, clipped to bytes', () => {
    // BT.601 and BT.709 codes of full red, and of white and black
    expectColour(centrePixel(flatYuv(81, 90, 240, BT601)), [255, 0, 0]);
    expectColour(centrePixel(flatYuv(63, 102, 240, BT709)), [255, 0, 0]);
    expect(centrePixel(flatYuv(235, 128, 128, BT601))).toEqual([255, 255, 255]);
    expect(centrePixel(flatYuv(16, 128, 128, BT709))).toEqual([0, 0, 0]);
    // read with the wrong matrix, the same red is a duller one
    expect(centrePixel(flatYuv(63, 102, 240, BT601))[0]).toBeLessThan(240);
    // beyond the nominal range is clipped, not wrapped
    expect(centrePixel(flatYuv(255, 128, 128, BT601))).toEqual([255, 255, 255]);
    expect(centrePixel(flatYuv(0, 128, 128, BT601))).toEqual([0, 0, 0]);
  });

  test('4:2:0 chroma is read as centred on its 2×2 block of luma, where ffmpeg\'s scaler writes it', () => {
    // V rises by 8 per chroma column and U by 8 per chroma row; at scale 1 output pixel (x, y)
    // is luma (x, y), whose chroma lies at ((x − ½)/2, (y − ½)/2): V − 128 = 4x − 2, U − 128 = 4y − 2
    const side = 16;
    const chroma = side / 2;
    const pixels = Buffer.alloc(frameBytes('yuv420p', side, side), 126);
    for (let row = 0; row < chroma; row++) {
      for (let col = 0; col < chroma; col++) {
        pixels[side * side + row * chroma + col] = 128 + 8 * row;
        pixels[side * side + chroma * chroma + row * chroma + col] = 128 + 8 * col;
      }
    }
    const out = new Uint8Array(side * side * 3);
    writeNorthUp({ index: 0, t: 0, width: side, height: side, format: 'yuv420p', pixels, matrix: BT601 }, side, 0, FILL, out, 0);
    const luma = ((126 - 16) * 255) / 219;
    const redPerV = (2 * (1 - BT601.kr) * 255) / 224;
    const bluePerU = (2 * (1 - BT601.kb) * 255) / 224;
    // from the second pixel to the last with a neighbour: the first reads its edge chroma as is
    for (let i = 1; i < side - 1; i++) {
      expect(Math.abs(out[3 * (7 * side + i)]! - (luma + redPerV * (4 * i - 2)))).toBeLessThanOrEqual(0.5);
      expect(Math.abs(out[3 * (i * side + 7) + 2]! - (luma + bluePerU * (4 * i - 2)))).toBeLessThanOrEqual(0.5);
    }
  });

  test('a frame whose pixels do not fill its size fails with GEOLOC_ERR_TENSOR_SHAPE', () => {
    const frame = frameWithMarkAhead('yuv420p', 12);
    expect(() => writeNorthUp({ ...frame, pixels: frame.pixels.subarray(1) }, SIZE, 0, FILL, new Uint8Array(SIZE * SIZE * 3), 0)).toThrow(
      expect.objectContaining({ code: 'GEOLOC_ERR_TENSOR_SHAPE' }),
    );
  });
});
