import { boxMean } from '../segment/guided-filter.js';
import { resizePlane } from '../segment/plane.js';
import { smoothstep } from '../style/filters.js';
import type { RgbImage } from '../types.js';
import { shrinkBox } from './plate.js';

/**
 * The person's edge checked against the photo's own colours. The segmentation is right about the middle of the
 * person and often wrong at the rim: a patch of the old background between strands of hair, a neighbour's shoulder
 * by an ear, a flag's stripe behind an arm. Over the photo's own (blurred) background that hardly shows; over a
 * studio backdrop or once the head turns, it floats beside the member as a blob. Decontamination cannot help: it
 * trusts the mask.
 *
 * So each pixel of the rim is compared with the colours around it on both sides, as sampling-based matting does:
 * the nearest colour among sure-background pixels nearby and among sure-person pixels nearby. A rim pixel that
 * matches the background closely while no person colour nearby comes close is background, whatever the mask said;
 * where the colours cannot tell (dark hair on a dark wall, a beige coat on a beige street) the mask is kept. The
 * check only ever takes alpha away, and only in a band along the edge, so the face and the body's middle are never
 * touched.
 */

/**
 * The check runs on a copy at most CHECK_SIDE pixels per side (its multiplier is upsampled, it is smooth enough);
 * the colours it compares with come from a coarser copy of SAMPLE_SIDE, averaged over a few pixels like the eye does.
 */
const CHECK_SIDE = 512;
const SAMPLE_SIDE = 256;
/**
 * How deep into the person (share of the side) the rim is checked, and how far sure person begins. Kept shallow:
 * deeper, grey hair against a pale wall and teeth by a white shirt rack were cut out of people (seen on the
 * review set), because a layer of the person that thin has no sure-person sample of its own colour nearby.
 * Partial edges, slivers and crumbs are what the check removes; colours are looked for within REACH.
 */
const RIM = 0.006;
const REACH = 0.045;
/** Sure person and sure background: alpha above and below these. */
const SURE_PERSON = 0.97;
const SURE_BACKGROUND = 0.03;
/**
 * When a rim pixel is background: its nearest background colour within BG_CLOSE (RGB distance, 0..255 units),
 * fading out by BG_FAR, and its nearest person colour RATIO_LOW..RATIO_HIGH times further away.
 */
const BG_CLOSE = 22;
const BG_FAR = 50;
const RATIO_LOW = 1.3;
const RATIO_HIGH = 2.2;

/**
 * Mixed pixels: where the rim's colour lies between the nearest background and the nearest person colours (a
 * strand of hair over a pale wall, which the mask calls person and would carry as a pale halo onto a backdrop),
 * the alpha is at most the share of the person along that line, as sampling-based matting estimates it. Only when
 * the two colours are well apart (MIX_APART..MIX_SURE) and the pixel lies close to the line between them (its
 * distance from it under MIX_RESIDUAL): a white collar between a dark suit and a grey wall is on no such line.
 */
const MIX_APART = 40;
const MIX_SURE = 80;
const MIX_RESIDUAL_LOW = 12;
const MIX_RESIDUAL_HIGH = 30;

/**
 * `alpha` with the rim's background removed (a new array; `alpha` is left alone). Inside `protect` (1 on the face,
 * width x height) nothing is checked: teeth by a white shirt rack or eye whites by a pale wall are not background.
 */
