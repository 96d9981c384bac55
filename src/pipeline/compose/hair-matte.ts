import { boxMean } from '../segment/guided-filter.js';
import { closeCreases, maxFilter } from '../segment/plane.js';
import { smoothstep } from '../style/filters.js';
import type { Box, RgbImage } from '../types.js';

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

/**
 * The check runs at most at CHECK_SIDE pixels per side; hair colours are sampled, and the background's plainness
 * read, on cells of SAMPLE cells of the check a side (both are smooth).
 */
const CHECK_SIDE = 512;
const SAMPLE = 4;
/** Neighbourhoods as shares of the side: where the background is judged plain, where hair colours are looked for. */
const PLAIN_REACH = 0.1;
const WIDER = 3;
const HAIR_REACH = 0.08;
/**
 * The hair zone: the hair mask averaged over ZONE_REACH of the side, above HAIR_ZONE. Beside the face only the
 * zone is checked (an earring, a collar or a shirt the colour of the wall lies there). Above the brows (BROWS of
 * the face box down) the whole head is, outside the face and skin: the wall between flyaway strands is often not
 * hair to the hair model either, while the person mask keeps it.
 */
const BROWS = 0.3;
const ZONE_REACH = 0.012;
const HAIR_ZONE = 0.25;
/** Colour spread (RMS over RGB, 0..255) of the background nearby: plain below PLAIN_LOW, busy from PLAIN_HIGH. */
const PLAIN_LOW = 8;
const PLAIN_HIGH = 16;
/** A hair colour and the wall's must lie this far apart (RGB distance) for the share to mean anything, sure from SURE. */
const APART = 45;
const SURE = 90;
/** A pixel this far off the line between wall and a hair colour is not explained by it (a clip, a hand). */
const RESIDUAL_LOW = 12;
const RESIDUAL_HIGH = 28;
/** Hair samples: cells at least SURE_HAIR hair (the hair mask's mean) and HAIR_SAMPLE_APART from the wall. */
const SURE_HAIR = 0.6;
const HAIR_SAMPLE_APART = 120;
/**
 * Where the hair model itself is this sure of hair, nothing is checked: there hair the colour of the wall in shade
 * (brown hair on a dark grey wall) would be taken for it, and its light strands made the rest look like wall. What
 * the check is for lies where the hair model is unsure or silent: the wall between flyaway strands and curl ends,
 * which the person mask keeps.
 */
const HAIR_MODEL_SURE = 0.5;
/** ...unless the hair within reach lies this far (RGB distance) from the wall at most: black on a pale wall. */
const HAIR_FAR_FROM_WALL = 200;
const HAIR_NEAR_WALL = 45;
/** ...within WALL_NEAR of the side of the real wall: where the person covers at most ENCLOSED of that neighbourhood. */
const WALL_NEAR = 0.06;
const ENCLOSED = 0.9;
/** Amid the person: it covers more than AMID within AMID_REACH of the side (a pixel with no wall beside it). */
const AMID_REACH = 0.02;
const AMID = 0.9;
/** Hair cover (hair model) from which a check cell above the face is the hair, not the forehead below it. */
const HAIRLINE = 0.35;
/**
 * How far above that row (share of the side) the forehead's protection reaches: where hair meets a forehead lit
 * the colour of the wall (blue light on both), the hair model's lowest rows are the blend, and it was keyed into
 * a see-through arc along the hairline (pop art: the ground through the forehead).
 */
const HAIRLINE_BAND = 0.015;
/**
 * Outside the hair above the brows, a pixel is checked only with at least HAIR_NEARBY of hair (the hair mask's mean)
 * within HAIR_NEARBY_REACH of the side: the wall between a black bob's flyaway strands has its hair all round.
 */
const HAIR_NEARBY = 0.1;
const HAIR_NEARBY_REACH = 0.08;
/**
 * Below the chin outside the hair, a wall this coloured (max - min channel) is still checked: a yellow or pink wall
 * between the hair's ends and the shoulders glowed in the hair on a blue backdrop, while a collar of that colour is
 * rare (a white or grey one on a white or grey wall is common, and is never checked there).
 */
const COLOURED_WALL = 60;
/** Hair's hues: within this many degrees of 25 (orange), from deep red (-15) to yellow (60, red still the largest). */
const HAIR_HUE = 40;
/** A pixel within KEY_NEAR (RGB distance) of a strongly coloured wall that is not plain is wall, from KEY_FAR not. */
const KEY_NEAR = 25;
const KEY_FAR = 55;
/** A pixel at least this share of the farthest hair colour's distance from the wall is taken for hair outright. */
const FULL_HAIR = 0.85;
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

