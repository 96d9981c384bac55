import type { Random } from '../../core/random.js';
import type { SketchLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import {
  alphaAt,
  boxBlur,
  downsample,
  image,
  lumaPlane,
  resize,
  resizePlane,
  rgbPlanes,
  skinWeight,
  smoothNoise,
  upsample,
  whiteNoise,
  wideBlur,
} from './filters.js';

/**
 * Pencil sketch. Lines: the classic colour dodge of the grey image by its inverted blur (flat areas go to white,
 * edges keep a dark rim as wide as the blur), on a grey first smoothed a little so skin pores and JPEG noise do not
 * become scribbles. Tone: the photo's own shading, softened and laid down as diagonal hatching (noise streaked
 * along 45 degrees), so it reads as pencil strokes rather than a photocopy. Pencil catches on the paper's tooth,
 * the background fades out to bare paper (`background`), and the paper has a faint fibre texture.
 * Faces are drawn cleanly, as an artist would: skin (a chroma weight on the subject) is smoothed of blemishes
 * before the dodge, gets smooth tone instead of hatching, and a line there must be a real feature's step; steps
 * are measured relative to the surround's brightness so a dark face in a dim photo still gets its eyes and mouth.
 */
const TILE = 512;
const MASK = TILE - 1;

export function applySketch(src: RgbImage, s: SketchLook, alpha: ArrayLike<number> | undefined, rng: Random): RgbImage {
  const { width, height } = src;
  const n = width * height;
  const scale = Math.max(width, height) / 1024;
  // Two passes of a 3 px box: enough to calm pores and JPEG blocks, cheaper than a Gaussian.
  const grey = boxBlur(lumaPlane(src), width, height, Math.max(1, Math.round(scale)), 2);
  // Skin on the subject: shaded smoothly (no hatching) and drawn only where the edge is a real feature, since
  // hatching and wrinkle lines on a face read as scribbles and age it. Found at a quarter size: it is a soft weight.
  const hw2 = Math.max(1, Math.round(width / 4));
  const hh2 = Math.max(1, Math.round(height / 4));
  const half = resize(src, hw2, hh2);
  const [sr, sg, sb] = rgbPlanes(half);
  const skinHalf = skinWeight(sr, sg, sb);
  if (alpha) {
    const a = resizePlane(alpha, width, height, hw2, hh2);
    for (let p = 0; p < skinHalf.length; p++) skinHalf[p] = skinHalf[p]! * Math.min(1, Math.max(0, a[p]!));
  }
  // The soft fields (skin, the mask's reach, paper fibres) are kept at half size and read at the pixel's
  // half-size cell: they change over tens of pixels, and three full-size planes cost more than the rest of the
  // look's set-up.
  const w2 = Math.ceil(width / 2);
  const h2 = Math.ceil(height / 2);
  const skin = upsample(boxBlur(skinHalf, hw2, hh2, 1, 2), hw2, hh2, w2 / hw2, w2, h2);
  // Skin is smoothed further before anything is drawn from it (blemishes, age spots and fine wrinkles came out as
  // scattered dashes), except where it steps by as much as an eye, a nostril or a lip line does.
  smoothSkin(grey, skin, w2, width, height, scale);
  // The blur of the inverted grey is 255 less the grey's blur: this is the grey's blur, inverted where it is used.
  const greyBlur = wideBlur(grey, width, height, s.line * 1024 * scale);

  // Hatching and tooth come from 512 px tiles laid at a random offset: a quarter of the cost of full-size
  // textures, and noise does not show a repeat that far apart.
  const hatch = hatching(TILE, TILE, Math.max(6, Math.round(14 * scale)), rng);
  const ox = rng.int(TILE);
  const oy = rng.int(TILE);
  // Paper tooth at the pixel scale, fibres at about 4% of the side.
  const tooth = whiteNoise(TILE * TILE, rng);
  const fibre = smoothNoise(w2, h2, Math.max(4, Math.round(20 * scale)), 2, rng);
  // The subject mask, widened and softened so the drawing fades out instead of stopping at a cut.
  const reach = alpha ? wideBlur(downsample(asPlane(alpha), width, height, 2).plane, w2, h2, 12 * scale) : undefined;
  // The subject's outline, drawn from the mask: where a jaw or cheek meets a background of the same tone the dodge
  // finds no edge and the face fades into the paper; an artist draws that contour anyway.
  // The mask is softened first: its edge follows stray hairs and segmentation noise, and a line along it wobbled.
  // Softened at half size (a blur of about 2 px at 1024 px), which costs a quarter.
  const contour = alpha ? halfSizeOutline(alpha, width, height) : undefined;
  const out = new Uint8ClampedArray(n * 3);
  // 1 - dodge^darkness as a table: a pow per pixel costs more than the rest of the loop.
  const darken = new Float32Array(1024);
  for (let k = 0; k < 1024; k++) darken[k] = 1 - (k / 1023) ** s.darkness;
  // t^1.3, the tone's shading curve, as a table too.
  const soft = new Float32Array(1024);
  for (let k = 0; k < 1024; k++) soft[k] = (k / 1023) ** 1.3;
  const [pr, pg, pb] = s.paper;
  const [kr, kg, kb] = s.pencil;
  for (let y = 0, p = 0; y < height; y++) {
    const tileRow = ((y + oy) & MASK) * TILE;
    const halfRow = (y >> 1) * w2;
    for (let x = 0; x < width; x++, p++) {
      const g = grey[p]!;
      const cell = halfRow + (x >> 1);
      const tile = tileRow + ((x + ox) & MASK);
      // Colour dodge: g / (1 - blur(inverted)), on 0..1.
      const gb = greyBlur[p]!;
      const dodge = Math.min(1, g / Math.max(1, gb));
      let line = darken[(dodge * 1023 + 0.5) | 0]!;
      // The dodge is a ratio, so in a dark area (a suit, a helmet's shadow) a few grey levels of noise become black
      // ink blotches with white speckle, and a suit's weave becomes grainy speckle. A line is drawn only where the
      // pixel is darker than its surroundings by enough grey levels to be an edge an artist would draw.
      // On skin the step must be larger still: pores and fine wrinkles are not drawn. On and around skin the step
      // is measured relative to the surround's brightness (as the eye sees it): in absolute levels the eyes and
      // lips of a dark-skinned face in a dim photo are a third of a pale face's, and were left undrawn. Not on
      // cloth: there it would draw a dark suit's weave as speckle.
      const sk = skin[cell]!;
      const relative = 1 + (190 / Math.max(60, gb) - 1) * Math.min(1, 2 * sk);
      const step = (gb - g) * relative;
      line *= smoothstep01((step - 4 - 8 * sk) / (10 + 6 * sk));
      // Shading follows the broad shapes only: the dodge's own blur of the grey (inverted back).
      const t = 1 - gb / 255;
      if (contour) line = Math.max(line, contour[p]!);
      // Darker areas get denser hatching: the streak texture is thresholded lower where the tone is darker.
      // A soft threshold: hard-edged streaks read as scratches.
      const hatched = Math.min(1, Math.max(0, (t * 1.4 - hatch[tile]!) * 1.3));
      const hw = s.hatching * (1 - 0.85 * sk);
      // Tone is compressed: a black suit is drawn dark grey, not filled solid, as an artist would leave it.
      const shade = s.shading * (soft[(t * 1023 + 0.5) | 0]! * (1 - hw) + hw * hatched * t) * (1 - 0.3 * t);
      let k = 1 - (1 - line) * (1 - shade);
      // Graphite skips over the paper's tooth.
      k *= 1 + 0.12 * tooth[tile]!;
      const a = reach ? Math.min(1, reach[cell]! * 1.3) : alphaAt(alpha, p);
      k *= s.background + (1 - s.background) * a;
      k = Math.min(1, k);
      const paper = 1 - 0.05 * (fibre[cell]! - 0.5);
      const i = p * 3;
      out[i] = pr * paper * (1 - k) + kr * k;
      out[i + 1] = pg * paper * (1 - k) + kg * k;
      out[i + 2] = pb * paper * (1 - k) + kb * k;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}

/**
 * The outline of the mask, found at half size (softened by a box there, about 2 px at full size) and scaled back
 * up: a quarter of the cost, and the line is soft anyway.
 */
function halfSizeOutline(alpha: ArrayLike<number>, width: number, height: number): Float32Array {
  const { plane, w, h } = downsample(asPlane(alpha), width, height, 2);
  // At half size the mask changes twice as much per pixel: halve the change so the line keeps its width.
  const line = outline(boxBlur(plane, w, h, 1, 2), w, h, 1, 0.5);
  return upsample(line, w, h, 2, width, height);
}

/** The mask as a Float32Array, copied only when it is not one already. */
function asPlane(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/**
 * Skin pulled toward a blur of itself (made at half size, sampled only where there is skin, a fraction of the
 * picture), except where it steps as a feature does. `skin` is at half size, `w2` cells wide.
 */
function smoothSkin(
  grey: Float32Array,
  skin: Float32Array,
  w2: number,
  width: number,
  height: number,
  scale: number,
): void {
  const { plane, w, h } = downsample(grey, width, height, 2);
  const smooth = boxBlur(plane, w, h, Math.max(1, Math.round(1.5 * scale)), 2);
  for (let y = 0, p = 0; y < height; y++) {
    const gy = Math.min(h - 1, Math.max(0, (y + 0.5) / 2 - 0.5));
    const r0 = Math.floor(gy) * w;
    const r1 = Math.min(h - 1, Math.floor(gy) + 1) * w;
    const ty = gy - Math.floor(gy);
    for (let x = 0; x < width; x++, p++) {
      const sk = skin[(y >> 1) * w2 + (x >> 1)]!;
      if (sk < 0.01) continue;
      const gx = Math.min(w - 1, Math.max(0, (x + 0.5) / 2 - 0.5));
      const c0 = Math.floor(gx);
      const c1 = Math.min(w - 1, c0 + 1);
      const tx = gx - c0;
      const top = smooth[r0 + c0]! + (smooth[r0 + c1]! - smooth[r0 + c0]!) * tx;
      const bottom = smooth[r1 + c0]! + (smooth[r1 + c1]! - smooth[r1 + c0]!) * tx;
      const d = top + (bottom - top) * ty - grey[p]!;
      grey[p] = grey[p]! + d * sk * 0.9 * (1 - smoothstep01((Math.abs(d) - 8) / 14));
    }
  }
}

function smoothstep01(x: number): number {
  const t = Math.min(1, Math.max(0, x));
  return t * t * (3 - 2 * t);
}

/**
 * A soft pencil line along the edge of the subject mask: the mask's change across `d` px (about 2 at 1024 px),
 * so the line is about that wide, up to 0.55 dark (the dodge lines stay the stronger marks where they exist).
 * `gain` scales the change (0.5 for a mask at half size).
 */
function outline(alpha: ArrayLike<number>, width: number, height: number, scale: number, gain = 1): Float32Array {
  const d = Math.max(1, Math.round(scale));
  const dy = d * width;
  const out = new Float32Array(width * height);
  for (let y = d; y < height - d; y++) {
    for (let x = d; x < width - d; x++) {
      const p = y * width + x;
      const gx = (alpha[p + d] ?? 0) - (alpha[p - d] ?? 0);
      const gy = (alpha[p + dy] ?? 0) - (alpha[p - dy] ?? 0);
      const m = (gx * gx + gy * gy) * gain * gain;
      // Inside and outside the subject the mask is flat: most pixels stop here.
      if (m < 0.01) continue;
      out[p] = 0.55 * smoothstep01((Math.sqrt(m) - 0.1) / 0.3);
    }
  }
  return out;
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
