import { imageTensorLength, meanColour, rgbToTensor, type TensorSpec } from './tensor';

const spec: TensorSpec = { inputSize: [2, 3], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A 3×2 image whose pixel p has R = 10p, G = 100 + 10p, B = 255 − 10p. */
function gradient(): Buffer {
  const rgb = Buffer.alloc(3 * 2 * 3);
  for (let p = 0; p < 6; p++) rgb.set([10 * p, 100 + 10 * p, 255 - 10 * p], 3 * p);
  return rgb;
}

describe('rgbToTensor', () => {
  test('writes (x/255 − mean)/std, one channel plane after another', () => {
    const t = rgbToTensor(gradient(), 3, 2, spec);
    expect(t.length).toBe(imageTensorLength(spec));
    for (let p = 0; p < 6; p++) {
      expect(t[p]).toBeCloseTo((10 * p / 255 - 0.485) / 0.229, 5);
      expect(t[6 + p]).toBeCloseTo(((100 + 10 * p) / 255 - 0.456) / 0.224, 5);
      expect(t[12 + p]).toBeCloseTo(((255 - 10 * p) / 255 - 0.406) / 0.225, 5);
    }
  });

  test('fills one slot of a batch buffer and leaves the rest alone', () => {
    const batch = new Float32Array(3 * imageTensorLength(spec)).fill(7);
    rgbToTensor(gradient(), 3, 2, spec, batch, imageTensorLength(spec));
    expect([...batch.subarray(0, imageTensorLength(spec))].every((v) => v === 7)).toBe(true);
    expect(batch.subarray(imageTensorLength(spec), 2 * imageTensorLength(spec))).toEqual(rgbToTensor(gradient(), 3, 2, spec));
    expect([...batch.subarray(2 * imageTensorLength(spec))].every((v) => v === 7)).toBe(true);
  });

  test('refuses an image of another size, a short buffer or no room: GEOLOC_ERR_TENSOR_SHAPE', () => {
    expect(() => rgbToTensor(gradient(), 2, 3, spec)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_TENSOR_SHAPE', message: expect.stringContaining('2×3') }));
    expect(() => rgbToTensor(gradient().subarray(3), 3, 2, spec)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_TENSOR_SHAPE' }));
    expect(() => rgbToTensor(gradient(), 3, 2, spec, new Float32Array(imageTensorLength(spec)), 1)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_TENSOR_SHAPE' }));
  });
});

describe('meanColour', () => {
  test('is the colour the model reads as 0, within half a byte level in every channel', () => {
    const tensor = rgbToTensor(Buffer.from([...meanColour(spec)]), 1, 1, { ...spec, inputSize: [1, 1] });
    for (const [c, value] of tensor.entries()) expect(Math.abs(value)).toBeLessThanOrEqual(0.5 / (255 * spec.std[c]!));
  });
});
