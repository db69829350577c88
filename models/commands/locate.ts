/** `geoloc locate`: one still photo registered against the map of a satellite index, as a GeoJSON Feature. */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import type { Command } from '../../pipeline/commands/command';
import { GeolocError } from '../../pipeline/core/errors';
import { DEFAULT_NEAR_RADIUS_M, integerOption, nearOption, numberOption, parseOptions, say, usageError } from '../../pipeline/core/options';
import { DEFAULT_BINARY_RATIO, DEFAULT_FLOAT_RATIO } from '../featureMatching';
import { FeatureWorker } from '../featureWorkerClient';
import { ROBUST_METHODS, type RobustMethod } from '../homographyFit';
import { readManifest } from '../indexFiles';
import { FEATURE_METHODS, type FeatureMethod } from '../localFeatures';
import {
  DEFAULT_BUDGET,
  DEFAULT_CORROBORATION,
  DEFAULT_HEADING_TOLERANCE_DEG,
  DEFAULT_ROTATION_STEP_DEG,
  DEFAULT_WINDOW_MARGIN,
  locatePhoto,
  type Located,
} from '../locate';
import { openPhotoReference } from '../openReference';
import { fieldOfViewFromExif } from '../photoExif';
import { DEFAULT_CONSENSUS, DEFAULT_ROBUST, DEFAULT_UNCERTAINTY } from '../registration';
import { proposePlaces } from '../retrieval';
import { xfeatFit } from '../xfeat';

const DEFAULT_METHOD: FeatureMethod = 'xfeat';
const COORD_DIGITS = 7;
const METRE_DIGITS = 1;

const USAGE = `usage: geoloc locate <image> --index <dir> [options]

Registers one still photo against the imagery a satellite index was built from and prints
its position as a GeoJSON Feature ([lon, lat]) with a 95% radius, heading, height and the
photo's footprint. A photo that registers nowhere exits with status 2 and says why.

  --index <dir>        satellite index (its manifest names the imagery)
  --near <lat,lon>     a prior position: register around it (else retrieval proposes tiles)
  --radius <m>         radius of the prior (default ${DEFAULT_NEAR_RADIUS_M})
  --heading <deg>      compass heading the photo's top faces, ±30° tried (else every 45°);
                       a negative one as --heading=-4.7
  --altitude <m>       height above ground (else the index's tile altitudes are tried)
  --hfov <deg>         horizontal field of view (else from EXIF 35 mm-equivalent focal length)
  --pitch <deg>        camera tilt forward from straight down (default 0, nadir)
  --method <name>      local features: ${FEATURE_METHODS.join(', ')} (default ${DEFAULT_METHOD})
  --robust <name>      OpenCV estimator: ${ROBUST_METHODS.join(', ')} (default ${DEFAULT_ROBUST.method})
  --min-inliers <n>    fewest inliers of a registration (default ${DEFAULT_CONSENSUS.minInliers})
  --map-sigma <m>      1-σ georeferencing error of the index's imagery, added to the radius
                       (default ${DEFAULT_UNCERTAINTY.mapSigmaM}: the position is as exact as the map)
  --budget <n>         most registrations tried (default ${DEFAULT_BUDGET})
  --model <onnx>       embedding model for retrieval (default: the embedded model)
`;

/** Exit status of a photo that registered nowhere: an answer, not a failure of the command. */
export const NOT_LOCATED_EXIT = 2;

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw usageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, USAGE);
  return value as T;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

export function locatedFeature(r: Located, method: FeatureMethod) {
  const ring = [...r.footprint, r.footprint[0]!].map((p) => [round(p.lon, COORD_DIGITS), round(p.lat, COORD_DIGITS)]);
  return {
    type: 'Feature' as const,
    geometry: { type: 'Point' as const, coordinates: [round(r.lon, COORD_DIGITS), round(r.lat, COORD_DIGITS)] },
    properties: {
      method: 'registered',
      features: method,
      radiusM: round(r.uncertainty.radiusM, METRE_DIGITS),
      headingDeg: round(r.headingDeg, METRE_DIGITS),
      headingDeg95: round(r.uncertainty.headingDeg95, METRE_DIGITS),
      heightM: round(r.heightM, METRE_DIGITS),
      heightM95: round(r.uncertainty.heightM95, METRE_DIGITS),
      inliers: r.inliers,
      matches: r.matches,
      reprojectionErrorPx: round(r.reprojectionPx, 2),
      reprojectionErrorM: round(r.reprojectionM, 2),
      footprint: { type: 'Polygon' as const, coordinates: [ring] },
      proposedBy: r.place.source,
      ...(r.corroboratedBy ? { corroboratedBy: { inliers: r.corroboratedBy.inliers, apartM: round(r.corroboratedBy.apartM, METRE_DIGITS) } } : {}),
      attempts: r.attempts,
      timingMs: { features: round(r.timing.featuresMs, 1), matching: round(r.timing.matchingMs, 1), estimation: round(r.timing.estimationMs, 1) },
    },
  };
}

