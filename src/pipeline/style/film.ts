import type { Random } from '../../core/random.js';
import type { FilmLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import { boxBlur, image, lumaPlane, sCurve, smoothstep, whiteNoise, wideBlur } from './filters.js';

/**
 * Analogue film: halation (a red-orange glow that bleeds from highlights into their surroundings, as light
 * scattered off the film base does), a soft print curve with lifted blacks, shadows and highlights tinted apart,
 * a little less saturation, a lens vignette, and grain strongest in the mid-tones (where real grain shows).
 */
export function applyFilm(src: RgbImage, f: FilmLook, rng: Random): RgbImage {
  const { width, height } = src;
  const n = width * height;
  const scale = Math.max(width, height) / 1024;
  const d = src.data;
  const luma = lumaPlane(src);

  // Halation: the blurred highlights.
  let glow: Float32Array | undefined;
  if (f.halation > 0) {
    const hi = new Float32Array(n);
    for (let p = 0; p < n; p++) hi[p] = smoothstep(150, 250, luma[p]!);
    glow = wideBlur(hi, width, height, 9 * scale);
  }

  // Grain: white noise softened to the grain size, normalised to unit deviation.
  let grain = whiteNoise(n, rng);
  const gr = Math.round(((f.grainSize - 1) * scale) / 0.6);
  let grainNorm = Math.sqrt(12);
  if (gr >= 1) {
    grain = boxBlur(grain, width, height, gr, 1);
    grainNorm = Math.sqrt(12) * (2 * gr + 1);
  }

  const out = new Uint8ClampedArray(d.length);
  const fade = f.fade * 255;
  const span = 1 - f.fade - 0.03;
  const [sr, sg, sb] = f.shadows;
  const [hr, hg, hb] = f.highlights;
  const cx = width / 2;
  const cy = height / 2;
  const inv = 1 / Math.hypot(cx, cy);
  for (let y = 0; y < height; y++) {
    const dy = (y - cy) * inv;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const i = p * 3;
      const dx = (x - cx) * inv;
      const vig = 1 - f.vignette * smoothstep(0.35, 1.1, Math.sqrt(dx * dx + dy * dy));
      const l = luma[p]! / 255;
      const ws = (1 - l) * (1 - l);
      const wh = l * l;
      const h = glow ? glow[p]! * f.halation * 90 : 0;
      const noise = grain[p]! * grainNorm * f.grain * (0.35 + 2.6 * l * (1 - l));
      let r = d[i]! + h;
      let g = d[i + 1]! + h * 0.42;
      let b = d[i + 2]! + h * 0.12;
      const yy = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      r = yy + (r - yy) * f.saturation;
      g = yy + (g - yy) * f.saturation;
      b = yy + (b - yy) * f.saturation;
      // The print curve, per channel, then the split tint and the vignette.
      r = fade + span * 255 * sCurve(Math.min(1, Math.max(0, r / 255)), 0.2) + sr * ws + hr * wh;
      g = fade + span * 255 * sCurve(Math.min(1, Math.max(0, g / 255)), 0.2) + sg * ws + hg * wh;
      b = fade + span * 255 * sCurve(Math.min(1, Math.max(0, b / 255)), 0.2) + sb * ws + hb * wh;
      out[i] = r * vig + noise;
      out[i + 1] = g * vig + noise;
      out[i + 2] = b * vig + noise;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}
