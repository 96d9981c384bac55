import type { BackgroundTreatment, Rgb } from '../../core/lighting.js';
import type { RgbImage } from '../types.js';
import { linearToSrgbByte, luminance, SRGB_TO_LINEAR } from './colour.js';
import { boxBlur, meshBounds } from './mesh-raster.js';

/**
 * Subject vs background for the compositor: what gets relit and what gets the preset's background treatment
 * (kept, blurred, darkened, toned). There is no person-matting model with a clean license to ship, so the subject
 * is the head mask the warp derives from the mesh (face, hair, ears, neck) united with a soft shoulders region
 * below the chin; the edges are feathered wide so a wrong guess reads as a vignette, not as a cut-out.
 */

/** A soft mask on a coarse grid (cell = image pixels per cell), values 0..1. */
export interface SoftMask {
  data: Float32Array;
  width: number;
  height: number;
  cell: number;
  /** Grid row of the chin: `refineMask` leaves the body below it alone (a patterned shirt has edges everywhere). */
  chinRow?: number;
}

const MASK_CELL = 4;
const CHIN_BLEND_ROWS = 6;

/**
 * The subject mask for an image of `width` x `height`: `headMask` (per pixel, 0..1 or 0..255, from the warp) when
 * given, else an ellipse around the face mesh grown upward for hair; plus the shoulders below the chin.
 */
export function subjectMask(
  width: number,
  height: number,
  points: Float32Array,
  headMask?: ArrayLike<number>,
  headMaskMax = 1,
): SoftMask {
  const gw = Math.ceil(width / MASK_CELL);
  const gh = Math.ceil(height / MASK_CELL);
  const data = new Float32Array(gw * gh);
  const [minX, minY, maxX, maxY] = meshBounds(points);
  const faceW = Math.max(1, maxX - minX);
  const faceH = Math.max(1, maxY - minY);
  const cx = (minX + maxX) / 2;
  // Chin: the lowest mesh point. The neck and shoulders hang below it.
  const chinY = maxY;
  for (let gy = 0; gy < gh; gy++) {
    const y = (gy + 0.5) * MASK_CELL;
    for (let gx = 0; gx < gw; gx++) {
      const x = (gx + 0.5) * MASK_CELL;
      let head: number;
      if (headMask) {
        const px = Math.min(width - 1, Math.floor(x));
        const py = Math.min(height - 1, Math.floor(y));
        head = Math.min(1, (headMask[py * width + px] ?? 0) / headMaskMax);
      } else {
        // Hair adds about a third of the face height above the forehead points and a little at the sides.
        const ex = (x - cx) / (faceW * 0.68);
        const ey = (y - (minY + faceH * 0.4)) / (faceH * 0.78);
        head = ex * ex + ey * ey <= 1 ? 1 : 0;
      }
      let body = 0;
      if (y > chinY - faceH * 0.1) {
        // Neck (about 0.7 face widths) widening fast into shoulders that fill a head-and-shoulders frame.
        const below = y - chinY;
        const half = Math.min(faceW * 2.5, faceW * 0.35 + Math.max(0, below - faceH * 0.15) * 2.2);
        body = Math.abs(x - cx) <= half ? 1 : 0;
      }
      data[gy * gw + gx] = Math.max(head, body);
    }
  }
  // Feather: about 3% of the face width on each side of the edge.
  const feathered = boxBlur(data, gw, gh, 1, Math.max(1, Math.round((faceW * 0.05) / MASK_CELL)));
  return { data: feathered, width: gw, height: gh, cell: MASK_CELL, chinRow: Math.floor(chinY / MASK_CELL) };
}

/**
 * The background as composition reads it: the image itself, or (when the preset blurs) a blurred copy at
 * 1/`factor` resolution that composition upsamples bilinearly, which is the cheap way to a wide blur.
 */
export interface BackgroundSource {
  image: RgbImage;
  /** Image pixels per background pixel (1 = full resolution). */
  factor: number;
}

/**
 * The background source for a treatment. A blur of sigma s output pixels is a box-average down by
 * f = min(4, s / 1.5) and a three-pass box blur of the remaining radius there (about a Gaussian).
 */
export function backgroundSource(image: RgbImage, treatment: BackgroundTreatment): BackgroundSource {
  const sigma = treatment.blur * Math.max(image.width, image.height);
  if (sigma < 0.6) return { image, factor: 1 };
  const f = Math.max(1, Math.min(4, Math.floor(sigma / 1.5)));
  const w = Math.ceil(image.width / f);
  const h = Math.ceil(image.height / f);
  const sum = new Float32Array(w * h * 3);
  const count = new Float32Array(w * h);
  const src = image.data;
  const col = new Int32Array(image.width);
  for (let x = 0; x < image.width; x++) col[x] = Math.floor(x / f);
  for (let y = 0; y < image.height; y++) {
    const row = Math.floor(y / f) * w;
    let i = y * image.width * 3;
    for (let x = 0; x < image.width; x++, i += 3) {
      const o = row + col[x]!;
      count[o]! += 1;
      sum[o * 3]! += src[i]!;
      sum[o * 3 + 1]! += src[i + 1]!;
      sum[o * 3 + 2]! += src[i + 2]!;
    }
  }
  for (let o = 0; o < w * h; o++) {
    const n = count[o] || 1;
    sum[o * 3]! /= n;
    sum[o * 3 + 1]! /= n;
    sum[o * 3 + 2]! /= n;
  }
  const blurred = boxBlur(sum, w, h, 3, sigma / f);
  const data = new Uint8Array(w * h * 3);
  for (let k = 0; k < data.length; k++) data[k] = Math.min(255, Math.max(0, Math.round(blurred[k]!)));
  return { image: { data, width: w, height: h, channels: 3 }, factor: f };
}