export const locateCommand: Command = {
  name: ['locate'],
  summary: 'localize one still photo against the map: a GeoJSON Feature with its 95% radius',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(
      {
        args: argv,
        allowPositionals: true,
        options: {
          index: { type: 'string' },
          near: { type: 'string' },
          radius: { type: 'string' },
          heading: { type: 'string' },
          altitude: { type: 'string' },
          hfov: { type: 'string' },
          pitch: { type: 'string' },
          method: { type: 'string' },
          robust: { type: 'string' },
          'min-inliers': { type: 'string' },
        'map-sigma': { type: 'string' },
          budget: { type: 'string' },
          model: { type: 'string' },
        },
      },
      USAGE,
    );
    if (positionals.length !== 1) throw usageError('locate takes one image', USAGE);
    const image = positionals[0]!;
    if (!existsSync(image)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `photo ${image} does not exist`);
    if (!values.index) throw usageError('--index is required', USAGE);
    const method = oneOf('method', values.method, FEATURE_METHODS, DEFAULT_METHOD);
    const robust = oneOf<RobustMethod>('robust', values.robust, ROBUST_METHODS, DEFAULT_ROBUST.method);
    const near = nearOption(values.near, values.radius, USAGE);
    const headingDeg = numberOption('heading', values.heading, undefined, USAGE);
    const altitudeM = numberOption('altitude', values.altitude, undefined, USAGE);
    const pitchDeg = numberOption('pitch', values.pitch, 0, USAGE);
    const budget = integerOption('budget', values.budget, DEFAULT_BUDGET, USAGE, 1);
    const minInliers = integerOption('min-inliers', values['min-inliers'], DEFAULT_CONSENSUS.minInliers, USAGE);
    const mapSigmaM = numberOption('map-sigma', values['map-sigma'], DEFAULT_UNCERTAINTY.mapSigmaM, USAGE);
    if (mapSigmaM < 0) throw usageError(`--map-sigma must be metres ≥ 0, got ${mapSigmaM}`, USAGE);

    let decoded: { data: Buffer; info: sharp.OutputInfo };
    try {
      decoded = await sharp(image).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    } catch (cause) {
      throw new GeolocError('GEOLOC_ERR_IMAGERY_UNREADABLE', `${image} could not be decoded as an image: ${(cause as Error).message}`, { cause });
    }
    const { width, height } = decoded.info;
    let hfovDeg = numberOption('hfov', values.hfov, undefined, USAGE);
    if (hfovDeg === undefined) {
      const fov = await fieldOfViewFromExif(image, width, height);
      if (fov.hfovDeg === undefined) {
        throw new GeolocError('GEOLOC_ERR_HFOV_UNKNOWN', `the field of view of ${image} is unknown: ${fov.why}; add --hfov <degrees> (the camera's horizontal field of view)`);
      }
      hfovDeg = fov.hfovDeg;
      say(`[locate] field of view ${hfovDeg.toFixed(1)}° from its ${fov.from}`);
    }

    const manifest = await readManifest(values.index);
    const reference = await openPhotoReference(values.index, manifest, method, say);
    const fit = xfeatFit(width, height);
    const photo = { rgb: new Uint8Array(await sharp(decoded.data, { raw: { width, height, channels: 3 } }).resize(fit.width, fit.height).raw().toBuffer()), ...fit };
    const heightsM = altitudeM !== undefined ? [altitudeM] : manifest.scales.map((s) => s.altitudeM);

    const places = await proposePlaces({
      indexDir: values.index,
      rgb: decoded.data,
      width,
      height,
      ...(near ? { near } : {}),
      heightsM,
      hfovDeg,
      pitchDeg,
      ...(headingDeg !== undefined ? { headingDeg } : {}),
      k: budget,
      ...(values.model !== undefined ? { model: values.model } : {}),
    });

    const worker = await FeatureWorker.start({ method });
    try {
      const result = await locatePhoto(worker, reference, photo, places, {
        hfovDeg,
        pitchDeg,
        ...(headingDeg !== undefined ? { headingDeg } : {}),
        heightsM,
        rotationStepDeg: DEFAULT_ROTATION_STEP_DEG,
        headingToleranceDeg: DEFAULT_HEADING_TOLERANCE_DEG,
        windowMargin: DEFAULT_WINDOW_MARGIN,
        budget,
        registration: {
          match: { maxRatio: method === 'xfeat' ? DEFAULT_FLOAT_RATIO : DEFAULT_BINARY_RATIO },
          robust: { ...DEFAULT_ROBUST, method: robust },
          consensus: { ...DEFAULT_CONSENSUS, minInliers },
          uncertainty: { ...DEFAULT_UNCERTAINTY, mapSigmaM },
        },
        corroboration: DEFAULT_CORROBORATION,
      });
      if (!result.ok) {
        say(`geoloc: GEOLOC_ERR_NOT_LOCATED: ${image} registered nowhere: ${result.reason}`);
        return NOT_LOCATED_EXIT;
      }
      process.stdout.write(JSON.stringify(locatedFeature(result, method)) + '\n');
      return 0;
    } finally {
      await worker.close();
    }
  },
};
