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
 * Black and white: grey = the look's channel mix, through its contrast curve; R = G = B exactly unless toned.
 * Toning maps black to black, mid-grey to the tone colour and white to white, as a sepia bath does.
 */
export function applyMono(src: RgbImage, m: MonoLook): RgbImage {
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
  for (let i = 0; i < d.length; i += 3) {
    const y = Math.round(curve[Math.round(wr * d[i]! + wg * d[i + 1]! + wb * d[i + 2]!)]!);
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
