import { toFixFeature } from './fixFeature';
import type { TrackEstimate } from './tracking/types';

const ESTIMATE: TrackEstimate = {
  frame: 7,
  t: 1.4000001,
  lat: 47.123456789,
  lon: 8.987654321,
  radiusM: 21.23456,
  confidence: 0.87654,
  lost: false,
  relocalizing: false,
  method: 'retrieval',
  candidates: [],
  speedMps: 10.0004,
  headingDeg: 89.99949,
  covarianceM2: [100.00049, -3.1234567, 81],
  velocityMps: [0.0001234, 10.0004],
  velocityCovarianceM2s2: [0.25, 0.0000004, 1.0006],
  speedSigmaMps: 1.0003,
  headingSigmaDeg: 2.8651234,
};

describe('toFixFeature', () => {
  test('carries the uncertainty as [north, east] pairs and [nn, ne, ee] triples, rounded to 1 mm like the other values', () => {
    const { properties } = toFixFeature(ESTIMATE, 'f');
    expect(properties).toMatchObject({
      speedMps: 10,
      headingDeg: 89.999,
      covarianceM2: [100, -3.123, 81],
      velocityMps: [0, 10],
      velocityCovarianceM2s2: [0.25, 0, 1.001],
      speedSigmaMps: 1,
      headingSigmaDeg: 2.865,
    });
  });

  test('says how the estimate was made, with the registration evidence when the frame registered', () => {
    expect(toFixFeature(ESTIMATE, 'f').properties).toMatchObject({ method: 'retrieval' });
    expect(toFixFeature(ESTIMATE, 'f').properties).not.toHaveProperty('registration');
    const registered = toFixFeature({ ...ESTIMATE, method: 'registered', registration: { inliers: 87, reprojectionPx: 1.23456 } }, 'f');
    expect(registered.properties).toMatchObject({ method: 'registered', registration: { inliers: 87, reprojectionErrorPx: 1.235 } });
  });

  test('an estimate without them gives a fix without them', () => {
    const { covarianceM2, velocityMps, velocityCovarianceM2s2, speedSigmaMps, headingSigmaDeg, ...rest } = ESTIMATE;
    const { properties } = toFixFeature(rest, 'f');
    for (const name of ['covarianceM2', 'velocityMps', 'velocityCovarianceM2s2', 'speedSigmaMps', 'headingSigmaDeg']) expect(properties).not.toHaveProperty(name);
  });
});