export interface HairMatte {
  /** The member's alpha, matted. */
  alpha: Float32Array;
  /**
   * The hair colour that explains each check cell whose alpha was taken down (rgb, cw x ch) and how much to use it
   * (0..1). Such a pixel is mostly wall: recovering its own colour by unmixing (decontamination) divides the
   * photo's noise by a small alpha and left bright speckles that read as a pale blob; the explaining hair colour
   * is what is there. Empty when nothing was taken.
   */
  strands: { colour: Float32Array; weight: Float32Array; cw: number; ch: number; f: number } | undefined;
}

/**
 * `alpha` matted in the hair against a plain background. Hair is not one colour (highlights, dark roots, shadow),
 * so each pixel is explained by the hair colour nearby that gives it the most alpha while lying on the line from
 * the wall to it: a shadowed strand is its own dark colour at full alpha, the wall between curls is the wall at
 * none, and only pixels no hair colour explains better than the wall lose alpha.
 */
export function matteHairOnPlain({ image, alpha, hair, skin, plate, face }: HairMatteInput): HairMatte {
  const { width, height } = image;
  const side = Math.max(width, height);
  const fc = Math.max(1, Math.ceil(side / CHECK_SIDE));
  const cw = Math.ceil(width / fc);
  const ch = Math.ceil(height / fc);
  const n = cw * ch;
  // The photo, the wall behind it (the plate's colour) and the person, hair and skin covers, per check cell.
  const { check, wall, skinCover } = shrinkInputs({ image, alpha, hair, skin, plate }, fc, cw, ch);
  const zone = boxMean(wall.cover, cw, ch, Math.max(1, Math.round(Math.max(cw, ch) * ZONE_REACH)));
  const enclosed = boxMean(check.cover, cw, ch, Math.max(1, Math.round(Math.max(cw, ch) * WALL_NEAR)));
  const amid = boxMean(check.cover, cw, ch, Math.max(1, Math.round(Math.max(cw, ch) * AMID_REACH)));
  const nearHair = boxMean(wall.cover, cw, ch, Math.max(1, Math.round(Math.max(cw, ch) * HAIR_NEARBY_REACH)));
  const chin = (face.y + face.height) / fc;
  const brows = (face.y + face.height * BROWS) / fc;
  const faceTop = face.y / fc;
  const hairline = hairlineRows(wall.cover, cw, ch, face, fc);
  const hairlineBand = Math.round(Math.max(cw, ch) * HAIRLINE_BAND);

  // Sample cells: the photo's and the wall's colours, the person's and the hair's cover, SAMPLE check cells a side.
  const sw = Math.ceil(cw / SAMPLE);
  const sh = Math.ceil(ch / SAMPLE);
  const sample = shrinkCells(check.colour, check.cover, cw, ch, sw, sh);
  const sampleWall = shrinkCells(wall.colour, wall.cover, cw, ch, sw, sh);
  const plain = plainness(sample, sw, sh);
  const palette = wallPalette(check, cw, ch);
  // Busy all round (most selfies) and no strongly coloured wall: nothing to do.
  if (!plain.some((v) => v > 0) && !palette) return { alpha, strands: undefined };
  // Hair colours: cells of sure hair clearly unlike the wall (a sample of hair close to the wall's colour cannot tell
  // a strand from the wall, and the hair it stands for is never checked, see below).
  const isHair = new Uint8Array(sw * sh);
  const apartness = new Float32Array(sw * sh);
  for (let q = 0; q < sw * sh; q++) {
    if ((sampleWall.cover[q] ?? 0) < SURE_HAIR || (sample.cover[q] ?? 0) < 0.95) continue;
    const d = colourDistance(sample.colour, q, sampleWall.colour, q);
    if (d < HAIR_SAMPLE_APART) continue;
    isHair[q] = 1;
    apartness[q] = d;
  }
  const reach = Math.max(2, Math.round(Math.max(sw, sh) * HAIR_REACH));
  // How far from the wall the hair within reach lies at most: a pixel nearly that far is hair at full alpha.
  const farthest = maxFilter(apartness, sw, sh, reach);

  const keep = new Float32Array(n).fill(1);
  // The explaining hair colour of each cell that lost alpha, and the share of what is left of it that hair explains.
  const hairShare = new Float32Array(n);
  const tint = new Float32Array(n * 3);
  let touched = false;
  for (let y = 0; y < ch; y++) {
    const sy = Math.min(sh - 1, Math.floor(y / SAMPLE));
    for (let x = 0; x < cw; x++) {
      const i = y * cw + x;
      const a = check.cover[i] ?? 0;
      if (a < 0.03 || (skinCover[i] ?? 0) > SKIN) continue;
      // Nor the forehead: below the hairline over the face (a pale forehead under black hair is the grey of a grey
      // wall where they blend, and the skin model can miss it in black and white), where it was keyed into a line
      // of holes along the hairline with the backdrop's blue through it. Not by the wall's palette either: a
      // forehead lit by the blue light of a blue wall was keyed into a see-through arc.
      if (y > (hairline[x] ?? ch) - hairlineBand && y < faceTop) continue;
      if (palette && y <= brows && !inBox(face, (x + 0.5) * fc, (y + 0.5) * fc)) {
        // The wall's own strong colour seen through gaps deep in a head of curls, where the plate is a blend of
        // the walls around and says nothing: keyed by the colours of the wall itself (a blind panel saw green
        // flecks in dark curls on a grey backdrop). Above the brows only: lower, a shirt's stripe the colour of
        // the wall, under braids, was keyed through into a hole.
        const keyed = palette.key(check.colour, i);
        if (keyed > 0) {
          keep[i] = 1 - keyed;
          touched = true;
          continue;
        }
      }
      // Where the hair model is sure, only a strongly coloured wall above the brows is checked: green or cyan
      // between curls is never hair, and the model calls a whole head of curls hair, gaps and all (a blind panel
      // saw the wall's green in curls on a grey backdrop). Lower, a shirt the wall's colour lies under the hair.
      // Nor above the brows where the hair nearby is far from the wall's colour (black hair on a pale wall): there a
      // pixel of the wall's colour between flyaway strands is the wall (a white patch stayed in a black bob's top);
      // lower, light ends and streaks the colour of the wall are common, and stay.
      if ((wall.cover[i] ?? 0) >= HAIR_MODEL_SURE) {
        if (y > brows) continue;
        if (chroma(wall.colour, i) < COLOURED_WALL) {
          const q = Math.min(sh - 1, Math.floor(y / SAMPLE)) * sw + Math.min(sw - 1, Math.floor(x / SAMPLE));
          if ((farthest[q] ?? 0) < HAIR_FAR_FROM_WALL) continue;
          // ...and only the wall's own colour: a brown crown's light sheen lies between, and turned see-through.
          if (colourDistance(check.colour, i, wall.colour, i) > HAIR_NEAR_WALL) continue;
          // ...and only near the real wall: deep in the hair the plate is a blend of the walls around, and pale
          // blond hair over the forehead matched it and came out in white blobs.
          if ((enclosed[i] ?? 1) > ENCLOSED) continue;
        }
      }
      if ((zone[i] ?? 0) < HAIR_ZONE) {
        // Outside the hair: above the brows (flyaway strands), or below the chin on a coloured wall.
        if (y > brows && (y <= chin || chroma(wall.colour, i) < COLOURED_WALL)) continue;
        // Above the brows only with hair nearby: the wall between flyaway strands lies beside hair, while a cap or
        // a hat far from any hair shows no wall through it (a white label on a navy cap, the wall's colour, was
        // matted as wall: the backdrop showed through the label, and the cap went see-through in blocks).
        if (y <= brows && (nearHair[i] ?? 0) < HAIR_NEARBY) continue;
      }
      if (inBox(face, (x + 0.5) * fc, (y + 0.5) * fc)) continue;
      // Amid the person all round, only the wall's own colour is the wall seen through a gap (a white patch in a
      // black bob): a shadow in a parting or a grey sheen on a crown lies between hair and wall too, and was
      // matted into see-through holes in the middle of a head of hair (a blind review: the backdrop's blue in them).
      if ((amid[i] ?? 1) > AMID && colourDistance(check.colour, i, wall.colour, i) > HAIR_NEAR_WALL) continue;
      const sx = Math.min(sw - 1, Math.floor(x / SAMPLE));
      const flat = plain[sy * sw + sx] ?? 0;
      const br = wall.colour[i * 3] ?? 0;
      const bg = wall.colour[i * 3 + 1] ?? 0;
      const bb = wall.colour[i * 3 + 2] ?? 0;
      const pr = check.colour[i * 3] ?? 0;
      const pg = check.colour[i * 3 + 1] ?? 0;
      const pb = check.colour[i * 3 + 2] ?? 0;
      if (flat === 0) {
        // Not plain (a painted brick wall, green turning to cyan), but strongly coloured: above the brows a pixel
        // of that very colour, as saturated, is the wall (a chroma key); hair is never green or cyan. Lower, a
        // shirt's stripe the colour of the wall was keyed into a hole.
        const wall0 = chroma(wall.colour, i);
        if (y > brows || wall0 < COLOURED_WALL || hairHue(check.colour, i)) continue;
        const own = Math.max(pr, pg, pb) - Math.min(pr, pg, pb);
        const keyed =
          (1 - smoothstep(KEY_NEAR, KEY_FAR, Math.hypot(pr - br, pg - bg, pb - bb))) *
          smoothstep(0.5, 0.8, own / wall0);
        if (keyed <= 0) continue;
        keep[i] = 1 - keyed;
        touched = true;
        continue;
      }
      // Nearly as far from the wall as the hair nearby: hair at full alpha (most of a head of hair; skipping it
      // keeps the search below affordable). A cell of a thin dark strand over a pale wall is half-way: searched.
      if (Math.hypot(pr - br, pg - bg, pb - bb) >= FULL_HAIR * (farthest[sy * sw + sx] ?? 0)) continue;
      const best = bestExplanation({ pr, pg, pb, br, bg, bb }, sample.colour, isHair, sw, sh, sx, sy, reach, a);
      if (best.share < 0 || best.share >= a || best.purest < 0) continue;
      const k = 1 - flat * (1 - best.share / a);
      keep[i] = k;
      // What is left of the pixel is hair only in the share the hair explains (best.share of its a * k): where the
      // check could take only part (a wall not quite plain), the rest is still wall, and painting all of it the
      // hair's colour made a teal blob of a dark wall beside a teal wig (a blind panel saw it).
      hairShare[i] = Math.min(1, best.share / Math.max(1e-3, a * k));
      for (let c = 0; c < 3; c++) tint[i * 3 + c] = sample.colour[best.purest * 3 + c] ?? 0;
      touched = true;
    }
  }
  if (!touched) return { alpha, strands: undefined };
  // Softened over a cell each way, upsampled, applied (bilinear, only on rows of cells that lost something).
  const soft = boxMean(keep, cw, ch, 1);
  const out = new Float32Array(alpha);
  applyKeep(out, soft, width, height, cw, ch, fc);
  const strands = spreadTint(tint, hairShare, cw, ch, fc);
  // Under the chin, a thin line taken down inside the person is not strands over the wall but a pale neck beside a
  // beard, taken for the wall (white neck, white wall): the backdrop showed through as a line across the neck, and
  // its strands' dark colour as a grey line once it was closed. It is put back, uncoloured. Not in the hair round
  // the head: the wall seen between curls is a gap as narrow, and put back it showed as pale specks in them.
  closeUnderChin(out, strands, face, width, height);
  return { alpha: out, strands };
}

