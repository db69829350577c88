import { coded } from '../tests/support/coded';
import { DEFAULT_ALTITUDES_M, DEFAULT_CAMERA, DEFAULT_SCALE_STEP, cameraMisfits, parseAspect, rebuildFlags, scaleLadder, shortSideFovDeg, tileFootprintM } from './indexCamera';

const DEG = Math.PI / 180;

describe('index camera', () => {
  test('a tile is the ground of the frame\'s centre square: the shorter side of a landscape frame', () => {
    expect(tileFootprintM(170, 70, 4 / 3)).toBeCloseTo((2 * 170 * Math.tan(35 * DEG) * 3) / 4, 9);
    expect(tileFootprintM(100, 60, 3 / 4)).toBeCloseTo(2 * 100 * Math.tan(30 * DEG), 9);
    expect(shortSideFovDeg(70, 4 / 3)).toBeCloseTo(55.41, 2);
  });

  test('the altitudes given keep their scales when no gap exceeds the step (the fixture index)', () => {
    const scales = scaleLadder({ hfovDeg: [70, 70], aspect: 4 / 3 }, [170, 200, 240], 1.2, 0.85);
    expect(scales.map((s) => s.altitudeM)).toEqual([170, 200, 240]);
    expect(scales[0]!.strideM).toBeCloseTo(0.15 * scales[0]!.footprintM, 9);
  });

  test('a band is filled so that neighbouring footprints are at most a step apart, from the lowest narrowest view to the highest widest', () => {
    const scales = scaleLadder(DEFAULT_CAMERA, DEFAULT_ALTITUDES_M, DEFAULT_SCALE_STEP, 0.5);
    const footprints = scales.map((s) => s.footprintM);
    expect(footprints[0]).toBeCloseTo(tileFootprintM(100, 70, 4 / 3), 9);
    expect(footprints[footprints.length - 1]).toBeCloseTo(tileFootprintM(300, 84, 4 / 3), 9);
    for (let i = 1; i < footprints.length; i++) {
      expect(footprints[i]! / footprints[i - 1]!).toBeGreaterThan(1);
      expect(footprints[i]! / footprints[i - 1]!).toBeLessThanOrEqual(DEFAULT_SCALE_STEP + 1e-9);
    }
    // the middle field of view at a scale's altitude sees its footprint (to the recorded decimetre)
    for (const s of scales) expect(tileFootprintM(s.altitudeM, 77, 4 / 3) / s.footprintM).toBeCloseTo(1, 3);
  });

  test('aspects read as width:height or a ratio; anything else is refused', () => {
    expect(parseAspect('16:9')).toBeCloseTo(16 / 9, 12);
    expect(parseAspect('1.5')).toBe(1.5);
    for (const bad of ['4:0', 'wide', '-1', '4:3:2']) {
      let thrown: unknown;
      try {
        parseAspect(bad);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject(coded('GEOLOC_ERR_USAGE', '--aspect'));
    }
  });

  test('a camera inside the index\'s fields of view, aspect and band fits; each difference is named, with flags that fit', () => {
    const camera = { hfovDeg: [70, 70] as [number, number], aspect: 4 / 3 };
    expect(cameraMisfits(camera, [170, 240], { shortSideFovDeg: 55.41, aspect: 4 / 3, altitudesM: [172, 241] })).toEqual([]);
    const observed = { shortSideFovDeg: 40, aspect: 16 / 9, altitudesM: [400] };
    const misfits = cameraMisfits(camera, [170, 240], observed);
    expect(misfits).toHaveLength(3);
    expect(misfits[0]).toMatch(/field of view .* 40\.0°, the index's tiles span 55\.4–55\.4°/);
    expect(misfits[1]).toMatch(/frame aspect 1\.778, the index's 1\.333/);
    expect(misfits[2]).toMatch(/telemetry altitudes 400–400 m, the index's band 170–240 m/);
    const flags = rebuildFlags(camera, [170, 240], observed);
    expect(flags).toMatch(/^--hfov [\d.]+ --aspect 1\.778 --altitudes 170,400$/);
    const hfov = Number(flags.split(' ')[1]);
    expect(shortSideFovDeg(hfov, 16 / 9)).toBeCloseTo(40, 1);
  });
});
