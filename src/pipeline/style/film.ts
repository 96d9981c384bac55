import type { Random } from '../../core/random.js';
import type { FilmLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import {
  alphaAt,
  downsample,
  gaussianBlur,
  image,
  lumaPlane,
  lut,
  sCurve,
  smallGaussian,
  smoothstep,
  upsample,
  whiteNoise,
} from './filters.js';

/**
 * Analogue film: halation (a red-orange glow that bleeds from highlights into their surroundings, as light
 * scattered off the film base does), a soft print curve with lifted blacks, shadows and highlights tinted apart,
 * a little less saturation, a lens vignette, and grain strongest in the mid-tones (where real grain shows).
 * Grain is fine and low (a deviation of a few levels, softened by under a pixel: barely visible at 100%, as on a
 * good film scan) and lighter still on the subject (`alpha`): heavy grain reads as a noisy low-light phone photo
 * rather than as film, which is what the review panel said of the earlier versions.
 */
const TILE_BITS = 9;
const TILE = 1 << TILE_BITS;
const MASK = TILE - 1;

export function applyFilm(src: RgbImage, f: FilmLook, alpha: ArrayLike<number> | undefined, rng: Random): RgbImage {
  const { width, height } = src;
  const scale = Math.max(width, height) / 1024;
  const d = src.data;
  const luma = lumaPlane(src);

  // Halation: the blurred highlights, found and blurred at a quarter of the size (the glow is wide and soft).
  let glow: Float32Array | undefined;
  if (f.halation > 0) {
    const q = Math.max(1, Math.min(4, Math.round(4 * scale)));
    const small = downsample(luma, width, height, q);
    for (let k = 0; k < small.plane.length; k++) small.plane[k] = smoothstep(185, 250, small.plane[k]!);
    glow = upsample(gaussianBlur(small.plane, small.w, small.h, (9 * scale) / q), small.w, small.h, q, width, height);
  }

  // Grain: a tile of white noise softened to the grain size and normalised to unit deviation, laid at a random
  // offset. A 512 px tile costs a quarter of full-size noise, and grain does not show a repeat that far apart. The
  // softening is a Gaussian of a fraction of a pixel up to a pixel or so (a box of whole pixels made clumps three
  // pixels wide, which read as blotchy noise rather than fine grain).
  let grain = whiteNoise(TILE * TILE, rng);
  const sigma = Math.max(0.35, 0.5 * f.grainSize * scale);
  grain = smallGaussian(grain, TILE, TILE, sigma);
  let sq = 0;
  for (let k = 0; k < grain.length; k++) sq += grain[k]! * grain[k]!;
  const grainNorm = 1 / Math.sqrt(sq / grain.length);
  const ox = rng.int(TILE);
  const oy = rng.int(TILE);

  const out = new Uint8ClampedArray(d.length);
  // The print curve as a table: lifted black, a gentle S, a highlight that stops short of white.
  const print = lut((x) => f.fade + (1 - f.fade - 0.03) * sCurve(x, 0.2));
  const [sr, sg, sb] = f.shadows;
  const [hr, hg, hb] = f.highlights;
  const cx = width / 2;
  const cy = height / 2;
  const inv = 1 / Math.hypot(cx, cy);
  // The vignette by squared radius (0..1) as a table: a square root per pixel costs more than the lookup.
  const vigLut = new Float32Array(1025);
  for (let k = 0; k <= 1024; k++) vigLut[k] = 1 - f.vignette * smoothstep(0.35, 1.1, Math.sqrt(k / 1024));
  for (let y = 0; y < height; y++) {
    const dy = (y - cy) * inv;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const i = p * 3;
      const dx = (x - cx) * inv;
      const vig = vigLut[Math.min(1024, Math.round((dx * dx + dy * dy) * 1024))]!;
      const l = luma[p]! / 255;
      const ws = (1 - l) * (1 - l);
      const wh = l * l;
      const h = glow ? glow[p]! * f.halation * 90 : 0;
      const noise =
        grain[(((y + oy) & MASK) << TILE_BITS) | ((x + ox) & MASK)]! *
        grainNorm *
        f.grain *
        (0.35 + 2.6 * l * (1 - l)) *
        (1 - 0.65 * alphaAt(alpha, p));
      let r = d[i]! + h;
      let g = d[i + 1]! + h * 0.55;
      let b = d[i + 2]! + h * 0.25;
      const yy = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      r = yy + (r - yy) * f.saturation;
      g = yy + (g - yy) * f.saturation;
      b = yy + (b - yy) * f.saturation;
      // The print curve, per channel, then the split tint and the vignette.
      r = print[r < 0 ? 0 : r > 255 ? 255 : Math.round(r)]! + sr * ws + hr * wh;
      g = print[g < 0 ? 0 : g > 255 ? 255 : Math.round(g)]! + sg * ws + hg * wh;
      b = print[b < 0 ? 0 : b > 255 ? 255 : Math.round(b)]! + sb * ws + hb * wh;
      out[i] = r * vig + noise;
      out[i + 1] = g * vig + noise;
      out[i + 2] = b * vig + noise;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}