/**
 * Per check column over the face's box, the lowest row above the box's top where the hair model sees hair
 * (HAIRLINE): what lies between it and the box is forehead. Columns beside the face, or with no hair above it, give
 * the number of rows (no forehead).
 */
function hairlineRows(hair: Float32Array, cw: number, ch: number, face: Box, fc: number): Int32Array {
  const rows = new Int32Array(cw).fill(ch);
  const top = Math.min(ch, Math.floor(face.y / fc));
  for (let x = Math.max(0, Math.floor(face.x / fc)); x < Math.min(cw, Math.ceil((face.x + face.width) / fc)); x++) {
    for (let y = top - 1; y >= 0; y--) {
      if ((hair[y * cw + x] ?? 0) >= HAIRLINE) {
        rows[x] = y;
        break;
      }
    }
  }
  return rows;
}

/**
 * Creases in `alpha` below the chin and across the neck (the middle of the face's width) closed, in place, and the
 * strands' colour taken off what was put back (see the caller). The closing fades out toward the sides: across the
 * whole face's width with a hard edge, it filled the wall between long strands hanging below an ear up to that
 * edge, a grey bar with a straight side in the hair (a blind panel, every portrait of the photo).
 */
function closeUnderChin(
  alpha: Float32Array,
  strands: NonNullable<HairMatte['strands']>,
  face: Box,
  width: number,
  height: number,
): void {
  const cx = face.x + face.width / 2;
  const half = face.width * NECK_HALF;
  const fadeFrom = face.width * (NECK_HALF - NECK_FADE);
  const x0 = Math.max(0, Math.floor(cx - half));
  const x1 = Math.min(width, Math.ceil(cx + half));
  const y0 = Math.max(0, Math.floor(face.y + face.height * 0.8));
  const w = x1 - x0;
  const h = height - y0;
  if (w < 4 || h < 4) return;
  const neck = new Float32Array(w * h);
  for (let y = 0; y < h; y++) neck.set(alpha.subarray((y0 + y) * width + x0, (y0 + y) * width + x1), y * w);
  const lifted = closeCreases({ width: w, height: h, data: neck }, Math.max(width, height));
  if (!lifted) return;
  for (let x = 0; x < w; x++) {
    const keep = smoothstep(half, fadeFrom, Math.abs(x0 + x + 0.5 - cx));
    if (keep <= 0) continue;
    const scx = Math.min(strands.cw - 1, Math.floor((x0 + x) / strands.f));
    for (let y = 0; y < h; y++) {
      const i = (y0 + y) * width + x0 + x;
      alpha[i] = alpha[i]! + (neck[y * w + x]! - alpha[i]!) * keep;
      if (lifted[y * w + x] && keep > 0.5)
        strands.weight[Math.min(strands.ch - 1, Math.floor((y0 + y) / strands.f)) * strands.cw + scx] = 0;
    }
  }
}

