import type { RgbImage } from '../types.js';
import type { Plane } from './plane.js';

/**
 * Fast colour guided filter (He, Sun and Tang 2013; He and Sun 2015): the coarse mask is fitted, window by window,
 * as a linear function of the photo's RGB, so its edges move onto the photo's own edges (hair against sky, a
 * shoulder against a wall) instead of the model's 256-px blur. The fit runs on a downscaled copy of the photo
 * and only the linear coefficients are upsampled, which keeps full-resolution work to one pass.
 */

/**
 * Mean over a (2r+1)^2 window clipped to the image (edge windows average fewer pixels, not zero padding):
 * running sums along rows, then along columns a whole row at a time. The ~20 calls per photo make this the
 * refinement's inner loop, hence the split into edge and middle spans (no per-pixel min/max or division).
 */
export function boxMean(src: Float32Array, width: number, height: number, r: number, out?: Float32Array): Float32Array {
  const tmp = rowPass(width * height);
  const dst = out ?? new Float32Array(width * height);
  const full = 1 / (2 * r + 1);
  // The window's count changes only within r of either end: those columns are done apart, and the middle, most of
  // the row, runs without a branch.
  const lead = Math.min(width, r + 1);
  const tail = Math.max(lead, width - r);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let acc = 0;
    for (let x = 0; x < Math.min(width, r); x++) acc += src[row + x]!;
    for (let x = 0; x < lead; x++) {
      if (x + r < width) acc += src[row + x + r]!;
      tmp[row + x] = acc / (Math.min(width - 1, x + r) - Math.max(0, x - r) + 1);
      if (x - r >= 0) acc -= src[row + x - r]!;
    }
    for (let x = lead; x < tail; x++) {
      acc += src[row + x + r]!;
      tmp[row + x] = acc * full;
      acc -= src[row + x - r]!;
    }
    for (let x = tail; x < width; x++) {
      if (x + r < width) acc += src[row + x + r]!;
      tmp[row + x] = acc / (Math.min(width - 1, x + r) - Math.max(0, x - r) + 1);
      acc -= src[row + x - r]!;
    }
  }
  const acc = new Float64Array(width);
  for (let y = 0; y < Math.min(height, r); y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) acc[x]! += tmp[row + x]!;
  }
  // One pass per row where the window lies wholly inside the image (add the row entering, store, drop the row
  // leaving): the same sums in the same order as three passes, at a third of the traffic through `acc`.
  for (let y = 0; y < height; y++) {
    const inv = 1 / (Math.min(height - 1, y + r) - Math.max(0, y - r) + 1);
    const row = y * width;
    const enter = (y + r) * width;
    const leave = (y - r) * width;
    if (y + r < height && y - r >= 0) {
      for (let x = 0; x < width; x++) {
        const sum = acc[x]! + tmp[enter + x]!;
        dst[row + x] = sum * inv;
        acc[x] = sum - tmp[leave + x]!;
      }
      continue;
    }
    if (y + r < height) for (let x = 0; x < width; x++) acc[x]! += tmp[enter + x]!;
    for (let x = 0; x < width; x++) dst[row + x] = acc[x]! * inv;
    if (y - r >= 0) for (let x = 0; x < width; x++) acc[x]! -= tmp[leave + x]!;
  }
  return dst;
}

/**
 * The row pass's buffer, kept between calls: a fresh 4 MB plane per call at 1024 px was a good share of the
 * garbage collector's work. boxMean never yields, so one buffer serves every call.
 */
