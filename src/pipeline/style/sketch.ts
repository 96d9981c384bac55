import type { Random } from '../../core/random.js';
import type { SketchLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import { alphaAt, boxBlur, image, lumaPlane, smoothNoise, whiteNoise, wideBlur } from './filters.js';

/**
 * Pencil sketch. Lines: the classic colour dodge of the grey image by its inverted blur (flat areas go to white,
 * edges keep a dark rim as wide as the blur), on a grey first smoothed a little so skin pores and JPEG noise do not
 * become scribbles. Tone: the photo's own shading, softened and laid down as diagonal hatching (noise streaked
 * along 45 degrees), so it reads as pencil strokes rather than a photocopy. Pencil catches on the paper's tooth,
 * the background fades out to bare paper (`background`), and the paper has a faint fibre texture.
 */
const TILE = 512;
const MASK = TILE - 1;

export function applySketch(src: RgbImage, s: SketchLook, alpha: ArrayLike<number> | undefined, rng: Random): RgbImage {
  const { width, height } = src;
  const n = width * height;
  const scale = Math.max(width, height) / 1024;
  // Two passes of a 3 px box: enough to calm pores and JPEG blocks, cheaper than a Gaussian.
  const grey = boxBlur(lumaPlane(src), width, height, Math.max(1, Math.round(scale)), 2);
  const inverted = new Float32Array(n);
  for (let p = 0; p < n; p++) inverted[p] = 255 - grey[p]!;
  const blurred = wideBlur(inverted, width, height, s.line * 1024 * scale);

  // Hatching and tooth come from 512 px tiles laid at a random offset: a quarter of the cost of full-size
  // textures, and noise does not show a repeat that far apart.
  const hatch = hatching(TILE, TILE, Math.max(6, Math.round(14 * scale)), rng);
  const ox = rng.int(TILE);
  const oy = rng.int(TILE);
  // Paper tooth at the pixel scale, fibres at about 4% of the side.
  const tooth = whiteNoise(TILE * TILE, rng);
  const fibre = smoothNoise(width, height, Math.max(8, Math.round(40 * scale)), 2, rng);
  // The subject mask, widened and softened so the drawing fades out instead of stopping at a cut.
  const reach = alpha ? wideBlur(Float32Array.from(alpha), width, height, 24 * scale) : undefined;
  const out = new Uint8ClampedArray(n * 3);
  // 1 - dodge^darkness as a table: a pow per pixel costs more than the rest of the loop.
  const darken = new Float32Array(1024);
  for (let k = 0; k < 1024; k++) darken[k] = 1 - (k / 1023) ** s.darkness;
  // t^1.3, the tone's shading curve, as a table too.
  const soft = new Float32Array(1024);
  for (let k = 0; k < 1024; k++) soft[k] = (k / 1023) ** 1.3;
  const [pr, pg, pb] = s.paper;
  const [kr, kg, kb] = s.pencil;
  for (let p = 0; p < n; p++) {
    const g = grey[p]!;
    const tile = ((((p / width) | 0) + oy) & MASK) * TILE + (((p % width) + ox) & MASK);
    // Colour dodge: g / (1 - blur(inverted)), on 0..1.
    const dodge = Math.min(1, g / Math.max(1, 255 - blurred[p]!));
    const line = darken[Math.round(dodge * 1023)]!;
    // Shading follows the broad shapes only: the dodge's own blur of the grey (inverted back).
    const t = blurred[p]! / 255;
    // Darker areas get denser hatching: the streak texture is thresholded lower where the tone is darker.
    const hatched = Math.min(1, Math.max(0, (t * 1.4 - hatch[tile]!) * 2));
    // Tone is compressed: a black suit is drawn dark grey, not filled solid, as an artist would leave it.
    const shade =
      s.shading * (soft[Math.round(t * 1023)]! * (1 - s.hatching) + s.hatching * hatched * t) * (1 - 0.3 * t);
    let k = 1 - (1 - line) * (1 - shade);
    // Graphite skips over the paper's tooth.
    k *= 1 + 0.2 * tooth[tile]!;
    const a = reach ? Math.min(1, reach[p]! * 1.3) : alphaAt(alpha, p);
    k *= s.background + (1 - s.background) * a;
    k = Math.min(1, k);
    const paper = 1 - 0.05 * (fibre[p]! - 0.5);
    const i = p * 3;
    out[i] = pr * paper * (1 - k) + kr * k;
    out[i + 1] = pg * paper * (1 - k) + kg * k;
    out[i + 2] = pb * paper * (1 - k) + kb * k;
  }
  return image(new Uint8Array(out.buffer), width, height);
}

/** Streaks along the 45-degree diagonal: white noise averaged along each diagonal over `length` px, in 0..1. */
function hatching(width: number, height: number, length: number, rng: Random): Float32Array {
  const noise = boxBlur(whiteNoise(width * height, rng), width, height, 1, 1);
  const out = new Float32Array(width * height);
  const half = Math.floor(length / 2);
  const norm = 1 / (2 * half + 1);
  // Each diagonal starts on the top row or the left column and runs down-right.
  for (let start = -(height - 1); start < width; start++) {
    const x0 = Math.max(0, start);
    const y0 = x0 - start;
    const len = Math.min(width - x0, height - y0);
    if (len <= 0) continue;
    let acc = 0;
    const at = (k: number) => noise[(y0 + k) * width + x0 + k]!;
    for (let k = -half; k <= half; k++) acc += at(Math.min(len - 1, Math.max(0, k)));
    for (let k = 0; k < len; k++) {
      out[(y0 + k) * width + x0 + k] = acc * norm;
      acc += at(Math.min(len - 1, k + half + 1)) - at(Math.max(0, k - half));
    }
  }
  // Averaging shrank the spread; stretch back to about 0..1.
  const stretch = 3.4 * Math.sqrt(2 * half + 1);
  for (let p = 0; p < out.length; p++) out[p] = Math.min(1, Math.max(0, 0.5 + out[p]! * stretch));
  return out;
}