/** The neck's half width as a share of the face's width, and the share over which the closing fades out at its sides. */
const NECK_HALF = 0.4;
const NECK_FADE = 0.12;

interface Pixel {
  pr: number;
  pg: number;
  pb: number;
  br: number;
  bg: number;
  bb: number;
}

/**
 * The most alpha any hair sample within `reach` explains for the pixel, and which sample: every STRIDE-th sample
 * row and column (neighbouring samples are alike), stopping once the pixel's own alpha is reached (nothing to take).
 */
const STRIDE = 3;

function bestExplanation(
  p: Pixel,
  colour: Float32Array,
  isHair: Uint8Array,
  sw: number,
  sh: number,
  sx: number,
  sy: number,
  reach: number,
  a: number,
): { share: number; sample: number; purest: number } {
  const { pr, pg, pb, br, bg, bb } = p;
  const bWall = br * br + bg * bg + bb * bb;
  const pWall = pr * br + pg * bg + pb * bb;
  let best = -1;
  let bestSample = -1;
  // The hair colour farthest from the wall: the purest, what a thin strand's own colour is (a sample of strands over
  // the wall is paler than they are).
  let purest = -1;
  let purestApart = 0;
  const y0 = Math.max(0, sy - reach);
  const x0 = Math.max(0, sx - reach);
  // On one grid for all pixels: aligned on each pixel's own, the candidates changed from pixel to pixel and their
  // decisions showed as a grid.
  for (let yy = Math.ceil(y0 / STRIDE) * STRIDE; yy <= Math.min(sh - 1, sy + reach); yy += STRIDE) {
    for (let xx = Math.ceil(x0 / STRIDE) * STRIDE; xx <= Math.min(sw - 1, sx + reach); xx += STRIDE) {
      const q = yy * sw + xx;
      if (!isHair[q]) continue;
      const fr = colour[q * 3] ?? 0;
      const fg = colour[q * 3 + 1] ?? 0;
      const fb = colour[q * 3 + 2] ?? 0;
      const apart = Math.hypot(fr - br, fg - bg, fb - bb);
      if (apart < APART) return { share: 1, sample: q, purest: q };
      const t = mixOf(pr, pg, pb, fr, fg, fb, br, bg, bb, bWall, pWall);
      const fit = 1 - smoothstep(RESIDUAL_LOW, RESIDUAL_HIGH, t.residual);
      // A colour that does not explain the pixel says nothing about it; one that does, but lies close to the
      // wall, vouches for more alpha than its share (it cannot tell the two apart).
      if (fit <= 0) continue;
      // The purest only among colours that explain the pixel: a cap's white crown is farther from a blue wall
      // than its navy brim, and the brim's edge took the crown's white in ragged patches (a blind panel saw them).
      if (apart > purestApart) {
        purestApart = apart;
        purest = q;
      }
      const share = 1 - fit * smoothstep(APART, SURE, apart) * (1 - t.share);
      if (share > best) {
        best = share;
        bestSample = q;
        if (best >= a) return { share: best, sample: bestSample, purest };
      }
    }
  }
  if (purest >= 0 && best >= 0) {
    // Explained by the purest colour too: its share is the truer one (strands of it over the wall; the best share
    // came from a paler sample that is itself part wall, and left a haze of it).
    const t = mixOf(
      pr,
      pg,
      pb,
      colour[purest * 3] ?? 0,
      colour[purest * 3 + 1] ?? 0,
      colour[purest * 3 + 2] ?? 0,
      br,
      bg,
      bb,
      bWall,
      pWall,
    );
    const fit = 1 - smoothstep(RESIDUAL_LOW, RESIDUAL_HIGH, t.residual);
    if (fit > 0) best = Math.min(best, 1 - fit * smoothstep(APART, SURE, purestApart) * (1 - t.share));
  }
  return { share: best, sample: bestSample, purest };
}

