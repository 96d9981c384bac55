import { resizeImage } from '../image.js';
import type { Face, Point, RgbImage } from '../types.js';

/**
 * The aligned square crop around a face: rotated so the eye line is horizontal, with room for hair above and
 * chin and neck below. The crop engine's output, and the frame later stages can start from.
 */

export interface CropFrame {
  /** Centre of the crop in image pixels. */
  center: Point;
  /** Rotation of the eye line in radians (image y down); the crop undoes it. */
  angle: number;
  /** Side of the square in image pixels. */
  side: number;
}

export interface CropFrameOptions {
  /** Crop side as a multiple of the face box's longer side. @defaultValue 2.2 */
  scale?: number;
  /** Smallest scale fitFrame() may shrink to so the crop stays inside the photo. @defaultValue 1.5 */
  minScale?: number;
  /** Where the eye line sits, as a fraction of the crop height from the top. @defaultValue 0.42 */
  eyeLine?: number;
}

const mid = (a: Point, b: Point): Point => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });

/** The crop square for a face, from its box size and its eye and mouth landmarks. */
export function cropFrame(face: Face, options: CropFrameOptions = {}): CropFrame {
  const [rightEye, leftEye, , rightMouth, leftMouth] = face.landmarks;
  // The subject's right eye is on the image's left, so this is the eye line's angle left to right.
  const angle = Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x);
  const eyes = mid(rightEye, leftEye);
  const mouth = mid(rightMouth, leftMouth);
  const side = (options.scale ?? 2.2) * Math.max(face.box.width, face.box.height);
  const eyeLine = options.eyeLine ?? 0.42;
  // In the rotated frame: centre horizontally between eyes and mouth (so a turned head stays centred), and put
  // the eye line at `eyeLine` of the height. "Down" in the rotated frame is (-sin, cos) in image coordinates.
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const faceMid = mid(eyes, mouth);
  const across = (faceMid.x - eyes.x) * cos + (faceMid.y - eyes.y) * sin;
  const down = side * (0.5 - eyeLine);
  return {
    center: { x: eyes.x + across * cos - down * sin, y: eyes.y + across * sin + down * cos },
    angle,
    side,
  };
}

/** Maps between image pixels and the pixels of a `size`-wide crop of `frame`. */
export interface CropMapping {
  toCrop(p: Point): Point;
  toImage(p: Point): Point;
}

export function cropMapping(frame: CropFrame, size: number): CropMapping {
  const k = frame.side / size;
  const cos = Math.cos(frame.angle);
  const sin = Math.sin(frame.angle);
  const h = size / 2;
  return {
    toImage: (p) => {
      const u = (p.x - h) * k;
      const v = (p.y - h) * k;
      return { x: frame.center.x + u * cos - v * sin, y: frame.center.y + u * sin + v * cos };
    },
    toCrop: (p) => {
      const dx = p.x - frame.center.x;
      const dy = p.y - frame.center.y;
      return { x: (dx * cos + dy * sin) / k + h, y: (-dx * sin + dy * cos) / k + h };
    },
  };
}

/**
 * Samples the rotated square `frame` into a size x size image with bilinear interpolation. Pixels outside the
 * photo mirror it at the edge (less conspicuous than smeared edge pixels), so a face near the border still gets
 * a full square; fitFrame() keeps that rare.
 */
/** Mirrors a coordinate into [0, max] (one reflection, then clamped). */
function reflect(v: number, max: number): number {
  const r = v < 0 ? -v : v > max ? 2 * max - v : v;
  return Math.min(Math.max(r, 0), max);
}

/** True when the rotated square lies inside the image (within half a pixel). */
export function frameFits(frame: CropFrame, width: number, height: number): boolean {
  const r = frame.side / 2;
  const cos = Math.cos(frame.angle);
  const sin = Math.sin(frame.angle);
  for (const [u, v] of [
    [-r, -r],
    [r, -r],
    [-r, r],
    [r, r],
  ] as const) {
    const x = frame.center.x + u * cos - v * sin;
    const y = frame.center.y + u * sin + v * cos;
    if (x < -0.5 || y < -0.5 || x > width + 0.5 || y > height + 0.5) return false;
  }
  return true;
}

