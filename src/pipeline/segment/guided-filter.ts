import type { RgbImage } from '../types.js';
import type { Plane } from './plane.js';

/**
 * Fast colour guided filter (He, Sun and Tang 2013; He and Sun 2015): the coarse mask is fitted, window by window,
 * as a linear function of the photo's RGB, so its edges move onto the photo's own edges (hair against sky, a
 * shoulder against a wall) instead of the model's 256-px blur. The fit runs on a downscaled copy of the photo
 * and only the linear coefficients are upsampled, which keeps full-resolution work to one pass.
 */

/** Mean over a (2r+1)^2 window clipped to the image (edge windows average fewer pixels, not zero padding). */
export function boxMean(src: Float32Array, width: number, height: number, r: number, out?: Float32Array): Float32Array {
  const tmp = new Float32Array(width * height);
  const dst = out ?? new Float32Array(width * height);
  // Rows: running sum along x.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let acc = 0;
    const firstEnd = Math.min(width - 1, r);
    for (let x = 0; x <= firstEnd; x++) acc += src[row + x] ?? 0;
    for (let x = 0; x < width; x++) {
      const lo = Math.max(0, x - r);
      const hi = Math.min(width - 1, x + r);
      tmp[row + x] = acc / (hi - lo + 1);
      const enter = x + r + 1;
      const leave = x - r;
      if (enter < width) acc += src[row + enter] ?? 0;
      if (leave >= 0) acc -= src[row + leave] ?? 0;
    }
  }
  // Columns: running sums for a whole row at once (cache-friendly).
  const acc = new Float64Array(width);
  const firstEnd = Math.min(height - 1, r);
  for (let y = 0; y <= firstEnd; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) acc[x] = (acc[x] ?? 0) + (tmp[row + x] ?? 0);
  }
  for (let y = 0; y < height; y++) {
    const lo = Math.max(0, y - r);
    const hi = Math.min(height - 1, y + r);
    const inv = 1 / (hi - lo + 1);
    const row = y * width;
    for (let x = 0; x < width; x++) dst[row + x] = (acc[x] ?? 0) * inv;
    const enter = y + r + 1;
    const leave = y - r;
    if (enter < height) {
      const e = enter * width;
      for (let x = 0; x < width; x++) acc[x] = (acc[x] ?? 0) + (tmp[e + x] ?? 0);
    }
    if (leave >= 0) {
      const l = leave * width;
      for (let x = 0; x < width; x++) acc[x] = (acc[x] ?? 0) - (tmp[l + x] ?? 0);
    }
  }
  return dst;
}

