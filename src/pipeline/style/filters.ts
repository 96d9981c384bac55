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
 * A Gaussian blur of `plane` that, given a mask, keeps the two sides of its outline apart: each pixel is the blur
 * of its own side (weighted by the mask, or by its complement) mixed by how much of the pixel is on each.
 */
export function sideBlur(plane: Plane, mask: Plane | undefined, w: number, h: number, sigma: number): Plane {
  if (!mask) return gaussianBlur(plane, w, h, sigma);
  const n = w * h;
  const inner = new Float32Array(n);
  for (let p = 0; p < n; p++) inner[p] = plane[p]! * mask[p]!;
  // The outer side's blurs are the whole's less the inner's (a blur is linear): three blurs rather than four.
  const all = gaussianBlur(plane, w, h, sigma);
  const bi = gaussianBlur(inner, w, h, sigma);
  const mi = gaussianBlur(mask, w, h, sigma);
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const a = mask[p]!;
    const m = mi[p]!;
    const vi = m > 1e-3 ? bi[p]! / m : plane[p]!;
    const vo = 1 - m > 1e-3 ? (all[p]! - bi[p]!) / (1 - m) : plane[p]!;
    out[p] = a * vi + (1 - a) * vo;
  }
  return out;
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

/**
 * Bilinear upsampling of a plane of w x h cells (each `f` px) to width x height px, a row at a time: each output
 * row's source row is interpolated once, then read across (bilinear is separable; three times faster than
 * interpolating four cells per pixel).
 */
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
  const row = new Float32Array(w);
  for (let y = 0; y < height; y++) {
    const g = Math.min(h - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const r0 = Math.floor(g) * w;
    const r1 = Math.min(h - 1, Math.floor(g) + 1) * w;
    const ty = g - Math.floor(g);
    for (let i = 0; i < w; i++) row[i] = src[r0 + i]! + (src[r1 + i]! - src[r0 + i]!) * ty;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const a = row[x0[x]!]!;
      out[o + x] = a + (row[x1[x]!]! - a) * fx[x]!;
    }
  }
  return out;
}

/** Bilinear resize of an RGB image (the looks shrink by less than 2, where bilinear does not alias). */
export function resize(src: RgbImage, w: number, h: number): RgbImage {
  const out = new Uint8ClampedArray(w * h * 3);
  const d = src.data;
  const sw = src.width;
  const sh = src.height;
  const x0 = new Int32Array(w);
  const x1 = new Int32Array(w);
  const fx = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const g = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / w - 0.5));
    x0[x] = Math.floor(g) * 3;
    x1[x] = Math.min(sw - 1, Math.floor(g) + 1) * 3;
    fx[x] = g - Math.floor(g);
  }
  for (let y = 0; y < h; y++) {
    const g = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / h - 0.5));
    const r0 = Math.floor(g) * sw * 3;
    const r1 = Math.min(sh - 1, Math.floor(g) + 1) * sw * 3;
    const ty = g - Math.floor(g);
    let o = y * w * 3;
    for (let x = 0; x < w; x++, o += 3) {
      const a = r0 + x0[x]!;
      const b = r0 + x1[x]!;
      const e = r1 + x0[x]!;
      const f = r1 + x1[x]!;
      const t = fx[x]!;
      const t00 = (1 - t) * (1 - ty);
      const t01 = t * (1 - ty);
      const t10 = (1 - t) * ty;
      const t11 = t * ty;
      out[o] = d[a]! * t00 + d[b]! * t01 + d[e]! * t10 + d[f]! * t11;
      out[o + 1] = d[a + 1]! * t00 + d[b + 1]! * t01 + d[e + 1]! * t10 + d[f + 1]! * t11;
      out[o + 2] = d[a + 2]! * t00 + d[b + 2]! * t01 + d[e + 2]! * t10 + d[f + 2]! * t11;
    }
  }
  return image(new Uint8Array(out.buffer), w, h);
}

/** Nearest-sample resize of a plane (the subject mask is soft already). */
export function resizePlane(src: ArrayLike<number>, sw: number, sh: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const yy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / h));
    for (let x = 0; x < w; x++) out[y * w + x] = src[yy * sw + Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / w))] ?? 0;
  }
  return out;
}

/**
 * An exact separable Gaussian for small sigmas (a few px), where three box passes are too coarse: their radius is
 * a whole number, so sigma jumps from 0 to 1.4 to 2.8 px, and line widths or a DoG's band would jump with it.
 */
