/** `geoloc explain`: one frame of a video (or one photo) registered against the map, drawn as a picture of the match. */
import { existsSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_BUDGET } from '../../models/locate';
import { fieldOfViewFromExif } from '../../models/photoExif';
import { xfeatFit } from '../../models/xfeat';
import { GeolocError } from '../core/errors';
import { DEFAULT_NEAR_RADIUS_M, integerOption, nearOption, numberOption, parseOptions, say, usageError } from '../core/options';
import { Explainer, type ExplainSubject } from '../explain';
import { explanationPicture } from '../explainPicture';
import { REGISTRATION_FRAME } from '../localize';
import { readTelemetry, telemetryAt } from '../telemetry';
import { probeVideoStream } from '../video/ffmpegSource';
import { readVideoFrames } from '../videoFrame';
import type { Command } from './command';

const USAGE = `usage: geoloc explain <video|image> --index <dir> --out match.png [options]

Registers one frame of a video (or one photo) against the imagery of a satellite index, as
the pipeline's --register and geoloc locate do, and draws the match: the frame beside the map
around it, a line from each inlier to where the fit puts it on the map, the frame's footprint,
the estimate with its 95% circle and, with --telemetry, the truth, and the numbers under them.
A frame that registers nowhere still gets its picture, saying why, and exits with status 2.

  --index <dir>        satellite index (its manifest names the imagery)
  --out <png>          where the picture goes
  --frame <n>          a video's frame, from 0 as a fix's "frame" counts (default 0)
  --telemetry <file>   the video's DJI SRT or CSV track: altitude, heading and gimbal pitch
                       at the frame are the priors, its position is drawn as the truth
  --hfov <deg>         horizontal field of view of the video or photo (a photo's: else from
                       EXIF); a video is registered as the pipeline reads it, a centred 4:3 crop
  --near <lat,lon>     a prior position: register around it (else retrieval proposes tiles)
  --radius <m>         radius of the prior (default ${DEFAULT_NEAR_RADIUS_M})
  --heading <deg>      compass heading of the frame's top (else telemetry's; else every 45°)
  --altitude <m>       height above ground (else telemetry's; else the index's tile altitudes)
  --pitch <deg>        camera tilt forward from straight down (else telemetry's gimbal; else 0)
  --budget <n>         most registrations tried (default ${DEFAULT_BUDGET})
  --model <onnx>       embedding model for retrieval (default: the embedded model)
`;

/** Exit status of a frame that registered nowhere: its picture is written all the same. */
const NOT_REGISTERED_EXIT = 2;
const DEG = Math.PI / 180;

export const explainCommand: Command = {
  name: ['explain'],
  summary: 'draw why a frame matched where it did: the frame beside the map, inlier lines, footprint, estimate and truth',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(
      {
        args: argv,
        allowPositionals: true,
        options: {
          index: { type: 'string' },
          out: { type: 'string' },
          frame: { type: 'string' },
          telemetry: { type: 'string' },
          hfov: { type: 'string' },
          near: { type: 'string' },
          radius: { type: 'string' },
          heading: { type: 'string' },
          altitude: { type: 'string' },
          pitch: { type: 'string' },
          budget: { type: 'string' },
          model: { type: 'string' },
        },
      },
      USAGE,
    );
    if (positionals.length !== 1) throw usageError('explain takes one video or image', USAGE);
    const input = positionals[0]!;
    if (!values.index) throw usageError('--index is required', USAGE);
    if (!values.out) throw usageError('--out <png> is required: where the picture goes', USAGE);
    for (const [flag, path] of [['', input], ['--telemetry ', values.telemetry]] as const) {
      if (path !== undefined && !existsSync(path)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `${flag}${path} does not exist`);
    }
    const frameNumber = integerOption('frame', values.frame, 0, USAGE, 0);
    const near = nearOption(values.near, values.radius, USAGE);
    const hfovDeg = numberOption('hfov', values.hfov, undefined, USAGE);
    const headingDeg = numberOption('heading', values.heading, undefined, USAGE);
    const altitudeM = numberOption('altitude', values.altitude, undefined, USAGE);
    const pitchDeg = numberOption('pitch', values.pitch, undefined, USAGE);
    const budget = integerOption('budget', values.budget, DEFAULT_BUDGET, USAGE, 1);

    const image = await decodeImage(input);
    if (image && (values.frame !== undefined || values.telemetry !== undefined)) throw usageError(`${input} is a still image: --frame and --telemetry take a video`, USAGE);
    const subject = image ? await photoSubject(input, image, hfovDeg) : await videoSubject(input, frameNumber, hfovDeg, values.telemetry);

    const explainer = await Explainer.open(values.index, say);
    try {
      const explanation = await explainer.explain(subject, {
        ...(near ? { near } : {}),
        ...(headingDeg !== undefined ? { headingDeg } : {}),
        ...(altitudeM !== undefined ? { altitudeM } : {}),
        ...(pitchDeg !== undefined ? { pitchDeg } : {}),
        budget,
        ...(values.model !== undefined ? { model: values.model } : {}),
      });
      const png = await explanationPicture(explanation, explainer.sampler);
      try {
        writeFileSync(values.out, png);
      } catch (cause) {
        throw new GeolocError('GEOLOC_ERR_OUTPUT_WRITE', `cannot write the picture to ${values.out} (${(cause as Error).message})`, { cause });
      }
      const { result } = explanation;
      if (!result.ok) {
        say(`geoloc: GEOLOC_ERR_NOT_LOCATED: ${subject.label} registered nowhere: ${result.reason}; the picture says so: ${values.out}`);
        return NOT_REGISTERED_EXIT;
      }
      say(`[explain] ${subject.label}: ${result.lat.toFixed(7)}, ${result.lon.toFixed(7)} ±${result.uncertainty.radiusM.toFixed(1)} m, ${result.inliers} inliers: ${values.out}`);
      return 0;
    } finally {
      await explainer.close();
    }
  },
};