/**
 * How plain the background is around each sample cell, 0..1: the spread of the sure background's colours within
 * PLAIN_REACH, or WIDER times that deep inside a big head of hair where none lies near.
 */
function plainness(
  { colour, cover, squares: cellSquares }: { colour: Float32Array; cover: Float32Array; squares: Float32Array },
  w: number,
  h: number,
): Float32Array {
  const n = w * h;
  const weight = new Float32Array(n);
  const sums = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const squares = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if ((cover[i] ?? 0) >= 0.03) continue;
    weight[i] = 1;
    for (let c = 0; c < 3; c++) sums[c]![i] = colour[i * 3 + c] ?? 0;
    squares[i] = cellSquares[i] ?? 0;
  }
  const side = Math.max(w, h);
  const stats = (r: number) => ({
    count: boxMean(weight, w, h, r),
    means: sums.map((v) => boxMean(v, w, h, r)),
    squares: boxMean(squares, w, h, r),
  });
  const near = stats(Math.max(1, Math.round(side * PLAIN_REACH)));
  const wide = stats(Math.max(1, Math.round(side * PLAIN_REACH * WIDER)));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = (near.count[i] ?? 0) >= 0.02 ? near : wide;
    const count = s.count[i] ?? 0;
    if (count < 0.02) continue;
    let variance = (s.squares[i] ?? 0) / count;
    for (let c = 0; c < 3; c++) variance -= ((s.means[c]![i] ?? 0) / count) ** 2;
    out[i] = 1 - smoothstep(PLAIN_LOW, PLAIN_HIGH, Math.sqrt(Math.max(0, variance / 3)));
  }
  return out;
}