export function smallGaussian(src: Plane, width: number, height: number, sigma: number): Plane {
  const r = Math.max(1, Math.ceil(sigma * 2.5));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let j = -r; j <= r; j++) {
    k[j + r] = Math.exp((-j * j) / (2 * sigma * sigma));
    sum += k[j + r]!;
  }
  for (let j = 0; j < k.length; j++) k[j] = k[j]! / sum;
  const tmp = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = -r; j <= r; j++) {
        const xx = x + j < 0 ? 0 : x + j >= width ? width - 1 : x + j;
        s += src[row + xx]! * k[j + r]!;
      }
      tmp[row + x] = s;
    }
  }
  // Vertical pass along rows (cache-friendly): each output row is a weighted sum of whole input rows.
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let j = -r; j <= r; j++) {
      const yy = y + j < 0 ? 0 : y + j >= height ? height - 1 : y + j;
      const from = yy * width;
      const kj = k[j + r]!;
      for (let x = 0; x < width; x++) out[row + x]! += tmp[from + x]! * kj;
    }
  }
  return out;
}

/**
 * Edge-keeping smoothing of three colour planes in place: a separable bilateral filter (a horizontal then a
 * vertical pass, each weighing neighbours by distance and by colour difference), `iterations` times. Repeated
 * passes flatten skin, cloth and backdrop into smooth areas of nearly one colour while the steps between them
 * (an eye, a lip line, a collar) stay sharp: the base of a cartoon look. Separable passes are not an exact
 * bilateral filter but need 2(2r+1) taps instead of (2r+1)^2, and iterating hides the difference.
 * `range` is the colour difference (0..255, Euclidean over R, G, B) at which a neighbour's weight falls to about
 * 1/e; neighbours beyond 1.4 times it do not count.
 * `strength` (0..1 per pixel, optional) scales `range`: a larger range smooths across more, for a calmer background.
 * `skip` (optional) marks pixels to leave as they are (non-zero): areas a caller has smoothed some cheaper way.
 */
export function bilateral(
  planes: [Plane, Plane, Plane],
  width: number,
  height: number,
  radius: number,
  range: number,
  iterations: number,
  strength?: Plane,
  skip?: Uint8Array,
): void {
  const r = Math.max(1, Math.round(radius));
  const spatial = new Float32Array(2 * r + 1);
  for (let j = -r; j <= r; j++) spatial[j + r] = Math.exp((-j * j) / (2 * (r / 1.5) ** 2));
  const [R, G, B] = planes;
  const n = width * height;
  const tr = new Float32Array(n);
  const tg = new Float32Array(n);
  const tb = new Float32Array(n);
  // The range weight is (1 - d^2 / 2 range^2)^2, zero beyond: close to exp(-d^2 / range^2) near 0 and a fifth
  // cheaper than a table of it (the taps are the whole cost). `inv` is 1 / 2 range^2 per pixel.
  const inv = new Float32Array(n);
  for (let p = 0; p < n; p++) inv[p] = 1 / (2 * (range * (strength ? 0.5 + strength[p]! : 1)) ** 2);
  // Always a mask (all zero when none is given), so the passes see one type and are compiled once.
  const skipped = skip ?? new Uint8Array(n);
  for (let it = 0; it < iterations; it++) {
    bilateralRows([R, G, B], [tr, tg, tb], inv, spatial, r, width, height, skipped);
    bilateralColumns([tr, tg, tb], [R, G, B], inv, spatial, r, width, height, skipped);
  }
}

/**
 * The horizontal pass of `bilateral`: `src` into `dst`. Each pass is a function of its own: V8 compiles a small
 * function once, while each loop of a large one is compiled separately, which slowed a worker's first renders.
 */
function bilateralRows(
  src: [Plane, Plane, Plane],
  dst: [Plane, Plane, Plane],
  inv: Plane,
  spatial: Float32Array,
  r: number,
  width: number,
  height: number,
  skip: Uint8Array,
): void {
  const [R, G, B] = src;
  const [tr, tg, tb] = dst;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const p = row + x;
      if (skip[p]) {
        tr[p] = R[p]!;
        tg[p] = G[p]!;
        tb[p] = B[p]!;
        continue;
      }
      const r0 = R[p]!;
      const g0 = G[p]!;
      const b0 = B[p]!;
      const ip = inv[p]!;
      let sw = 0;
      let sr = 0;
      let sg = 0;
      let sb = 0;
      const lo = x - r < 0 ? -x : -r;
      const hi = x + r >= width ? width - 1 - x : r;
      for (let j = lo; j <= hi; j++) {
        const q = p + j;
        const vr = R[q]!;
        const vg = G[q]!;
        const vb = B[q]!;
        const er = vr - r0;
        const eg = vg - g0;
        const eb = vb - b0;
        const t = (er * er + eg * eg + eb * eb) * ip;
        const u = t < 1 ? 1 - t : 0;
        const w = spatial[j + r]! * u * u;
        sw += w;
        sr += w * vr;
        sg += w * vg;
        sb += w * vb;
      }
      tr[p] = sr / sw;
      tg[p] = sg / sw;
      tb[p] = sb / sw;
    }
  }
}