export interface ComposeOptions {
  treatment: BackgroundTreatment;
  /** The lighting rig's overall colour (unit luminance), for toning. */
  rigColour: Rgb;
  /** Extra background brightness factor (variation jitter). @defaultValue 1 */
  backgroundGain?: number;
}

/** The background's colours after the treatment (brightness, tone, saturation), at the source's resolution. */
function treat(src: RgbImage, options: ComposeOptions): Uint8Array {
  const t = options.treatment;
  const gain = t.brightness * (options.backgroundGain ?? 1);
  const lut: Uint8Array[] = [0, 1, 2].map((c) => {
    const tone = 1 + ((options.rigColour[c] ?? 1) - 1) * t.tone;
    const l = new Uint8Array(256);
    for (let v = 0; v < 256; v++) l[v] = linearToSrgbByte(SRGB_TO_LINEAR[v]! * gain * tone);
    return l;
  });
  const [l0, l1, l2] = lut as [Uint8Array, Uint8Array, Uint8Array];
  const d = src.data;
  const out = new Uint8Array(d.length);
  const sat = t.saturation;
  for (let i = 0; i < d.length; i += 3) {
    let r = l0[d[i]!]!;
    let g = l1[d[i + 1]!]!;
    let b = l2[d[i + 2]!]!;
    if (sat !== 1) {
      const y = luminance(r, g, b);
      r = y + (r - y) * sat;
      g = y + (g - y) * sat;
      b = y + (b - y) * sat;
    }
    // Uint8Array stores truncate; clamp first, round by +0.5.
    out[i] = r < 0 ? 0 : r > 255 ? 255 : r + 0.5;
    out[i + 1] = g < 0 ? 0 : g > 255 ? 255 : g + 0.5;
    out[i + 2] = b < 0 ? 0 : b > 255 ? 255 : b + 0.5;
  }
  return out;
}

/** Columns of a row resampled from `from` cells to `to` pixels (pixels per cell = to / from): left index, weight. */
function columnWeights(to: number, from: number, perCell: number, stride: number) {
  const i0 = new Int32Array(to);
  const i1 = new Int32Array(to);
  const f = new Float32Array(to);
  for (let x = 0; x < to; x++) {
    const g = Math.min(from - 1, Math.max(0, (x + 0.5) / perCell - 0.5));
    const x0 = Math.floor(g);
    i0[x] = x0 * stride;
    i1[x] = Math.min(from - 1, x0 + 1) * stride;
    f[x] = g - x0;
  }
  return { i0, i1, f };
}

/**
 * subject * m + treated(background) * (1 - m), per pixel, m the upsampled soft mask. `subject` is the relit image,
 * `background` the unrelit one (or its blurred, smaller copy). The treatment runs at the background's own
 * resolution; rows of the mask and of a small background are interpolated once per output row.
 */