/** The guide prepared once per photo: RGB in 0..1 as planes, window means and the inverted regularised covariance. */
export interface Guide {
  width: number;
  height: number;
  r: number;
  /** Per-pixel window mean of R, G and B. */
  mean: [Float32Array, Float32Array, Float32Array];
  /** Per-pixel inverse of (window covariance + eps I), symmetric: rr, rg, rb, gg, gb, bb. */
  inv: [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  channels: [Float32Array, Float32Array, Float32Array];
}

/** Linear coefficients q = ar R + ag G + ab B + b, window-averaged, at the guide's resolution. */
export interface GuidedCoefficients {
  width: number;
  height: number;
  ar: Float32Array;
  ag: Float32Array;
  ab: Float32Array;
  b: Float32Array;
}

export function prepareGuide(image: RgbImage, r: number, eps: number): Guide {
  const { width, height } = image;
  const n = width * height;
  const ch: [Float32Array, Float32Array, Float32Array] = [
    new Float32Array(n),
    new Float32Array(n),
    new Float32Array(n),
  ];
  const [R, G, B] = ch;
  const src = image.data;
  for (let i = 0; i < n; i++) {
    R[i] = (src[i * 3] ?? 0) / 255;
    G[i] = (src[i * 3 + 1] ?? 0) / 255;
    B[i] = (src[i * 3 + 2] ?? 0) / 255;
  }
  const mean: [Float32Array, Float32Array, Float32Array] = [
    boxMean(R, width, height, r),
    boxMean(G, width, height, r),
    boxMean(B, width, height, r),
  ];
  const prod = new Float32Array(n);
  const second = (a: Float32Array, b: Float32Array): Float32Array => {
    for (let i = 0; i < n; i++) prod[i] = (a[i] ?? 0) * (b[i] ?? 0);
    return boxMean(prod, width, height, r);
  };
  const rr = second(R, R);
  const rg = second(R, G);
  const rb = second(R, B);
  const gg = second(G, G);
  const gb = second(G, B);
  const bb = second(B, B);
  const [mR, mG, mB] = mean;
  // Invert each 3x3 covariance in place (the six planes are reused for the inverse).
  for (let i = 0; i < n; i++) {
    const mr = mR[i] ?? 0;
    const mg = mG[i] ?? 0;
    const mb = mB[i] ?? 0;
    const a = (rr[i] ?? 0) - mr * mr + eps;
    const b = (rg[i] ?? 0) - mr * mg;
    const c = (rb[i] ?? 0) - mr * mb;
    const d = (gg[i] ?? 0) - mg * mg + eps;
    const e = (gb[i] ?? 0) - mg * mb;
    const f = (bb[i] ?? 0) - mb * mb + eps;
    const i00 = d * f - e * e;
    const i01 = c * e - b * f;
    const i02 = b * e - c * d;
    const i11 = a * f - c * c;
    const i12 = b * c - a * e;
    const i22 = a * d - b * b;
    const det = a * i00 + b * i01 + c * i02;
    const k = det > 1e-12 ? 1 / det : 0;
    rr[i] = i00 * k;
    rg[i] = i01 * k;
    rb[i] = i02 * k;
    gg[i] = i11 * k;
    gb[i] = i12 * k;
    bb[i] = i22 * k;
  }
  return { width, height, r, mean, inv: [rr, rg, rb, gg, gb, bb], channels: ch };
}

/** Fits `p` (at the guide's resolution) as a local linear function of the guide's colours. */
export function guidedCoefficients(guide: Guide, p: Plane): GuidedCoefficients {
  const { width, height, r } = guide;
  if (p.width !== width || p.height !== height) throw new Error('guided filter input and guide differ in size');
  const n = width * height;
  const [R, G, B] = guide.channels;
  const [mR, mG, mB] = guide.mean;
  const [irr, irg, irb, igg, igb, ibb] = guide.inv;
  const mp = boxMean(p.data, width, height, r);
  const prod = new Float32Array(n);
  const cross = (c: Float32Array): Float32Array => {
    for (let i = 0; i < n; i++) prod[i] = (c[i] ?? 0) * (p.data[i] ?? 0);
    return boxMean(prod, width, height, r);
  };
  const ar = cross(R);
  const ag = cross(G);
  const ab = cross(B);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = mp[i] ?? 0;
    const mr = mR[i] ?? 0;
    const mg = mG[i] ?? 0;
    const mb = mB[i] ?? 0;
    const cr = (ar[i] ?? 0) - mr * m;
    const cg = (ag[i] ?? 0) - mg * m;
    const cb = (ab[i] ?? 0) - mb * m;
    const xr = (irr[i] ?? 0) * cr + (irg[i] ?? 0) * cg + (irb[i] ?? 0) * cb;
    const xg = (irg[i] ?? 0) * cr + (igg[i] ?? 0) * cg + (igb[i] ?? 0) * cb;
    const xb = (irb[i] ?? 0) * cr + (igb[i] ?? 0) * cg + (ibb[i] ?? 0) * cb;
    ar[i] = xr;
    ag[i] = xg;
    ab[i] = xb;
    b[i] = m - xr * mr - xg * mg - xb * mb;
  }
  return {
    width,
    height,
    ar: boxMean(ar, width, height, r),
    ag: boxMean(ag, width, height, r),
    ab: boxMean(ab, width, height, r),
    b: boxMean(b, width, height, r),
  };
}

/**
 * Applies coefficients fitted on a downscaled guide to the full-resolution photo (bilinear upsampling of the
 * coefficients, pixel centres aligned), clamped to 0..1.
 */
export function applyCoefficients(coeff: GuidedCoefficients, image: RgbImage): Plane {
  const { width, height } = image;
  const out = new Float32Array(width * height);
  const cw = coeff.width;
  const chh = coeff.height;
  const sx = cw / width;
  const sy = chh / height;
  const xs0 = new Int32Array(width);
  const xs1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = Math.min(cw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
    const x0 = Math.floor(u);
    xs0[x] = x0;
    xs1[x] = Math.min(cw - 1, x0 + 1);
    fx[x] = u - x0;
  }
  const { ar, ag, ab, b } = coeff;
  const src = image.data;
  const lerp = (p: Float32Array, r0: number, r1: number, a: number, c: number, f: number, fy: number): number => {
    const top = (p[r0 + a] ?? 0) + ((p[r0 + c] ?? 0) - (p[r0 + a] ?? 0)) * f;
    const bottom = (p[r1 + a] ?? 0) + ((p[r1 + c] ?? 0) - (p[r1 + a] ?? 0)) * f;
    return top + (bottom - top) * fy;
  };
  for (let y = 0; y < height; y++) {
    const v = Math.min(chh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(v);
    const r0 = y0 * cw;
    const r1 = Math.min(chh - 1, y0 + 1) * cw;
    const fy = v - y0;
    let o = y * width;
    for (let x = 0; x < width; x++, o++) {
      const a = xs0[x] ?? 0;
      const c = xs1[x] ?? 0;
      const f = fx[x] ?? 0;
      const q =
        lerp(ar, r0, r1, a, c, f, fy) * ((src[o * 3] ?? 0) / 255) +
        lerp(ag, r0, r1, a, c, f, fy) * ((src[o * 3 + 1] ?? 0) / 255) +
        lerp(ab, r0, r1, a, c, f, fy) * ((src[o * 3 + 2] ?? 0) / 255) +
        lerp(b, r0, r1, a, c, f, fy);
      out[o] = Math.min(1, Math.max(0, q));
    }
  }
  return { width, height, data: out };
}