type Decoded = { data: Buffer; info: sharp.OutputInfo };

/** The input as an image, or undefined when it is not one (a video, or unreadable: the video reader says which). */
async function decodeImage(path: string): Promise<Decoded | undefined> {
  try {
    return await sharp(path).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch {
    return undefined;
  }
}

async function photoSubject(path: string, decoded: Decoded, hfovFlag: number | undefined): Promise<ExplainSubject> {
  const { width, height } = decoded.info;
  let hfovDeg = hfovFlag;
  if (hfovDeg === undefined) {
    const fov = await fieldOfViewFromExif(path, width, height);
    if (fov.hfovDeg === undefined) throw new GeolocError('GEOLOC_ERR_HFOV_UNKNOWN', `the field of view of ${path} is unknown: ${fov.why}; add --hfov <degrees> (the camera's horizontal field of view)`);
    hfovDeg = fov.hfovDeg;
  }
  const fit = xfeatFit(width, height);
  const rgb = new Uint8Array(await sharp(decoded.data, { raw: { width, height, channels: 3 } }).resize(fit.width, fit.height).raw().toBuffer());
  return { label: basename(path), photo: { rgb, ...fit }, original: { rgb: decoded.data, width, height }, hfovDeg };
}

/** The frame as the pipeline registers it: the centred 4:3 crop at REGISTRATION_FRAME, its field of view that of the crop. */
async function videoSubject(path: string, frameNumber: number, hfovFlag: number | undefined, telemetryPath: string | undefined): Promise<ExplainSubject> {
  if (hfovFlag === undefined) throw new GeolocError('GEOLOC_ERR_HFOV_UNKNOWN', `the field of view of ${path} is unknown: a video carries none; add --hfov <degrees> (the camera's horizontal field of view)`);
  const frame = (await readVideoFrames(path, [frameNumber], REGISTRATION_FRAME)).get(frameNumber)!;
  const { width, height } = await probeVideoStream(path);
  // the crop keeps the whole height of a frame wider than 4:3, the whole width of a narrower one
  const keptWidth = width && height ? Math.min(1, (height * REGISTRATION_FRAME.width) / (width * REGISTRATION_FRAME.height)) : 1;
  const hfovDeg = (2 * Math.atan(Math.tan((hfovFlag * DEG) / 2) * keptWidth)) / DEG;
  const telemetry = telemetryPath ? telemetryAt(readTelemetry(telemetryPath).records, frame.t) : undefined;
  return {
    label: `${basename(path)} frame ${frameNumber} (t ${frame.t.toFixed(2)} s)`,
    photo: { rgb: new Uint8Array(frame.pixels.buffer, frame.pixels.byteOffset, frame.pixels.byteLength), ...REGISTRATION_FRAME },
    original: { rgb: frame.pixels, ...REGISTRATION_FRAME },
    hfovDeg,
    ...(telemetry ? { telemetry } : {}),
  };
}