/** Multiplies `alpha` (width x height) by `keep` (cw x ch cells of f px) upsampled bilinearly, in place. */
function applyKeep(
  alpha: Float32Array,
  keep: Float32Array,
  width: number,
  height: number,
  cw: number,
  ch: number,
  f: number,
): void {
  const rowCut = new Uint8Array(ch);
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      if (keep[cy * cw + cx]! < 1) {
        rowCut[cy] = 1;
        break;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    const gy = Math.min(ch - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const r0 = Math.floor(gy);
    const r1 = Math.min(ch - 1, r0 + 1);
    if (!rowCut[r0] && !rowCut[r1]) continue;
    const ty = gy - r0;
    for (let x = 0; x < width; x++) {
      const gx = Math.min(cw - 1, Math.max(0, (x + 0.5) / f - 0.5));
      const c0 = Math.floor(gx);
      const c1 = Math.min(cw - 1, c0 + 1);
      const tx = gx - c0;
      const top = keep[r0 * cw + c0]! * (1 - tx) + keep[r0 * cw + c1]! * tx;
      const bottom = keep[r1 * cw + c0]! * (1 - tx) + keep[r1 * cw + c1]! * tx;
      const k = top * (1 - ty) + bottom * ty;
      if (k < 1) alpha[y * width + x]! *= k;
    }
  }
}

/**
 * The hair colours weighted by the share of each matted cell's remaining alpha the hair explains, smoothed over
 * TINT_REACH cells (per-cell colours and weights showed as a stipple), with that weight.
 */
const TINT_REACH = 2;

function spreadTint(
  tint: Float32Array,
  hairShare: Float32Array,
  cw: number,
  ch: number,
  f: number,
): NonNullable<HairMatte['strands']> {
  const n = cw * ch;
  const weight = boxMean(hairShare, cw, ch, TINT_REACH);
  const colour = new Float32Array(n * 3);
  const plane = new Float32Array(n);
  const mean = new Float32Array(n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) plane[i] = (hairShare[i] ?? 0) * (tint[i * 3 + c] ?? 0);
    boxMean(plane, cw, ch, TINT_REACH, mean);
    for (let i = 0; i < n; i++) {
      const w = weight[i] ?? 0;
      colour[i * 3 + c] = w > 1e-4 ? (mean[i] ?? 0) / w : 0;
    }
  }
  return { colour, weight, cw, ch, f };
}

