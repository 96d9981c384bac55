import type { Random } from '../../core/random.js';
import type { OilLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import { alphaAt, fractalNoise, gaussianBlur, image, whiteNoise } from './filters.js';

/**
 * Oil paint. The strokes come from a smooth Kuwahara filter: each pixel takes a weighted mean of the four square
 * windows it is a corner of, the calmer windows (lower variance) weighing far more, so flat patches of colour form
 * and edges stay sharp instead of blurring. All window sums come from integral images, so the cost does not grow
 * with the brush and the brush can change per pixel: fine on the face (`faceBrush`, where the subject mask is 1),
 * broad behind it. It runs at most at `WORK_SIDE` px and is scaled back up; then the paint gets relief (an emboss
 * of its own luminance lit from the upper left) and a canvas weave.
 */
const WORK_SIDE = 640;

export function applyOil(src: RgbImage, o: OilLook, alpha: ArrayLike<number> | undefined, rng: Random): RgbImage {
  return finish(applyOilStrokes(src, o.brush, o.faceBrush, alpha), o, rng);
}

/**
 * The strokes alone (no relief, no canvas): the edge-keeping flattening the comic look starts from too. Brushes
 * are shares of the image side.
 */
export function applyOilStrokes(
  src: RgbImage,
  brush: number,
  faceBrush: number,
  alpha: ArrayLike<number> | undefined,
): RgbImage {
  const { width, height } = src;
  const k = Math.min(1, WORK_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * k));
  const h = Math.max(1, Math.round(height * k));
  const small = k < 1 ? resize(src, w, h) : src;
  const smallAlpha = alpha && k < 1 ? resizePlane(alpha, width, height, w, h) : alpha;
  const ws = Math.max(w, h);
  const painted = kuwahara(small, smallAlpha, brush * ws, faceBrush * ws);
  return k < 1 ? resize(painted, width, height) : painted;
}

/** Smooth Kuwahara with a per-pixel radius between `background` and `face` (by the subject mask). */
function kuwahara(src: RgbImage, alpha: ArrayLike<number> | undefined, background: number, face: number): RgbImage {
  const { width, height, data } = src;
  const W = width + 1;
  // Integral images of R, G, B and luma squared; luma itself from R, G, B sums.
  const sr = new Float64Array(W * (height + 1));
  const sg = new Float64Array(W * (height + 1));
  const sb = new Float64Array(W * (height + 1));
  const sl = new Float64Array(W * (height + 1));
  const sq = new Float64Array(W * (height + 1));
  for (let y = 0; y < height; y++) {
    let ar = 0;
    let ag = 0;
    let ab = 0;
    let al = 0;
    let aq = 0;
    const row = (y + 1) * W;
    const prev = y * W;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      ar += r;
      ag += g;
      ab += b;
      al += l;
      aq += l * l;
      sr[row + x + 1] = sr[prev + x + 1]! + ar;
      sg[row + x + 1] = sg[prev + x + 1]! + ag;
      sb[row + x + 1] = sb[prev + x + 1]! + ab;
      sl[row + x + 1] = sl[prev + x + 1]! + al;
      sq[row + x + 1] = sq[prev + x + 1]! + aq;
    }
  }
  const out = new Uint8ClampedArray(data.length);
  const qx0 = [0, 0, 0, 0];
  const qy0 = [0, 0, 0, 0];
  const qx1 = [0, 0, 0, 0];
  const qy1 = [0, 0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const a = alphaAt(alpha, p);
      const r = Math.max(1, Math.round(background + (face - background) * a));
      // The four windows of side r + 1 that have (x, y) as a corner, clipped to the image; [x0, x1) x [y0, y1).
      const xl = Math.max(0, x - r);
      const xr = Math.min(width, x + r + 1);
      const yt = Math.max(0, y - r);
      const yb = Math.min(height, y + r + 1);
      qx0[0] = xl;
      qx1[0] = x + 1;
      qy0[0] = yt;
      qy1[0] = y + 1;
      qx0[1] = x;
      qx1[1] = xr;
      qy0[1] = yt;
      qy1[1] = y + 1;
      qx0[2] = xl;
      qx1[2] = x + 1;
      qy0[2] = y;
      qy1[2] = yb;
      qx0[3] = x;
      qx1[3] = xr;
      qy0[3] = y;
      qy1[3] = yb;
      let wsum = 0;
      let mr = 0;
      let mg = 0;
      let mb = 0;
      for (let q = 0; q < 4; q++) {
        const a00 = qy0[q]! * W + qx0[q]!;
        const a01 = qy0[q]! * W + qx1[q]!;
        const a10 = qy1[q]! * W + qx0[q]!;
        const a11 = qy1[q]! * W + qx1[q]!;
        const count = (qx1[q]! - qx0[q]!) * (qy1[q]! - qy0[q]!);
        const inv = 1 / count;
        const ml = (sl[a11]! - sl[a01]! - sl[a10]! + sl[a00]!) * inv;
        const variance = Math.max(0, (sq[a11]! - sq[a01]! - sq[a10]! + sq[a00]!) * inv - ml * ml);
        // Weight ~ 1 / sigma^4 (Papari's q = 4), softened so flat windows do not divide by zero.
        const v = variance + 4;
        const wq = 1 / (v * v);
        wsum += wq;
        mr += wq * (sr[a11]! - sr[a01]! - sr[a10]! + sr[a00]!) * inv;
        mg += wq * (sg[a11]! - sg[a01]! - sg[a10]! + sg[a00]!) * inv;
        mb += wq * (sb[a11]! - sb[a01]! - sb[a10]! + sb[a00]!) * inv;
      }
      const i = p * 3;
      out[i] = mr / wsum;
      out[i + 1] = mg / wsum;
      out[i + 2] = mb / wsum;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}