/** The vertical pass of `bilateral`, `src` into `dst`, walking whole rows per tap so memory is read in order. */
function bilateralColumns(
  src: [Plane, Plane, Plane],
  dst: [Plane, Plane, Plane],
  inv: Plane,
  spatial: Float32Array,
  r: number,
  width: number,
  height: number,
  skip: Uint8Array,
): void {
  const [tr, tg, tb] = src;
  const [R, G, B] = dst;
  const ws = new Float32Array(width);
  const ar = new Float32Array(width);
  const ag = new Float32Array(width);
  const ab = new Float32Array(width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    ws.fill(0);
    ar.fill(0);
    ag.fill(0);
    ab.fill(0);
    const lo = y - r < 0 ? -y : -r;
    const hi = y + r >= height ? height - 1 - y : r;
    for (let j = lo; j <= hi; j++) {
      const from = row + j * width;
      const sj = spatial[j + r]!;
      for (let x = 0; x < width; x++) {
        const p = row + x;
        if (skip[p]) continue;
        const q = from + x;
        const vr = tr[q]!;
        const vg = tg[q]!;
        const vb = tb[q]!;
        const er = vr - tr[p]!;
        const eg = vg - tg[p]!;
        const eb = vb - tb[p]!;
        const t = (er * er + eg * eg + eb * eb) * inv[p]!;
        const u = t < 1 ? 1 - t : 0;
        const w = sj * u * u;
        ws[x]! += w;
        ar[x]! += w * vr;
        ag[x]! += w * vg;
        ab[x]! += w * vb;
      }
    }
    for (let x = 0; x < width; x++) {
      if (skip[row + x]) {
        R[row + x] = tr[row + x]!;
        G[row + x] = tg[row + x]!;
        B[row + x] = tb[row + x]!;
        continue;
      }
      const w = ws[x]!;
      R[row + x] = ar[x]! / w;
      G[row + x] = ag[x]! / w;
      B[row + x] = ab[x]! / w;
    }
  }
}

/** R, G, B planes (Float32, 0..255) of an image. */
export function rgbPlanes(src: RgbImage): [Plane, Plane, Plane] {
  const n = src.width * src.height;
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  const d = src.data;
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    r[p] = d[i]!;
    g[p] = d[i + 1]!;
    b[p] = d[i + 2]!;
  }
  return [r, g, b];
}

/**
 * 0..1 per pixel: how much this looks like skin, of any tone, from chroma alone (the classic YCbCr box, with soft
 * edges): Cr 133..173 and Cb 77..127 cover pale to deep brown skin under ordinary light. It finds some wood, tan
 * cloth and blond hair too, which only costs those the gentler treatment skin gets; it never has to be exact.
 */
export function skinWeight(r: Plane, g: Plane, b: Plane): Plane {
  const n = r.length;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const R = r[p]!;
    const G = g[p]!;
    const B = b[p]!;
    const y = 0.299 * R + 0.587 * G + 0.114 * B;
    const cb = 128 - 0.168736 * R - 0.331264 * G + 0.5 * B;
    const cr = 128 + 0.5 * R - 0.418688 * G - 0.081312 * B;
    const inCr = Math.min(smoothstep(128, 138, cr), 1 - smoothstep(170, 180, cr));
    const inCb = Math.min(smoothstep(72, 82, cb), 1 - smoothstep(124, 134, cb));
    out[p] = inCr * inCb * smoothstep(12, 30, y);
  }
  return out;
}

/**
 * Whether a picture has (nearly) no colour: its pixels' mean chroma (max - min channel) under 4 levels, as a black
 * and white photo saved as RGB has (JPEG leaves a level or two).
 */
export function isMonochrome(img: RgbImage): boolean {
  const d = img.data;
  let sum = 0;
  // Every 7th pixel: the mean over a portrait's hundred thousand samples is as good as over all of them.
  for (let i = 0; i + 2 < d.length; i += 21)
    sum += Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!);
  return sum / Math.max(1, Math.floor(d.length / 21)) < 4;
}
