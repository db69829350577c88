import { from, lastValueFrom, toArray } from 'rxjs';
import { meanColour, type TensorSpec } from '../models/tensor';
import type { Frame } from '../pipeline/core/types';
import { writeNorthUp } from '../pipeline/video/northUp';
import { frameBytes } from '../pipeline/video/pixelFormat';
import { preprocess } from './preprocess';

const SPEC: TensorSpec = { inputSize: [4, 6], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const SQUARE: TensorSpec = { ...SPEC, inputSize: [6, 6] };
const BT601 = { name: 'bt601', kr: 0.299, kb: 0.114 };

function frame(index: number, width = 6, height = 4): Frame {
  const pixels = Buffer.alloc(frameBytes('rgb24', width, height));
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + index * 11) & 0xff;
  return { index, t: index / 5, width, height, format: 'rgb24', pixels };
}

function yuvFrame(index: number, side: number): Frame {
  const pixels = Buffer.alloc(frameBytes('yuv420p', side, side));
  for (let i = 0; i < pixels.length; i++) pixels[i] = 16 + ((i * 29 + index * 7) % 200);
  return { index, t: index / 5, width: side, height: side, format: 'yuv420p', pixels, matrix: BT601 };
}

function northUp(f: Frame, size: number, headingDeg: number): Buffer {
  const out = new Uint8Array(size * size * 3);
  writeNorthUp(f, size, (headingDeg * Math.PI) / 180, meanColour(SQUARE), out, 0);
  return Buffer.from(out);
}

describe('preprocess', () => {
  test('packs RGB frames of the input size back to back, each byte as the frame holds it', async () => {
    const batches = [[frame(0), frame(1), frame(2)], [frame(3)]];
    const out = await lastValueFrom(from(batches).pipe(preprocess(SPEC), toArray()));
    expect(out.map((b) => b.n)).toEqual([3, 1]);
    const perImage = 3 * 4 * 6;
    out.forEach((batch, b) => {
      expect(batch.frames).toBe(batches[b]);
      expect(batch.input).toHaveLength(batch.n * perImage);
      batch.frames.forEach((f, i) => {
        expect(Buffer.from(batch.input.subarray(i * perImage, (i + 1) * perImage)).equals(f.pixels)).toBe(true);
      });
    });
  });

  test('turns each frame north-up by its own heading, and samples finer or YUV frames into the square input', async () => {
    const frames = [frame(0, 6, 6), frame(1, 12, 10), yuvFrame(2, 12), frame(3, 6, 6)];
    const headings = new Map([[0, 90], [1, 30], [2, 200]]);
    const [batch] = await lastValueFrom(from([frames]).pipe(preprocess(SQUARE, { headingDeg: (f) => headings.get(f.index) }), toArray()));
    const perImage = 3 * 6 * 6;
    const packed = (i: number) => Buffer.from(batch!.input.subarray(i * perImage, (i + 1) * perImage));
    frames.slice(0, 3).forEach((f, i) => expect(packed(i).equals(northUp(f, 6, headings.get(f.index)!))).toBe(true));
    // a model-sized RGB frame without a heading is the frame itself; turned, it is not
    expect(packed(3).equals(frames[3]!.pixels)).toBe(true);
    expect(packed(0).equals(frames[0]!.pixels)).toBe(false);
  });

  test('what a turned frame leaves uncovered is the model\'s own mean colour, which it reads as 0', async () => {
    const grey: TensorSpec = { ...SQUARE, mean: [0.5, 0.5, 0.5] };
    for (const spec of [SQUARE, grey]) {
      // turned 45°, the corner of the square input lies outside the frame
      const [batch] = await lastValueFrom(from([[frame(0, 6, 6)]]).pipe(preprocess(spec, { headingDeg: () => 45 }), toArray()));
      expect([...batch!.input.subarray(0, 3)]).toEqual([...meanColour(spec)]);
    }
    expect(meanColour(SQUARE)).toEqual([124, 116, 104]);
    expect(meanColour(grey)).toEqual([128, 128, 128]);
  });

  test('a frame the model cannot take fails with GEOLOC_ERR_TENSOR_SHAPE', async () => {
    // another size, and the model's input is not square: nothing to sample it into
    await expect(lastValueFrom(from([[frame(0, 8, 4)]]).pipe(preprocess(SPEC)))).rejects.toMatchObject({ code: 'GEOLOC_ERR_TENSOR_SHAPE' });
    // the right size but short of bytes
    const short = { ...frame(0, 6, 6), pixels: Buffer.alloc(10) };
    await expect(lastValueFrom(from([[short]]).pipe(preprocess(SQUARE)))).rejects.toMatchObject({ code: 'GEOLOC_ERR_TENSOR_SHAPE' });
  });
});
