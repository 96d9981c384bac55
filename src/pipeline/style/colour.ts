import type { GradeLook, MonoLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import { image, lut, sCurve } from './filters.js';

/**
 * The colour treatments: a grade (white balance, tint, saturation, contrast) and black and white (a channel mix,
 * a contrast curve, optional toning). Both are per-pixel maps, a few milliseconds at 1024 px.
 */

/**
 * A colour grade. The white-balance gains act more in the highlights than in the shadows (as a graded film
 * does: warm light, neutral blacks), and the pixel's luma is restored afterwards so a grade never changes exposure.
 */
export function applyGrade(src: RgbImage, g: GradeLook): RgbImage {
  const d = src.data;
  const out = new Uint8ClampedArray(d.length);
  const t = g.temperature;
  const m = g.tint;
  // Gains at full strength (in the highlights).
  const gr = 1 + 0.2 * t + 0.05 * m;
  const gg = 1 + 0.03 * t - 0.09 * m;
  const gb = 1 - 0.28 * t + 0.05 * m;
  const curve = lut((x) => sCurve(x, g.contrast));
  const sat = g.saturation;
  for (let i = 0; i < d.length; i += 3) {
    const r0 = d[i]!;
    const g0 = d[i + 1]!;
    const b0 = d[i + 2]!;
    const y0 = 0.2126 * r0 + 0.7152 * g0 + 0.0722 * b0;
    const w = 0.35 + 0.65 * (y0 / 255);
    let r = r0 * (1 + (gr - 1) * w);
    let gch = g0 * (1 + (gg - 1) * w);
    let b = b0 * (1 + (gb - 1) * w);
    const y1 = 0.2126 * r + 0.7152 * gch + 0.0722 * b;
    // Restore the luma through the contrast curve.
    const target = curve[Math.round(y0)]!;
    const k = y1 > 0.5 ? target / y1 : 1;
    r *= k;
    gch *= k;
    b *= k;
    out[i] = target + (r - target) * sat;
    out[i + 1] = target + (gch - target) * sat;
    out[i + 2] = target + (b - target) * sat;
  }
  return image(new Uint8Array(out.buffer), src.width, src.height);
}

/**
 * Black and white: grey = the look's channel mix, with its black and white points set (greyLevels), through its
 * contrast curve; R = G = B exactly unless toned. Toning maps black to black, mid-grey to the tone colour and white
 * to white, as a sepia bath does. `face` (1 inside the face's oval) keeps the levels off the skin's highlights.
 */
export function applyMono(src: RgbImage, m: MonoLook, face?: ArrayLike<number>): RgbImage {
  const d = src.data;
  const out = new Uint8ClampedArray(d.length);
  const [wr, wg, wb] = m.mix;
  const curve = lut((x) => sCurve(x, m.contrast));
  const tone = m.tone;
  const toned: [Float32Array, Float32Array, Float32Array] | undefined = tone
    ? ([0, 1, 2].map((c) =>
        lut((x) => {
          const t = (tone[c] ?? 128) / 255;
          return x < 0.5 ? 2 * x * t : t + (2 * x - 1) * (1 - t);
        }),
      ) as [Float32Array, Float32Array, Float32Array])
    : undefined;
  const { lo, gain, black } = greyLevels(d, m.mix, face);
  for (let i = 0; i < d.length; i += 3) {
    const grey = black + (wr * d[i]! + wg * d[i + 1]! + wb * d[i + 2]! - lo) * gain;
    const y = Math.round(curve[Math.round(Math.min(255, Math.max(0, grey)))]!);
    if (toned) {
      out[i] = toned[0][y]!;
      out[i + 1] = toned[1][y]!;
      out[i + 2] = toned[2][y]!;
    } else {
      out[i] = y;
      out[i + 1] = y;
      out[i + 2] = y;
    }
  }
  return image(new Uint8Array(out.buffer), src.width, src.height);
}

/**
 * Where black and white puts its black and white points, as a print from a negative does. Converted as it was, a
 * hazy or dim photo came out flat grey: shadows never black, highlights never white ("washed out, flat grey", blind
 * raters). The grey's darkest LEVELS_SHARE goes to BLACK and its brightest to WHITE, a linear stretch of at most
 * MAX_GAIN (noise and JPEG blocks come up with it). A photo that spans the range already is left as it is.
 * The face's highlights (FACE_SHARE of its oval) are not brightened past FACE_WHITE, nor at all where they are
 * brighter: stretched to the white of a pale wall, pale or lit skin went chalky, its cheeks and forehead blown (a
 * blind paired panel preferred the unstretched one on every such photo). With that guard, a blind paired panel on
 * the 23 it changes of the 26 black and white portraits the stretch changed most (of 71, from four sets of unseen
 * photos and the shared ones) preferred it in 65 of 69 ratings (1 the old, 3 the same).
 */
const LEVELS_SHARE = 0.005;
const BLACK = 8;
const WHITE = 247;
const MAX_GAIN = 1.6;
const FACE_SHARE = 0.98;
const FACE_WHITE = 225;
/** Every STRIDE-th pixel is counted: the levels are a histogram's tails, which a sample gives as well. */
const STRIDE = 4;

/** Grey' = black + (grey - lo) * gain. */
function greyLevels(
  d: ArrayLike<number>,
  mix: readonly [number, number, number],
  face: ArrayLike<number> | undefined,
): { lo: number; gain: number; black: number } {
  const all = new Float64Array(256);
  const onFace = new Float64Array(256);
  const [wr, wg, wb] = mix;
  for (let p = 0; p * 3 < d.length; p += STRIDE) {
    const i = p * 3;
    const g = Math.round(wr * (d[i] ?? 0) + wg * (d[i + 1] ?? 0) + wb * (d[i + 2] ?? 0));
    all[g] = (all[g] ?? 0) + 1;
    if (face && (face[p] ?? 0) > 0.5) onFace[g] = (onFace[g] ?? 0) + 1;
  }
  const lo = quantile(all, LEVELS_SHARE);
  const hi = quantile(all, 1 - LEVELS_SHARE);
  if (lo === undefined || hi === undefined || hi <= lo) return { lo: 0, gain: 1, black: 0 };
  const black = Math.min(lo, BLACK);
  let gain = Math.min(MAX_GAIN, (Math.max(hi, WHITE) - black) / (hi - lo));
  const faceHigh = quantile(onFace, FACE_SHARE);
  if (faceHigh !== undefined && faceHigh > lo)
    gain = Math.max(1, Math.min(gain, (Math.max(faceHigh, FACE_WHITE) - black) / (faceHigh - lo)));
  return { lo, gain, black };
}

/** The level below which `share` of a histogram's count lies (undefined for an empty one). */
function quantile(hist: Float64Array, share: number): number | undefined {
  let total = 0;
  for (const v of hist) total += v;
  if (total === 0) return undefined;
  let acc = 0;
  for (let v = 0; v < hist.length; v++) {
    acc += hist[v] ?? 0;
    if (acc >= share * total) return v;
  }
  return hist.length - 1;
}
