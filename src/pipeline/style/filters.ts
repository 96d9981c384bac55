import type { Random } from '../../core/random.js';
import type { RgbImage } from '../types.js';

/**
 * Small image helpers the style renderers share: single-channel planes as Float32Array (0..255 unless said),
 * box blurs by running sums, integral images, seeded noise fields. Kept here rather than borrowed from
 * src/pipeline/lighting so the looks are fast where they need to be (the vertical pass runs along rows, which is
 * cache-friendly and about three times faster at 1024 px than walking columns) and stay independent of the
 * relighting code's own grids.
 */

export type Plane = Float32Array;

export function lumaPlane(image: RgbImage): Plane {
  const { data } = image;
  const n = image.width * image.height;
  const out = new Float32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) out[p] = 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
  return out;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : Math.min(v, 255);
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/**
 * A soft S-curve on 0..1 of strength `k` (0 = identity): a blend toward smoothstep, which keeps black, white and
 * mid-grey where they are and adds contrast in the mid-tones.
 */
export function sCurve(x: number, k: number): number {
  const s = x * x * (3 - 2 * x);
  return x + (s - x) * k;
}

/** A 256-entry lookup table from a function on 0..1 to bytes. */
export function lut(f: (x: number) => number): Float32Array {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = clampByte(f(v / 255) * 255);
  return t;
}

/**
 * One box blur pass of radius r on a plane, horizontal then vertical, by running sums (edges clamped). Three
 * passes approximate a Gaussian of sigma ~ r.
 */
export function boxBlur(src: Plane, width: number, height: number, radius: number, passes = 3): Plane {
  const r = Math.max(0, Math.round(radius));
  if (r === 0) return src;
  let a = src;
  const tmp = new Float32Array(src.length);
  const norm = 1 / (2 * r + 1);
  const acc = new Float32Array(width);
  for (let p = 0; p < passes; p++) {
    // Horizontal: a -> tmp.
    for (let y = 0; y < height; y++) {
      const row = y * width;
      let s = 0;
      for (let k = -r; k <= r; k++) s += a[row + (k < 0 ? 0 : k >= width ? width - 1 : k)]!;
      for (let x = 0; x < width; x++) {
        tmp[row + x] = s * norm;
        const add = x + r + 1 < width ? x + r + 1 : width - 1;
        const sub = Math.max(x - r, 0);
        s += a[row + add]! - a[row + sub]!;
      }
    }
    // Vertical: tmp -> out, one running sum per column, rows walked in order.
    const out = a === src ? new Float32Array(src.length) : a;
    acc.fill(0);
    for (let k = -r; k <= r; k++) {
      const row = (k < 0 ? 0 : k >= height ? height - 1 : k) * width;
      for (let x = 0; x < width; x++) acc[x]! += tmp[row + x]!;
    }
    for (let y = 0; y < height; y++) {
      const row = y * width;
      const add = (y + r + 1 < height ? y + r + 1 : height - 1) * width;
      const sub = Math.max(y - r, 0) * width;
      for (let x = 0; x < width; x++) {
        out[row + x] = acc[x]! * norm;
        acc[x]! += tmp[add + x]! - tmp[sub + x]!;
      }
    }
    a = out;
  }
  return a;
}

/** Gaussian-like blur of sigma `sigma` px: three box passes whose radius matches that sigma. */
export function gaussianBlur(src: Plane, width: number, height: number, sigma: number): Plane {
  // Three boxes of width w have variance 3 (w^2 - 1) / 12; solve for r with w = 2r + 1.
  const r = Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2);
  return boxBlur(src, width, height, r, 3);
}

/**
 * Smooth value noise in 0..1 (bicubic-smooth interpolation of random values on a grid of `cell` px), for paper
 * fibres, backdrop mottling and canvas: one draw per grid node, so it is cheap at any size.
 */
function valueNoise(width: number, height: number, cell: number, rng: Random): Plane {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let k = 0; k < grid.length; k++) grid[k] = rng.next();
  const out = new Float32Array(width * height);
  const fx = new Float32Array(width);
  const ix = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    const g = x / cell;
    ix[x] = Math.floor(g);
    const t = g - Math.floor(g);
    fx[x] = t * t * (3 - 2 * t);
  }
  for (let y = 0; y < height; y++) {
    const g = y / cell;
    const iy = Math.floor(g);
    let ty = g - iy;
    ty = ty * ty * (3 - 2 * ty);
    const r0 = iy * gw;
    const r1 = (iy + 1) * gw;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = ix[x]!;
      const t = fx[x]!;
      const top = grid[r0 + i]! + (grid[r0 + i + 1]! - grid[r0 + i]!) * t;
      const bottom = grid[r1 + i]! + (grid[r1 + i + 1]! - grid[r1 + i]!) * t;
      out[row + x] = top + (bottom - top) * ty;
    }
  }
  return out;
}

