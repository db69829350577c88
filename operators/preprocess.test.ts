import { from, lastValueFrom, toArray } from 'rxjs';
import type { TensorSpec } from '../models/tensor';
import type { Frame } from '../pipeline/types';
import { preprocess } from './preprocess';

const SPEC: TensorSpec = { inputSize: [4, 6], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function frame(index: number, width = 6, height = 4): Frame {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + index * 11) & 0xff;
  return { index, t: index / 5, width, height, rgb };
}

describe('preprocess', () => {
  test('packs the frames of a batch back to back, each byte as the frame holds it', async () => {
    const batches = [[frame(0), frame(1), frame(2)], [frame(3)]];
    const out = await lastValueFrom(from(batches).pipe(preprocess(SPEC), toArray()));
    expect(out.map((b) => b.n)).toEqual([3, 1]);
    const perImage = 3 * 4 * 6;
    out.forEach((batch, b) => {
      expect(batch.frames).toBe(batches[b]);
      expect(batch.input).toHaveLength(batch.n * perImage);
      batch.frames.forEach((f, i) => {
        expect(Buffer.from(batch.input.subarray(i * perImage, (i + 1) * perImage)).equals(f.rgb)).toBe(true);
      });
    });
  });

  test('a frame of another size fails with GEOLOC_ERR_TENSOR_SHAPE', async () => {
    await expect(lastValueFrom(from([[frame(0, 8, 4)]]).pipe(preprocess(SPEC)))).rejects.toMatchObject({ code: 'GEOLOC_ERR_TENSOR_SHAPE' });
  });
});