/** `clean` (the person's unmixed colours) with the matted strands given their hair colour, in place. */
export function recolourStrands(clean: RgbImage, matte: HairMatte): RgbImage {
  const s = matte.strands;
  if (!s) return clean;
  const { data, width, height } = clean;
  for (let y = 0; y < height; y++) {
    const cy = Math.min(s.ch - 1, Math.floor(y / s.f));
    for (let x = 0; x < width; x++) {
      const q = cy * s.cw + Math.min(s.cw - 1, Math.floor(x / s.f));
      const w = s.weight[q] ?? 0;
      if (w <= 0) continue;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = (data[o + c] ?? 0) * (1 - w) + (s.colour[q * 3 + c] ?? 0) * w + 0.5;
    }
  }
  return clean;
}

/**
 * The check's inputs per cell of f x f pixels: the photo's colour and the person's cover averaged (a thin strand
 * must count for its share), the smooth ones (plate, hair and skin masks) read at the cell's centre.
 */
function shrinkInputs(
  { image, alpha, hair, skin, plate }: Omit<HairMatteInput, 'face'>,
  f: number,
  cw: number,
  ch: number,
): {
  check: { colour: Float32Array; cover: Float32Array };
  wall: { colour: Float32Array; cover: Float32Array };
  skinCover: Float32Array;
} {
  const { width, height, data } = image;
  const n = cw * ch;
  const colour = new Float32Array(n * 3);
  const cover = new Float32Array(n);
  const wallColour = new Float32Array(n * 3);
  const hairCover = new Float32Array(n);
  const skinCover = new Float32Array(n);
  const pd = plate.data;
  const half = f >> 1;
  for (let cy = 0; cy < ch; cy++) {
    const y0 = cy * f;
    const y1 = Math.min(height, y0 + f);
    const yc = Math.min(height - 1, y0 + half);
    for (let cx = 0; cx < cw; cx++) {
      const x0 = cx * f;
      const x1 = Math.min(width, x0 + f);
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0, i = y * width + x0; x < x1; x++, i++) {
          a += alpha[i]!;
          r += data[i * 3]!;
          g += data[i * 3 + 1]!;
          b += data[i * 3 + 2]!;
        }
      }
      const k = 1 / ((y1 - y0) * (x1 - x0));
      const o = cy * cw + cx;
      cover[o] = a * k;
      colour[o * 3] = r * k;
      colour[o * 3 + 1] = g * k;
      colour[o * 3 + 2] = b * k;
      const c = yc * width + Math.min(width - 1, x0 + half);
      hairCover[o] = hair[c]!;
      skinCover[o] = skin[c]!;
      wallColour[o * 3] = pd[c * 3]!;
      wallColour[o * 3 + 1] = pd[c * 3 + 1]!;
      wallColour[o * 3 + 2] = pd[c * 3 + 2]!;
    }
  }
  return { check: { colour, cover }, wall: { colour: wallColour, cover: hairCover }, skinCover };
}

/**
 * Colour (rgb) and cover planes of cw x ch cells averaged over SAMPLE x SAMPLE blocks into sw x sh, with the mean
 * squared colour of the cells (so a block's own texture still counts in the background's spread).
 */
