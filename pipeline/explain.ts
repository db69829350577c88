/**
 * Explaining a match: one frame or photo registered against the index's imagery as `locate`
 * and the pipeline's registerFrame do (telemetry's altitude, heading and gimbal pitch as
 * priors), with everything a picture of the match needs: the result or why there is none, the
 * places tried, and the truth when telemetry gives it.
 */
import { FeatureWorker } from '../models/featureWorkerClient';
import { openIndexImagery } from '../models/imageryStack';
import { readManifest, type IndexManifest } from '../models/indexFiles';
import { DEFAULT_HEADING_TOLERANCE_DEG, DEFAULT_ROTATION_STEP_DEG, DEFAULT_WINDOW_MARGIN, locatePhoto, type Located, type LocatePhoto, type NotLocated, type Place } from '../models/locate';
import type { MapReference } from '../models/mapReference';
import { MapSampler } from '../models/mapWindow';
import { openMapReference } from '../models/openReference';
import { DEFAULT_REGISTRATION } from '../models/registration';
import { proposePlaces } from '../models/retrieval';
import type { LatLon } from './geo/wgs84';
import type { TelemetryRecord } from './telemetry';

/** What is explained. */
export interface ExplainSubject {
  /** names it in the picture: "flight.mp4 frame 120" */
  label: string;
  /** the frame or photo at a size XFeat takes (xfeatFit); `rgb` packed RGB */
  photo: LocatePhoto;
  /** the photo's own RGB at its own size, for retrieval when no prior is given */
  original: { rgb: Buffer; width: number; height: number };
  /** horizontal field of view across `photo`, degrees */
  hfovDeg: number;
  /** telemetry at the frame: its altitude, heading and gimbal pitch are priors; its position is drawn as the truth */
  telemetry?: Pick<TelemetryRecord, 'lat' | 'lon' | 'alt' | 'headingDeg' | 'gimbalPitchDeg'>;
}

export interface ExplainSettings {
  /** a prior circle to register within; without it, retrieval proposes tiles */
  near?: LatLon & { radiusM: number };
  /** override telemetry's (or stand in for it) */
  headingDeg?: number;
  altitudeM?: number;
  /** camera tilt forward from straight down, degrees; default telemetry's gimbal pitch, else 0 */
  pitchDeg?: number;
  /** most registrations tried */
  budget: number;
  /** embedding model for retrieval (default: the embedded model) */
  model?: string;
}

export interface Explanation {
  subject: ExplainSubject;
  result: Located | NotLocated;
  /** where it looked first (the grid's centre, the best tile): the map's centre when nothing registered */
  firstPlace?: Place;
  /** the camera model's settings the registration assumed */
  pitchDeg: number;
  heightsM: number[];
  truth?: LatLon;
}

/** Nadir in the DJI convention: camera pitch is measured from it, forward. */
const NADIR_PITCH_DEG = -90;

/** An index's imagery and a feature worker, opened once for any number of explanations. */
export class Explainer {
  private constructor(
    readonly indexDir: string,
    readonly manifest: IndexManifest,
    /** the index's imagery, for the pictures */
    readonly sampler: MapSampler,
    /** what frames are registered against, as the pipeline registers them */
    private readonly reference: MapReference,
    private readonly worker: FeatureWorker,
  ) {}

  static async open(indexDir: string, log: (line: string) => void): Promise<Explainer> {
    const manifest = await readManifest(indexDir);
    const sampler = new MapSampler(await openIndexImagery(indexDir, manifest, log));
    const reference = await openMapReference(indexDir, manifest, 'xfeat', log);
    return new Explainer(indexDir, manifest, sampler, reference, await FeatureWorker.start({ method: 'xfeat' }));
  }

  async explain(subject: ExplainSubject, settings: ExplainSettings): Promise<Explanation> {
    const { telemetry } = subject;
    const gimbal = telemetry?.gimbalPitchDeg;
    const pitchDeg = settings.pitchDeg ?? (gimbal !== undefined ? gimbal - NADIR_PITCH_DEG : 0);
    const headingDeg = settings.headingDeg ?? telemetry?.headingDeg;
    const altitudeM = settings.altitudeM ?? telemetry?.alt;
    const heightsM = altitudeM !== undefined && altitudeM > 0 ? [altitudeM] : this.manifest.scales.map((s) => s.altitudeM);
    const places = await proposePlaces({
      indexDir: this.indexDir,
      ...subject.original,
      ...(settings.near ? { near: settings.near } : {}),
      heightsM,
      hfovDeg: subject.hfovDeg,
      pitchDeg,
      ...(headingDeg !== undefined ? { headingDeg } : {}),
      k: settings.budget,
      ...(settings.model !== undefined ? { model: settings.model } : {}),
    });
    const result = await locatePhoto(this.worker, this.reference, subject.photo, places, {
      hfovDeg: subject.hfovDeg,
      pitchDeg,
      ...(headingDeg !== undefined ? { headingDeg } : {}),
      heightsM,
      rotationStepDeg: DEFAULT_ROTATION_STEP_DEG,
      headingToleranceDeg: DEFAULT_HEADING_TOLERANCE_DEG,
      windowMargin: DEFAULT_WINDOW_MARGIN,
      budget: settings.budget,
      registration: DEFAULT_REGISTRATION,
    });
    return {
      subject,
      result,
      ...(places[0] ? { firstPlace: places[0] } : {}),
      pitchDeg,
      heightsM,
      ...(telemetry ? { truth: { lat: telemetry.lat, lon: telemetry.lon } } : {}),
    };
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