let rowPassBuffer = new Float32Array(0);
function rowPass(n: number): Float32Array {
  if (rowPassBuffer.length < n) rowPassBuffer = new Float32Array(n);
  return rowPassBuffer;
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
 * Limits for the filtered mask at the guide's resolution: the result is kept between `lower` and `upper`
 * (bilinearly upsampled), and pixels where both agree are not filtered at all, which leaves the full-resolution
 * work to the thin band around the edge.
 */
export interface Bounds {
  lower: Plane;
  upper: Plane;
}

/**
 * Applies coefficients fitted on a downscaled guide to the full-resolution photo (bilinear upsampling of the
 * coefficients, pixel centres aligned), passes the result through `shape` (0..1 in and out), and keeps it within
 * `bounds`.
 */
export function applyCoefficients(
  coeff: GuidedCoefficients,
  image: RgbImage,
  bounds: Bounds,
  shape: (q: number) => number = (q) => q,
): Plane {
  const { width, height } = image;
  const cw = coeff.width;
  const chh = coeff.height;
  if (bounds.lower.width !== cw || bounds.upper.width !== cw) throw new Error('bounds and coefficients differ in size');
  const out = new Float32Array(width * height);
  const lower = bounds.lower.data;
  const upper = bounds.upper.data;
  // Per guide cell: 0 or 1 where the cell and its right, lower and diagonal neighbours are all surely that value
  // (every output pixel interpolating from this cell is then exactly it), 2 where the filter must run.
  const settled = new Uint8Array(cw * chh);
  for (let y = 0; y < chh; y++) {
    for (let x = 0; x < cw; x++) {
      const i = y * cw + x;
      const j = x + 1 < cw ? i + 1 : i;
      const k = y + 1 < chh ? i + cw : i;
      const m = x + 1 < cw ? k + 1 : k;
      let state = 2;
      if (upper[i] === 0 && upper[j] === 0 && upper[k] === 0 && upper[m] === 0) state = 0;
      else if (lower[i] === 1 && lower[j] === 1 && lower[k] === 1 && lower[m] === 1) state = 1;
      settled[i] = state;
    }
  }
  const sx = cw / width;
  const sy = chh / height;
  const xs0 = new Int32Array(width);
  const fx = new Float32Array(width);
  // Output columns interpolating from each guide column: [spanStart[a], spanStart[a + 1]).
  const spanStart = new Int32Array(cw + 1).fill(width);
  for (let x = width - 1; x >= 0; x--) {
    const u = Math.min(cw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
    const a = Math.floor(u);
    xs0[x] = a;
    fx[x] = u - a;
    spanStart[a] = x;
  }
  for (let a = cw - 1; a >= 0; a--) spanStart[a] = Math.min(spanStart[a]!, spanStart[a + 1]!);
  const { ar, ag, ab, b } = coeff;
  const src = image.data;
  const lerp = (p: Float32Array, r0: number, r1: number, a: number, c: number, f: number, fy: number): number => {
    const top = p[r0 + a]! + (p[r0 + c]! - p[r0 + a]!) * f;
    const bottom = p[r1 + a]! + (p[r1 + c]! - p[r1 + a]!) * f;
    return top + (bottom - top) * fy;
  };
  for (let y = 0; y < height; y++) {
    const v = Math.min(chh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(v);
    const r0 = y0 * cw;
    const r1 = Math.min(chh - 1, y0 + 1) * cw;
    const fy = v - y0;
    const row = y * width;
    for (let a = 0; a < cw; a++) {
      const from = spanStart[a]!;
      const to = spanStart[a + 1]!;
      if (from >= to) continue;
      const state = settled[r0 + a]!;
      // Settled spans: the output is already 0; 1 is a native fill.
      if (state === 1) out.fill(1, row + from, row + to);
      if (state !== 2) continue;
      const c = Math.min(cw - 1, a + 1);
      for (let x = from; x < to; x++) {
        const o = row + x;
        const f = fx[x]!;
        const q =
          lerp(ar, r0, r1, a, c, f, fy) * (src[o * 3]! / 255) +
          lerp(ag, r0, r1, a, c, f, fy) * (src[o * 3 + 1]! / 255) +
          lerp(ab, r0, r1, a, c, f, fy) * (src[o * 3 + 2]! / 255) +
          lerp(b, r0, r1, a, c, f, fy);
        const shaped = shape(Math.min(1, Math.max(0, q)));
        const lo = lerp(lower, r0, r1, a, c, f, fy);
        const hi = lerp(upper, r0, r1, a, c, f, fy);
        out[o] = Math.min(hi, Math.max(lo, shaped));
      }
    }
  }
  return { width, height, data: out };
}