/** Saturation, paint relief and canvas at full size. */
function finish(src: RgbImage, o: OilLook, rng: Random): RgbImage {
  const { width, height, data } = src;
  const n = width * height;
  const scale = Math.max(width, height) / 1024;
  const lum = new Float32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) lum[p] = 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
  // Relief: the paint's height is its softened luminance plus fine bristle noise, lit from the upper left.
  const bristle = gaussianBlur(whiteNoise(n, rng), width, height, 1.2 * scale);
  for (let p = 0; p < n; p++) lum[p] = lum[p]! + bristle[p]! * 60;
  const height1 = gaussianBlur(lum, width, height, 1.5 * scale);
  const weave = fractalNoise(width, height, Math.max(2, Math.round(3 * scale)), 2, rng);
  const period = Math.max(3, 4 * scale);
  const out = new Uint8ClampedArray(data.length);
  const step = Math.max(1, Math.round(scale));
  for (let y = 0; y < height; y++) {
    const ya = Math.max(0, y - step) * width;
    const yb = Math.min(height - 1, y + step) * width;
    const cy = Math.sin((2 * Math.PI * y) / period);
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const xa = Math.max(0, x - step);
      const xb = Math.min(width - 1, x + step);
      const relief = (height1[yb + xb]! - height1[ya + xa]!) * -o.impasto * 0.9;
      const cloth = (Math.sin((2 * Math.PI * x) / period) * cy * 0.5 + (weave[p]! - 0.5)) * o.canvas * 22;
      const i = p * 3;
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      const add = relief + cloth;
      out[i] = l + (r - l) * o.saturation + add;
      out[i + 1] = l + (g - l) * o.saturation + add;
      out[i + 2] = l + (b - l) * o.saturation + add;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}

/** Bilinear resize of an RGB image (the looks shrink by less than 2, where bilinear does not alias). */
export function resize(src: RgbImage, w: number, h: number): RgbImage {
  const out = new Uint8ClampedArray(w * h * 3);
  const sx = src.width / w;
  const sy = src.height / h;
  const d = src.data;
  const sw = src.width;
  const sh = src.height;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(sw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const tx = fx - x0;
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        const a = d[(y0 * sw + x0) * 3 + c]!;
        const b = d[(y0 * sw + x1) * 3 + c]!;
        const e = d[(y1 * sw + x0) * 3 + c]!;
        const f = d[(y1 * sw + x1) * 3 + c]!;
        out[o + c] = (a + (b - a) * tx) * (1 - ty) + (e + (f - e) * tx) * ty;
      }
    }
  }
  return image(new Uint8Array(out.buffer), w, h);
}

/** Nearest-sample resize of a plane (the subject mask is soft already). */
function resizePlane(src: ArrayLike<number>, sw: number, sh: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const yy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / h));
    for (let x = 0; x < w; x++) out[y * w + x] = src[yy * sw + Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / w))] ?? 0;
  }
  return out;
}
