/**
 * The layouts decoded pixels come in, and the colour matrices that turn YUV into RGB.
 *
 * rgb24 is what the model reads. yuv420p is what video codecs store: ffmpeg delivers it at
 * half the bytes and without its own conversion, for a consumer that samples a frame anyway
 * (turning it north-up) and converts only the pixels it samples.
 */

import type { YuvMatrix } from '../core/types';

export type PixelFormat = 'rgb24' | 'yuv420p';


const BT601: YuvMatrix = { name: 'bt601', kr: 0.299, kb: 0.114 };

/** By ffprobe's color_space names. */
const MATRICES: Record<string, YuvMatrix> = {
  bt470bg: BT601,
  smpte170m: BT601,
  bt709: { name: 'bt709', kr: 0.2126, kb: 0.0722 },
  fcc: { name: 'fcc', kr: 0.3, kb: 0.11 },
  smpte240m: { name: 'smpte240m', kr: 0.212, kb: 0.087 },
  bt2020nc: { name: 'bt2020nc', kr: 0.2627, kb: 0.0593 },
};

/**
 * The matrix of a stream ffprobe describes, or undefined for one this cannot convert (RGB
 * video, a constant-luminance or unknown matrix). An untagged YUV stream is BT.601, as
 * ffmpeg's own conversion takes it.
 */
export function yuvMatrixOf(stream: { pix_fmt?: string; color_space?: string }): YuvMatrix | undefined {
  if (!stream.pix_fmt?.startsWith('yuv')) return undefined;
  const space = stream.color_space;
  return space === undefined || space === 'unknown' ? BT601 : MATRICES[space];
}

/** Whether width × height can be held in `format` (4:2:0 halves both sides of its colour planes). */
export function fitsFormat(format: PixelFormat, width: number, height: number): boolean {
  return format === 'rgb24' || (width % 2 === 0 && height % 2 === 0);
}

/** Bytes of one width × height frame. */
export function frameBytes(format: PixelFormat, width: number, height: number): number {
  const pixels = width * height;
  return format === 'rgb24' ? 3 * pixels : pixels + 2 * (pixels / 4);
}

const LUMA_RANGE = 219;
const CHROMA_RANGE = 224;
const BYTE_MAX = 255;

/** Per-byte factors of the limited-range YUV → RGB conversion: R = y·(Y−16) + rv·(V−128), … */
export interface YuvToRgb {
  y: number;
  rv: number;
  gu: number;
  gv: number;
  bu: number;
}

export function yuvToRgbFactors({ kr, kb }: YuvMatrix): YuvToRgb {
  const kg = 1 - kr - kb;
  const chroma = BYTE_MAX / CHROMA_RANGE;
  return {
    y: BYTE_MAX / LUMA_RANGE,
    rv: 2 * (1 - kr) * chroma,
    gu: ((2 * (1 - kb) * kb) / kg) * chroma,
    gv: ((2 * (1 - kr) * kr) / kg) * chroma,
    bu: 2 * (1 - kb) * chroma,
  };
}
