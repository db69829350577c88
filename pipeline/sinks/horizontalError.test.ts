import { fixFeature } from '../../tests/support/fixFeatures';
import { errorEllipse, horizontalCovariance, SIGMAS_PER_R95 } from './horizontalError';

describe('horizontal error', () => {
  test('without a covariance: the circle of the 95% radius, σ = radiusM / 2.4477', () => {
    expect(SIGMAS_PER_R95).toBeCloseTo(2.4477, 4);
    const covariance = horizontalCovariance(fixFeature(0, 0, { radiusM: 24.477 }).properties);
    expect(covariance[0]).toBeCloseTo(100, 2);
    expect(covariance[1]).toBe(0);
    expect(covariance[2]).toBeCloseTo(100, 2);
  });

  test('the fix covariance wins when it is one; a malformed one falls back to the radius', () => {
    expect(horizontalCovariance(fixFeature(0, 0, { covarianceM2: [9, 1, 4] }).properties)).toEqual([9, 1, 4]);
    expect(horizontalCovariance(fixFeature(0, 0, { radiusM: 0, covarianceM2: [9, Number.NaN, 4] }).properties)).toEqual([0, 0, 0]);
  });

  test.each([
    [[16, 0, 4], 4, 2, 0],
    [[4, 0, 16], 4, 2, 90],
    [[10, 6, 10], 4, 2, 45],
    [[10, -6, 10], 4, 2, 135],
    [[9, 0, 9], 3, 3, 0],
  ] as const)('ellipse of %j: %d × %d m at %d°', (covariance, major, minor, orientation) => {
    const ellipse = errorEllipse(covariance);
    expect(ellipse.semiMajorM).toBeCloseTo(major, 9);
    expect(ellipse.semiMinorM).toBeCloseTo(minor, 9);
    expect(ellipse.orientationDeg).toBeCloseTo(orientation, 9);
  });
});