/** Several octaves of value noise (fractal), normalised to 0..1 mean 0.5. */
export function fractalNoise(width: number, height: number, cell: number, octaves: number, rng: Random): Plane {
  const out = new Float32Array(width * height);
  let amp = 1;
  let total = 0;
  let c = cell;
  for (let o = 0; o < octaves && c >= 1; o++) {
    const n = valueNoise(width, height, c, rng);
    for (let p = 0; p < out.length; p++) out[p]! += n[p]! * amp;
    total += amp;
    amp *= 0.5;
    c /= 2;
  }
  for (let p = 0; p < out.length; p++) out[p] = out[p]! / total;
  return out;
}

/**
 * Fractal noise whose finest cell is `cell` px or more, computed on a grid 8 times coarser and scaled up: for
 * low-frequency fields (paper fibres, mottling) at a fraction of the per-pixel cost.
 */
export function smoothNoise(width: number, height: number, cell: number, octaves: number, rng: Random): Plane {
  const f = Math.min(8, Math.floor(cell / (2 ** (octaves - 1) * 2)));
  if (f < 2) return fractalNoise(width, height, cell, octaves, rng);
  const w = Math.ceil(width / f);
  const h = Math.ceil(height / f);
  return upsample(fractalNoise(w, h, cell / f, octaves, rng), w, h, f, width, height);
}

/** White noise, uniform in -0.5..0.5. A fast xorshift seeded from `rng`: a million draws through Random cost more. */
export function whiteNoise(n: number, rng: Random): Plane {
  const out = new Float32Array(n);
  let s = (rng.int(0x7fffffff) | 1) >>> 0;
  for (let p = 0; p < n; p++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[p] = (s >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

/** The alpha to use at pixel p: 1 (all subject) without a mask. */
export function alphaAt(alpha: ArrayLike<number> | undefined, p: number): number {
  return alpha ? (alpha[p] ?? 0) : 1;
}

export function image(data: Uint8Array, width: number, height: number): RgbImage {
  return { data, width, height, channels: 3 };
}

/** Box-averages a plane down by an integer factor (edge cells average what they cover). */
export function downsample(
  src: Plane,
  width: number,
  height: number,
  f: number,
): { plane: Plane; w: number; h: number } {
  const w = Math.ceil(width / f);
  const h = Math.ceil(height / f);
  const sum = new Float32Array(w * h);
  const count = new Float32Array(w * h);
  const cellOf = new Int32Array(width);
  for (let x = 0; x < width; x++) cellOf[x] = Math.floor(x / f);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / f) * w;
    const line = y * width;
    for (let x = 0; x < width; x++) {
      const q = row + cellOf[x]!;
      sum[q]! += src[line + x]!;
      count[q]! += 1;
    }
  }
  for (let q = 0; q < sum.length; q++) sum[q] = sum[q]! / count[q]!;
  return { plane: sum, w, h };
}

/** Bilinear upsampling of a plane of w x h cells (each `f` px) to width x height px. */
export function upsample(src: Plane, w: number, h: number, f: number, width: number, height: number): Plane {
  const out = new Float32Array(width * height);
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = Math.min(w - 1, Math.max(0, (x + 0.5) / f - 0.5));
    x0[x] = Math.floor(g);
    x1[x] = Math.min(w - 1, Math.floor(g) + 1);
    fx[x] = g - Math.floor(g);
  }
  for (let y = 0; y < height; y++) {
    const g = Math.min(h - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const r0 = Math.floor(g) * w;
    const r1 = Math.min(h - 1, Math.floor(g) + 1) * w;
    const ty = g - Math.floor(g);
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const a = src[r0 + x0[x]!]! + (src[r0 + x1[x]!]! - src[r0 + x0[x]!]!) * fx[x]!;
      const b = src[r1 + x0[x]!]! + (src[r1 + x1[x]!]! - src[r1 + x0[x]!]!) * fx[x]!;
      out[row + x] = a + (b - a) * ty;
    }
  }
  return out;
}

/**
 * A wide Gaussian blur computed at reduced resolution (the result is smooth, so nothing is lost): shrink by up to
 * 8, blur there, scale back up bilinearly. About ten times cheaper than a full-resolution blur of sigma 20.
 */
export function wideBlur(src: Plane, width: number, height: number, sigma: number): Plane {
  const f = Math.min(8, Math.floor(sigma / 2.5));
  if (f < 2) return gaussianBlur(src, width, height, sigma);
  const { plane, w, h } = downsample(src, width, height, f);
  return upsample(gaussianBlur(plane, w, h, sigma / f), w, h, f, width, height);
}
