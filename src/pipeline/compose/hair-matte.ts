import { boxMean } from '../segment/guided-filter.js';
import { resizePlane } from '../segment/plane.js';
import type { Box, RgbImage } from '../types.js';
import { shrinkBox } from './plate.js';

/**
 * Hair over a plain background, matted against that background. The selfie model calls the whole head of hair
 * person, so the wall seen between curls and through thin strands, or a patch of it enclosed by hair, travels with
 * the member: a yellow glow in red curls over a blue backdrop, a white blob in a black bob once the background is
 * darkened (seen by a blind panel on unseen studio portraits). The rim check (edge-matte.ts) reaches only a few
 * pixels in, on purpose, because against a busy background the colours cannot tell. Against a plain one they can:
 * every pixel of hair is a mix of the hair's colour F and the wall's colour B behind it (the plate, which is the
 * wall filled in), and its share of F along the line from B to F is the most alpha it can have (difference
 * matting, as with a blue screen).
 *
 * Only where all of it holds: the pixel lies in the hair's neighbourhood and outside the face and skin (a beige
 * wall is the colour of an ear); the sure background within PLAIN_REACH varies little; the hair's own colour
 * nearby is well away from the wall's (dark hair on a dark wall, grey hair on a grey one are left alone); the
 * pixel lies close to the line between them. It only takes alpha away.
 */

/** The check runs at most at CHECK_SIDE pixels per side, hair colours are sampled at SAMPLE_SIDE. */
const CHECK_SIDE = 512;
const SAMPLE_SIDE = 128;
/** Neighbourhoods as shares of the side: where the background is judged plain, where hair colours are looked for. */
const PLAIN_REACH = 0.1;
const HAIR_REACH = 0.05;
/**
 * The hair zone: the hair mask averaged over ZONE_REACH of the side, above HAIR_ZONE. Above the chin it reaches
 * further (HEAD_ZONE over HEAD_REACH): the wall between the outer curls is often not hair to the hair model
 * either, while the person mask keeps it; below the chin a collar or a shirt the colour of the wall lies there.
 */
const ZONE_REACH = 0.012;
const HAIR_ZONE = 0.25;
const HEAD_REACH = 0.03;
const HEAD_ZONE = 0.06;
/** Colour spread (RMS over RGB, 0..255) of the background nearby: plain below PLAIN_LOW, busy from PLAIN_HIGH. */
const PLAIN_LOW = 8;
const PLAIN_HIGH = 16;
/** A hair colour and the wall's must lie this far apart (RGB distance) for the share to mean anything, sure from SURE. */
const APART = 45;
const SURE = 90;
/** A pixel this far off the line between wall and a hair colour is not explained by it (a clip, a hand). */
const RESIDUAL_LOW = 12;
const RESIDUAL_HIGH = 28;
/** Hair samples: cells of sure hair at least this far from the wall's colour behind them. */
const HAIR_SAMPLE_APART = 50;
/** Skin above this (skin mask, inside the person) is never touched. */
const SKIN = 0.3;

export interface HairMatteInput {
  image: RgbImage;
  /** The member's alpha. */
  alpha: Float32Array;
  /** Hair and skin masks, inside the person. */
  hair: Float32Array;
  skin: Float32Array;
  /** The background with the person removed and filled in. */
  plate: RgbImage;
  /** The face's box: never touched. */
  face: Box;
}

/**
 * `alpha` matted in the hair against a plain background (a new array). Hair is not one colour (highlights, dark
 * roots, shadow), so each pixel is explained by the hair colour nearby that gives it the most alpha while lying on
 * the line from the wall to it: a shadowed strand is its own dark colour at full alpha, the wall between curls is
 * the wall at none, and only pixels no hair colour explains better than the wall lose alpha.
 */
