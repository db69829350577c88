/**
 * A photo's horizontal field of view from its EXIF focal length. Only the 35 mm-equivalent
 * focal length says it without knowing the sensor: a 36 mm wide frame behind that focal length.
 * EXIF GPS is never read: a position the photo claims is not a localization.
 */
import exifr from 'exifr';

/** width of the 35 mm film frame the equivalent focal length refers to */
const FULL_FRAME_WIDTH_MM = 36;

export type FieldOfView = { hfovDeg: number; from: string } | { hfovDeg: undefined; why: string };

export async function fieldOfViewFromExif(path: string, width: number, height: number): Promise<FieldOfView> {
  let tags: { FocalLengthIn35mmFormat?: unknown } | undefined;
  try {
    tags = (await exifr.parse(path, { pick: ['FocalLengthIn35mmFormat'], gps: false })) as typeof tags;
  } catch (err) {
    return { hfovDeg: undefined, why: `its EXIF could not be read (${(err as Error).message})` };
  }
  const f35 = tags?.FocalLengthIn35mmFormat;
  if (typeof f35 !== 'number' || !(f35 > 0)) return { hfovDeg: undefined, why: tags ? 'its EXIF has no 35 mm-equivalent focal length' : 'it has no EXIF' };
  // the 35 mm equivalent spans the frame's longer side across 36 mm; the horizontal side is the longer one unless the photo stands upright
  const across = width >= height ? FULL_FRAME_WIDTH_MM : (FULL_FRAME_WIDTH_MM * width) / height;
  return { hfovDeg: (2 * Math.atan(across / (2 * f35)) * 180) / Math.PI, from: `EXIF 35 mm-equivalent focal length ${f35} mm` };
}