function shrinkCells(
  colour: Float32Array,
  cover: Float32Array,
  cw: number,
  ch: number,
  sw: number,
  sh: number,
): { colour: Float32Array; cover: Float32Array; squares: Float32Array } {
  const outColour = new Float32Array(sw * sh * 3);
  const outCover = new Float32Array(sw * sh);
  const squares = new Float32Array(sw * sh);
  const count = new Float32Array(sw * sh);
  for (let y = 0; y < ch; y++) {
    const row = Math.floor(y / SAMPLE) * sw;
    for (let x = 0; x < cw; x++) {
      const o = row + Math.floor(x / SAMPLE);
      const i = y * cw + x;
      count[o]! += 1;
      outCover[o]! += cover[i] ?? 0;
      for (let c = 0; c < 3; c++) {
        const v = colour[i * 3 + c] ?? 0;
        outColour[o * 3 + c]! += v;
        squares[o]! += v * v;
      }
    }
  }
  for (let o = 0; o < sw * sh; o++) {
    const k = 1 / (count[o] || 1);
    outCover[o]! *= k;
    squares[o]! *= k;
    for (let c = 0; c < 3; c++) outColour[o * 3 + c]! *= k;
  }
  return { colour: outColour, cover: outCover, squares };
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

/**
 * The strongly coloured wall's colours (green, cyan, magenta paint; COLOURED_WALL and up), as a coarse histogram of
 * the sure background's cells, or undefined when there is no such wall (most photos). `key` says how surely a cell
 * is that wall: as coloured as it, in a bin (or next to one) holding at least PALETTE_SHARE of the background.
 */
const PALETTE_SHARE = 0.03;

function wallPalette(
  check: { colour: Float32Array; cover: Float32Array },
  cw: number,
  ch: number,
): { key: (colour: Float32Array, i: number) => number } | undefined {
  const bins = new Float32Array(512);
  let background = 0;
  let coloured = 0;
  const bin = (c: Float32Array, i: number) =>
    (Math.min(7, (c[i * 3]! / 32) | 0) << 6) |
    (Math.min(7, (c[i * 3 + 1]! / 32) | 0) << 3) |
    Math.min(7, (c[i * 3 + 2]! / 32) | 0);
  for (let i = 0; i < cw * ch; i++) {
    if ((check.cover[i] ?? 0) >= 0.03) continue;
    background++;
    if (chroma(check.colour, i) < COLOURED_WALL) continue;
    bins[bin(check.colour, i)]! += 1;
    coloured++;
  }
  if (background === 0 || coloured < PALETTE_SHARE * background) return undefined;
  // Each bin with its neighbours: a wall's colour spreads over the bins its shading crosses.
  const density = new Float32Array(512);
  for (let b = 0; b < 512; b++) {
    const r = b >> 6;
    const g = (b >> 3) & 7;
    const bl = b & 7;
    let sum = 0;
    for (let dr = -1; dr <= 1; dr++)
      for (let dg = -1; dg <= 1; dg++)
        for (let db = -1; db <= 1; db++) {
          const rr = r + dr;
          const gg = g + dg;
          const bb = bl + db;
          if (rr < 0 || gg < 0 || bb < 0 || rr > 7 || gg > 7 || bb > 7) continue;
          sum += bins[(rr << 6) | (gg << 3) | bb]!;
        }
    density[b] = sum / background;
  }
  return {
    key: (colour, i) =>
      hairHue(colour, i)
        ? 0
        : smoothstep(0.8 * COLOURED_WALL, 1.2 * COLOURED_WALL, chroma(colour, i)) *
          smoothstep(PALETTE_SHARE, 2 * PALETTE_SHARE, density[bin(colour, i)]!),
  };
}

/**
 * Whether a colour has a hue hair has (red through orange to yellow, HAIR_HUE degrees either side of 25): the key is
 * for walls no hair is the colour of (green, cyan, blue, violet). On an orange wall, auburn curls lit by it fell in the
 * wall's colours and their whole rim above the brows was keyed out, the backdrop meeting the kept hair below along a
 * straight line (a blind panel rated every such tile broken).
 */
function hairHue(colour: Float32Array, i: number): boolean {
  const r = colour[i * 3] ?? 0;
  const g = colour[i * 3 + 1] ?? 0;
  const b = colour[i * 3 + 2] ?? 0;
  const max = Math.max(r, g, b);
  const span = max - Math.min(r, g, b);
  if (span < 1 || max !== r) return false;
  // Degrees, -60..60 with red at 0.
  const hue = (60 * (g - b)) / span;
  return Math.abs(hue - 25) <= HAIR_HUE;
}

function chroma(colour: Float32Array, i: number): number {
  const r = colour[i * 3] ?? 0;
  const g = colour[i * 3 + 1] ?? 0;
  const b = colour[i * 3 + 2] ?? 0;
  return Math.max(r, g, b) - Math.min(r, g, b);
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