/**
 * The crop frame for a face, kept inside the photo so no pixel has to be invented: first tightened from `scale`
 * down to `minScale` (1.5: forehead to chin with a little margin); when even that leaves the photo (close-up
 * selfies), the largest square that fits at this angle, moved as little as possible from the face's centre.
 */
export function fitFrame(face: Face, width: number, height: number, options: CropFrameOptions = {}): CropFrame {
  const scale = options.scale ?? 2.2;
  const minScale = Math.min(scale, options.minScale ?? 1.5);
  for (let s = scale; s >= minScale - 1e-9; s -= 0.05) {
    const frame = cropFrame(face, { ...options, scale: s });
    if (frameFits(frame, width, height)) return frame;
  }
  const tight = cropFrame(face, { ...options, scale: minScale });
  // A square rotated by `angle` has a bounding box `spread` times its side.
  const spread = Math.abs(Math.cos(tight.angle)) + Math.abs(Math.sin(tight.angle));
  const side = Math.min(tight.side, Math.min(width, height) / spread);
  const half = (side * spread) / 2;
  const clamp = (v: number, lo: number, hi: number) => (lo > hi ? (lo + hi) / 2 : Math.min(hi, Math.max(lo, v)));
  return {
    angle: tight.angle,
    side,
    center: { x: clamp(tight.center.x, half, width - half), y: clamp(tight.center.y, half, height - half) },
  };
}

export function warpCrop(image: RgbImage, frame: CropFrame, size: number): RgbImage {
  const out = new Uint8Array(size * size * 3);
  const { width: w, height: hgt, data } = image;
  const k = frame.side / size;
  const cos = Math.cos(frame.angle) * k;
  const sin = Math.sin(frame.angle) * k;
  const h = size / 2 - 0.5; // sample pixel centres
  let o = 0;
  for (let y = 0; y < size; y++) {
    const v = y - h;
    // Source position of (x=0, y) and its step per output x.
    let sx = frame.center.x - h * cos - v * sin - 0.5;
    let sy = frame.center.y - h * sin + v * cos - 0.5;
    for (let x = 0; x < size; x++, sx += cos, sy += sin) {
      const cx = reflect(sx, w - 1);
      const cy = reflect(sy, hgt - 1);
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const x1 = x0 + 1 < w ? x0 + 1 : x0;
      const y1 = y0 + 1 < hgt ? y0 + 1 : y0;
      const fx = cx - x0;
      const fy = cy - y0;
      const a = (y0 * w + x0) * 3;
      const b = (y0 * w + x1) * 3;
      const c = (y1 * w + x0) * 3;
      const d = (y1 * w + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = (data[a + ch] ?? 0) + ((data[b + ch] ?? 0) - (data[a + ch] ?? 0)) * fx;
        const bottom = (data[c + ch] ?? 0) + ((data[d + ch] ?? 0) - (data[c + ch] ?? 0)) * fx;
        out[o++] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { data: out, width: size, height: size, channels: 3 };
}

export interface AlignedCrop {
  image: RgbImage;
  frame: CropFrame;
  /** Maps image pixels to pixels of `image` (size x size) and back. */
  mapping: CropMapping;
}

/** Largest side sampled in JS before sharp resizes; bounds the JS loop on huge photos with huge faces. */
const MAX_SAMPLE_SIDE = 2048;

/**
 * The aligned square crop of `face`, `size` pixels wide. Sampled at the photo's own resolution first and then
 * resized by sharp (Lanczos), so downscaling does not alias and upscaling stays smooth.
 */
export async function alignedFaceCrop(
  image: RgbImage,
  face: Face,
  size: number,
  options: CropFrameOptions = {},
): Promise<AlignedCrop> {
  const frame = fitFrame(face, image.width, image.height, options);
  const native = Math.max(16, Math.min(MAX_SAMPLE_SIDE, Math.round(frame.side)));
  const sampled = warpCrop(image, frame, native);
  const resized = await resizeImage(sampled, size, size);
  return { image: resized, frame, mapping: cropMapping(frame, size) };
}