export function matteEdges(image: RgbImage, alpha: Float32Array, protect?: Uint8Array): Float32Array {
  const { width, height } = image;
  const side = Math.max(width, height);
  const fc = Math.max(1, Math.ceil(side / CHECK_SIDE));
  const cw = Math.ceil(width / fc);
  const ch = Math.ceil(height / fc);
  const check = shrinkBox(image, alpha, fc, cw, ch, 'mean');
  const fs = Math.max(1, Math.ceil(side / SAMPLE_SIDE));
  const sw = Math.ceil(width / fs);
  const sh = Math.ceil(height / fs);
  const sample = shrinkBox(image, alpha, fs, sw, sh, 'mean');
  // Sure person at both scales: the rim is what the check scale's core leaves; the person's colours are the sample
  // scale's core.
  const rimCore = erode(check.cover, cw, ch, Math.max(1, Math.round(Math.max(cw, ch) * RIM)), SURE_PERSON);
  const personCore = erode(sample.cover, sw, sh, Math.max(1, Math.round(Math.max(sw, sh) * RIM)), SURE_PERSON);
  const kinds = new Uint8Array(sw * sh); // 1 background sample, 2 person sample
  for (let q = 0; q < sw * sh; q++) kinds[q] = (sample.cover[q] ?? 0) < SURE_BACKGROUND ? 1 : personCore[q] ? 2 : 0;
  const reach = Math.max(2, Math.round(Math.max(sw, sh) * REACH));
  const ratio = fc / fs;
  const keep = new Float32Array(cw * ch).fill(1);
  for (let y = 0; y < ch; y++) {
    const sy = Math.min(sh - 1, Math.floor((y + 0.5) * ratio));
    const y0 = Math.max(0, sy - reach);
    const y1 = Math.min(sh - 1, sy + reach);
    for (let x = 0; x < cw; x++) {
      const o = y * cw + x;
      const cover = check.cover[o] ?? 0;
      if (cover < SURE_BACKGROUND || rimCore[o]) continue;
      if (
        protect?.[
          Math.min(height - 1, Math.floor((y + 0.5) * fc)) * width + Math.min(width - 1, Math.floor((x + 0.5) * fc))
        ]
      ) {
        continue;
      }
      const r = check.colour[o * 3] ?? 0;
      const g = check.colour[o * 3 + 1] ?? 0;
      const b = check.colour[o * 3 + 2] ?? 0;
      const sx = Math.min(sw - 1, Math.floor((x + 0.5) * ratio));
      const x0 = Math.max(0, sx - reach);
      const x1 = Math.min(sw - 1, sx + reach);
      let nearBg = Number.POSITIVE_INFINITY;
      let nearFg = Number.POSITIVE_INFINITY;
      // The spatially nearest sample of each kind: the local background and person colours for the mixing line.
      let closestBg = -1;
      let closestFg = -1;
      let closestBgD = Number.POSITIVE_INFINITY;
      let closestFgD = Number.POSITIVE_INFINITY;
      // Every other sample row and column, aligned on the pixel's own: neighbouring samples are alike, and the
      // window costs a quarter (the check was a sixth of the engine's time).
      for (let yy = y0 + ((sy - y0) % 2); yy <= y1; yy += 2) {
        for (let xx = x0 + ((sx - x0) % 2); xx <= x1; xx += 2) {
          const q = yy * sw + xx;
          const kind = kinds[q];
          if (!kind) continue;
          const dr = (sample.colour[q * 3] ?? 0) - r;
          const dg = (sample.colour[q * 3 + 1] ?? 0) - g;
          const db = (sample.colour[q * 3 + 2] ?? 0) - b;
          const d2 = dr * dr + dg * dg + db * db;
          const p2 = (xx - sx) * (xx - sx) + (yy - sy) * (yy - sy);
          if (kind === 1) {
            if (d2 < nearBg) nearBg = d2;
            if (p2 < closestBgD) {
              closestBgD = p2;
              closestBg = q;
            }
          } else {
            if (d2 < nearFg) nearFg = d2;
            if (p2 < closestFgD) {
              closestFgD = p2;
              closestFg = q;
            }
          }
        }
      }
      // No background within reach: the pixel is deep inside the person. No sure person within reach: a thin
      // part (fingers, a strand of hair) with nothing to compare it with. Either way the mask stands.
      if (!Number.isFinite(nearBg) || !Number.isFinite(nearFg)) continue;
      const dBg = Math.sqrt(nearBg);
      const dFg = Math.sqrt(nearFg);
      const close = 1 - smoothstep(BG_CLOSE, BG_FAR, dBg);
      const apart = smoothstep(RATIO_LOW, RATIO_HIGH, dFg / Math.max(4, dBg));
      keep[o] = Math.min(1 - close * apart, mixedShare(sample.colour, closestFg, closestBg, r, g, b) / cover);
    }
  }
  // Softened over a few pixels: a decision per cell leaves crumbs and bites along the edge.
  const soft = boxMean(boxMean(keep, cw, ch, 1), cw, ch, 1);
  const up = resizePlane({ width: cw, height: ch, data: soft }, width, height).data;
  // A plain loop: TypedArray.from with a mapping function walks the iterator, a hundred times slower here.
  const out = new Float32Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) out[i] = (alpha[i] ?? 0) * (up[i] ?? 1);
  return out;
}

/** The most alpha a pixel of colour (r, g, b) can have between person colour `fg` and background `bg` (indices). */
function mixedShare(colour: Float32Array, fg: number, bg: number, r: number, g: number, b: number): number {
  const br = colour[bg * 3] ?? 0;
  const bgc = colour[bg * 3 + 1] ?? 0;
  const bb = colour[bg * 3 + 2] ?? 0;
  const lr = (colour[fg * 3] ?? 0) - br;
  const lg = (colour[fg * 3 + 1] ?? 0) - bgc;
  const lb = (colour[fg * 3 + 2] ?? 0) - bb;
  const len2 = lr * lr + lg * lg + lb * lb;
  if (len2 < MIX_APART * MIX_APART) return 1;
  const t = Math.min(1, Math.max(0, ((r - br) * lr + (g - bgc) * lg + (b - bb) * lb) / len2));
  const er = r - br - t * lr;
  const eg = g - bgc - t * lg;
  const eb = b - bb - t * lb;
  const residual = Math.sqrt(er * er + eg * eg + eb * eb);
  const sure =
    smoothstep(MIX_APART, MIX_SURE, Math.sqrt(len2)) * (1 - smoothstep(MIX_RESIDUAL_LOW, MIX_RESIDUAL_HIGH, residual));
  return 1 - sure * (1 - t);
}

/** 1 where every cell within `radius` (a square) has cover above `threshold`. */
function erode(cover: Float32Array, w: number, h: number, radius: number, threshold: number): Uint8Array {
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    let run = 0;
    // Cells since the last one below the threshold, forwards then backwards: in both runs >= radius means inside.
    const fwd = new Int32Array(w);
    for (let x = 0; x < w; x++) {
      run = (cover[y * w + x] ?? 0) > threshold ? run + 1 : 0;
      fwd[x] = run;
    }
    run = 0;
    for (let x = w - 1; x >= 0; x--) {
      run = (cover[y * w + x] ?? 0) > threshold ? run + 1 : 0;
      rows[y * w + x] = Math.min(fwd[x] ?? 0, run) > radius ? 1 : 0;
    }
  }
  const out = new Uint8Array(w * h);
  for (let x = 0; x < w; x++) {
    let run = 0;
    const fwd = new Int32Array(h);
    for (let y = 0; y < h; y++) {
      run = rows[y * w + x] ? run + 1 : 0;
      fwd[y] = run;
    }
    run = 0;
    for (let y = h - 1; y >= 0; y--) {
      run = rows[y * w + x] ? run + 1 : 0;
      out[y * w + x] = Math.min(fwd[y] ?? 0, run) > radius ? 1 : 0;
    }
  }
  return out;
}