export function matteHairOnPlain({ image, alpha, hair, skin, plate, face }: HairMatteInput): Float32Array {
  const { width, height } = image;
  const side = Math.max(width, height);
  const fc = Math.max(1, Math.ceil(side / CHECK_SIDE));
  const cw = Math.ceil(width / fc);
  const ch = Math.ceil(height / fc);
  const check = shrinkBox(image, alpha, fc, cw, ch, 'mean');
  const wall = shrinkBox(plate, hair, fc, cw, ch, 'mean');
  const skinCover = shrinkBox(plate, skin, fc, cw, ch, 'mean').cover;
  const n = cw * ch;
  const cside = Math.max(cw, ch);

  // How plain the background is near each cell: the spread of the sure background's colours in the window.
  const bgWeight = new Float32Array(n);
  const sums = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const squares = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if ((check.cover[i] ?? 0) >= 0.03) continue;
    bgWeight[i] = 1;
    let sq = 0;
    for (let c = 0; c < 3; c++) {
      const v = check.colour[i * 3 + c] ?? 0;
      sums[c]![i] = v;
      sq += v * v;
    }
    squares[i] = sq;
  }
  const rp = Math.max(1, Math.round(cside * PLAIN_REACH));
  const bgCount = boxMean(bgWeight, cw, ch, rp);
  const bgMeans = sums.map((v) => boxMean(v, cw, ch, rp));
  const bgSquares = boxMean(squares, cw, ch, rp);
  const zone = boxMean(wall.cover, cw, ch, Math.max(1, Math.round(cside * ZONE_REACH)));
  const headZone = boxMean(wall.cover, cw, ch, Math.max(1, Math.round(cside * HEAD_REACH)));
  const chin = (face.y + face.height) / fc;

  // Hair colours: cells of sure hair, clearly unlike the wall behind them.
  const fs = Math.max(1, Math.ceil(side / SAMPLE_SIDE));
  const sw = Math.ceil(width / fs);
  const sh = Math.ceil(height / fs);
  const sample = shrinkBox(image, alpha, fs, sw, sh, 'mean');
  const sampleHair = shrinkBox(plate, hair, fs, sw, sh, 'mean');
  const isHair = new Uint8Array(sw * sh);
  for (let q = 0; q < sw * sh; q++) {
    if ((sampleHair.cover[q] ?? 0) < 0.6 || (sample.cover[q] ?? 0) < 0.95) continue;
    if (colourDistance(sample.colour, q, sampleHair.colour, q) >= HAIR_SAMPLE_APART) isHair[q] = 1;
  }
  const reach = Math.max(2, Math.round(Math.max(sw, sh) * HAIR_REACH));
  const ratio = fc / fs;

  const keep = new Float32Array(n).fill(1);
  for (let y = 0; y < ch; y++) {
    const sy = Math.min(sh - 1, Math.floor((y + 0.5) * ratio));
    for (let x = 0; x < cw; x++) {
      const i = y * cw + x;
      const a = check.cover[i] ?? 0;
      if (a < 0.03 || (skinCover[i] ?? 0) > SKIN) continue;
      if ((zone[i] ?? 0) < HAIR_ZONE && (y > chin || (headZone[i] ?? 0) < HEAD_ZONE)) continue;
      if (inBox(face, (x + 0.5) * fc, (y + 0.5) * fc)) continue;
      const bc = bgCount[i] ?? 0;
      if (bc < 0.02) continue;
      let variance = (bgSquares[i] ?? 0) / bc;
      for (let c = 0; c < 3; c++) variance -= ((bgMeans[c]![i] ?? 0) / bc) ** 2;
      const plain = 1 - smoothstep(PLAIN_LOW, PLAIN_HIGH, Math.sqrt(Math.max(0, variance / 3)));
      if (plain === 0) continue;
      const br = wall.colour[i * 3] ?? 0;
      const bg = wall.colour[i * 3 + 1] ?? 0;
      const bb = wall.colour[i * 3 + 2] ?? 0;
      const pr = check.colour[i * 3] ?? 0;
      const pg = check.colour[i * 3 + 1] ?? 0;
      const pb = check.colour[i * 3 + 2] ?? 0;
      const bWall = br * br + bg * bg + bb * bb;
      const pWall = pr * br + pg * bg + pb * bb;
      // The most alpha any hair colour nearby explains, weighted by how well it explains the pixel.
      let best = -1;
      const sx = Math.min(sw - 1, Math.floor((x + 0.5) * ratio));
      for (let yy = Math.max(0, sy - reach); yy <= Math.min(sh - 1, sy + reach); yy++) {
        for (let xx = Math.max(0, sx - reach); xx <= Math.min(sw - 1, sx + reach); xx++) {
          const q = yy * sw + xx;
          if (!isHair[q]) continue;
          const fr = sample.colour[q * 3] ?? 0;
          const fg = sample.colour[q * 3 + 1] ?? 0;
          const fb = sample.colour[q * 3 + 2] ?? 0;
          const apart = Math.hypot(fr - br, fg - bg, fb - bb);
          if (apart < APART) {
            best = 1;
            break;
          }
          const t = mixOf(pr, pg, pb, fr, fg, fb, br, bg, bb, bWall, pWall);
          const fit = 1 - smoothstep(RESIDUAL_LOW, RESIDUAL_HIGH, t.residual);
          // An unsure or ill-fitting colour explains the pixel at full alpha (it cannot vouch for less).
          const share = 1 - fit * smoothstep(APART, SURE, apart) * (1 - t.share);
          if (share > best) best = share;
        }
        if (best >= 1) break;
      }
      if (best < 0 || best >= a) continue;
      keep[i] = 1 - plain * (1 - best / a);
    }
  }
  // Softened over a cell each way, upsampled, applied.
  const soft = boxMean(keep, cw, ch, 1);
  const up = resizePlane({ width: cw, height: ch, data: soft }, width, height).data;
  const out = new Float32Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) out[i] = (alpha[i] ?? 0) * (up[i] ?? 1);
  return out;
}