export function composeSubject(
  subject: RgbImage,
  background: BackgroundSource,
  mask: SoftMask,
  options: ComposeOptions,
): RgbImage {
  const { width, height } = subject;
  const out = new Uint8Array(subject.data.length);
  const sd = subject.data;
  const treated = treat(background.image, options);
  const bf = background.factor;
  const bw = background.image.width;
  const bh = background.image.height;
  const mw = mask.width;
  const mh = mask.height;
  const mc = columnWeights(width, mw, mask.cell, 1);
  const bc = columnWeights(width, bw, bf, 3);
  const mrow = new Float32Array(mw);
  const brow = new Float32Array(bw * 3);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(mh - 1, Math.max(0, (y + 0.5) / mask.cell - 0.5));
    const m0 = Math.floor(gy) * mw;
    const m1 = Math.min(mh - 1, Math.floor(gy) + 1) * mw;
    const mf = gy - Math.floor(gy);
    let rowMax = 0;
    for (let k = 0; k < mw; k++) {
      const v = mask.data[m0 + k]! * (1 - mf) + mask.data[m1 + k]! * mf;
      mrow[k] = v;
      if (v < 0.999) rowMax = 1;
    }
    const i0 = y * width * 3;
    if (rowMax === 0) {
      out.set(sd.subarray(i0, i0 + width * 3), i0);
      continue;
    }
    if (bf !== 1) {
      const g = Math.min(bh - 1, Math.max(0, (y + 0.5) / bf - 0.5));
      const r0 = Math.floor(g) * bw * 3;
      const r1 = Math.min(bh - 1, Math.floor(g) + 1) * bw * 3;
      const fy = g - Math.floor(g);
      for (let k = 0; k < bw * 3; k++) brow[k] = treated[r0 + k]! * (1 - fy) + treated[r1 + k]! * fy;
    }
    let i = i0;
    for (let x = 0; x < width; x++, i += 3) {
      const ma = mrow[mc.i0[x]!]!;
      const m = ma + (mrow[mc.i1[x]!]! - ma) * mc.f[x]!;
      if (m >= 0.999) {
        out[i] = sd[i]!;
        out[i + 1] = sd[i + 1]!;
        out[i + 2] = sd[i + 2]!;
        continue;
      }
      let r: number;
      let g: number;
      let b: number;
      if (bf === 1) {
        r = treated[i]!;
        g = treated[i + 1]!;
        b = treated[i + 2]!;
      } else {
        const a = bc.i0[x]!;
        const c = bc.i1[x]!;
        const f = bc.f[x]!;
        r = brow[a]! + (brow[c]! - brow[a]!) * f;
        g = brow[a + 1]! + (brow[c + 1]! - brow[a + 1]!) * f;
        b = brow[a + 2]! + (brow[c + 2]! - brow[a + 2]!) * f;
      }
      out[i] = m * sd[i]! + (1 - m) * r + 0.5;
      out[i + 1] = m * sd[i + 1]! + (1 - m) * g + 0.5;
      out[i + 2] = m * sd[i + 2]! + (1 - m) * b + 0.5;
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** The mask as a grey picture at grid resolution, for the debug sheet. */
export function softMaskImage(mask: SoftMask): RgbImage {
  const data = new Uint8Array(mask.width * mask.height * 3);
  for (let i = 0; i < mask.width * mask.height; i++) {
    const v = Math.round(Math.min(1, Math.max(0, mask.data[i] ?? 0)) * 255);
    data[3 * i] = v;
    data[3 * i + 1] = v;
    data[3 * i + 2] = v;
  }
  return { data, width: mask.width, height: mask.height, channels: 3 };
}

/**
 * Snaps a soft subject mask to the photo's edges with a guided filter (He, Sun & Tang 2010) on the mask grid,
 * guided by the image's luminance there: inside a window where the photo has an edge (hair against sky), the mask
 * follows that edge; where the photo is flat it stays as smooth as it was. This is what keeps the background
 * treatment from leaving a halo of untreated background around the hair without a matting model.
 */
export function refineMask(mask: SoftMask, image: RgbImage, radius = 6, eps = 0.004): SoftMask {
  const { width: gw, height: gh, cell } = mask;
  const chinRow = mask.chinRow ?? gh;
  const n = gw * gh;
  const guide = new Float32Array(n);
  const counts = new Float32Array(n);
  const step = Math.max(1, Math.floor(cell / 2));
  for (let y = 0; y < image.height; y += step) {
    const gy = Math.min(gh - 1, Math.floor(y / cell));
    for (let x = 0; x < image.width; x += step) {
      const gx = Math.min(gw - 1, Math.floor(x / cell));
      const i = (y * image.width + x) * 3;
      guide[gy * gw + gx]! += luminance(image.data[i]!, image.data[i + 1]!, image.data[i + 2]!) / 255;
      counts[gy * gw + gx]! += 1;
    }
  }
  for (let o = 0; o < n; o++) guide[o]! /= counts[o] || 1;
  const p = mask.data;
  const ip = new Float32Array(n);
  const ii = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    ip[o] = guide[o]! * p[o]!;
    ii[o] = guide[o]! * guide[o]!;
  }
  const mI = boxBlur(guide, gw, gh, 1, radius, 1);
  const mP = boxBlur(p, gw, gh, 1, radius, 1);
  const mIP = boxBlur(ip, gw, gh, 1, radius, 1);
  const mII = boxBlur(ii, gw, gh, 1, radius, 1);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const varI = mII[o]! - mI[o]! * mI[o]!;
    a[o] = (mIP[o]! - mI[o]! * mP[o]!) / (varI + eps);
    b[o] = mP[o]! - a[o]! * mI[o]!;
  }
  const mA = boxBlur(a, gw, gh, 1, radius, 1);
  const mB = boxBlur(b, gw, gh, 1, radius, 1);
  const out = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    // Only the uncertain band moves: what the mask was sure about stays.
    // The filter's output sits near the photo's edges but stays soft; a smoothstep makes it decide.
    const g = Math.min(1, Math.max(0, (mA[o]! * guide[o]! + mB[o]! - 0.25) / 0.5));
    const q = g * g * (3 - 2 * g);
    const v = p[o]!;
    // Full refinement above the chin, none a few rows below it, blended in between (no seam at the chin line).
    const w = Math.min(1, Math.max(0, (chinRow + CHIN_BLEND_ROWS - Math.floor(o / gw)) / (2 * CHIN_BLEND_ROWS)));
    out[o] = v >= 0.98 || v <= 0.02 ? v : w * q + (1 - w) * v;
  }
  return { ...mask, data: out };
}