/**
 * The pixel P as t F + u B, least squares over t and u: hair colour F over the wall B, where the wall seen between
 * strands may lie in the hair's shadow (u = (1 - t) s with s, the wall's brightness there, from WALL_SHADE to a
 * little over 1). Outside that range the plain mix (s = 1) is used. Returns t (clamped) and the fit's residual.
 */
const WALL_SHADE = 0.5;

function mixOf(
  pr: number,
  pg: number,
  pb: number,
  fr: number,
  fg: number,
  fb: number,
  br: number,
  bg: number,
  bb: number,
  bWall: number,
  pWall: number,
): { share: number; residual: number } {
  const ff = fr * fr + fg * fg + fb * fb;
  const fw = fr * br + fg * bg + fb * bb;
  const pf = pr * fr + pg * fg + pb * fb;
  const det = ff * bWall - fw * fw;
  let t = -1;
  let u = 0;
  if (det > 1e-3) {
    t = (pf * bWall - pWall * fw) / det;
    u = (ff * pWall - fw * pf) / det;
  }
  const shade = t < 1 ? u / (1 - t) : -1;
  if (t < 0 || t > 1 || shade < WALL_SHADE || shade > 1.1) {
    // The plain mix: P - B = t (F - B).
    const lr = fr - br;
    const lg = fg - bg;
    const lb = fb - bb;
    const len2 = Math.max(1e-6, lr * lr + lg * lg + lb * lb);
    t = Math.min(1, Math.max(0, ((pr - br) * lr + (pg - bg) * lg + (pb - bb) * lb) / len2));
    u = 1 - t;
  }
  const er = pr - t * fr - u * br;
  const eg = pg - t * fg - u * bg;
  const eb = pb - t * fb - u * bb;
  return { share: t, residual: Math.sqrt(er * er + eg * eg + eb * eb) };
}

function colourDistance(a: Float32Array, i: number, b: Float32Array, j: number): number {
  const dr = (a[i * 3] ?? 0) - (b[j * 3] ?? 0);
  const dg = (a[i * 3 + 1] ?? 0) - (b[j * 3 + 1] ?? 0);
  const db = (a[i * 3 + 2] ?? 0) - (b[j * 3 + 2] ?? 0);
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

function inBox(b: Box, x: number, y: number): boolean {
  return x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height;
}

function smoothstep(a: number, b: number, v: number): number {
  const t = Math.min(1, Math.max(0, (v - a) / (b - a)));
  return t * t * (3 - 2 * t);
}
