import { boxBlur, smoothstep } from '../style/filters.js';
import type { RgbImage } from '../types.js';

/**
 * The background plate: the photo with the person taken out and the hole filled from the surrounding background,
 * so whatever the turned head uncovers shows background, never a second copy of the head. The fill is a push-pull
 * pyramid (Gortler et al.'s lumigraph hole filling): average the known pixels down to a pyramid, then fill each
 * level's unknown pixels from the coarser level on the way back up. Smooth and seamless where it meets the
 * background; the engine blurs the plate anyway (portrait depth of field), so the fill reads as out-of-focus
 * background.
 */

/**
 * How far beyond the person's soft edge the hole reaches, as a share of the image side: hair wisps and halos go
 * too. Kept narrow: the fill is smooth, and against a textured background (window slats) a wider band of it read as
 * a blurred halo round the whole silhouette (a blind panel rated it broken); turns of up to 20 degrees showed no
 * second outline at this width.
 */
const HOLE_GROW = 0.004;

/** Side of the working copy the fill is computed on: the fill is smooth, so a small copy loses nothing. */
const FILL_SIDE = 256;

/**
 * The plate for `image` with `alpha` (w*h person alpha, 0..1) removed. Where the person (grown by HOLE_GROW)
 * reaches, the photo is replaced by the fill, blended over a few pixels at the hole's edge; elsewhere the plate is
 * the photo itself, untouched.
 */
export function backgroundPlate(image: RgbImage, alpha: Float32Array): RgbImage {
  const { width, height, data } = image;
  // Box-average the photo down; the person's coverage is the cell's most (a cell any of the person touches is part
  // of the hole).
  const { colour: col, cover, f, sw, sh } = shrinkToSide(image, alpha, FILL_SIDE, 'max');
  const narrow = growMask(cover, sw, sh, Math.max(1, Math.round(Math.max(sw, sh) * HOLE_GROW)));
  const hole = withLooseStrands(col, cover, narrow, sw, sh);
  const fill = pushPull(col, hole, sw, sh);
  // The hole's edge, softened over about a cell so the fill meets the photo without a line.
  const soft = boxBlur1(hole, sw, sh, 1);
  const out = new Uint8Array(data.length);
  out.set(data);
  const holeRow = new Float32Array(sw);
  const fillRow = new Float32Array(sw * 3);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(sh - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const y0 = Math.floor(gy) * sw;
    const y1 = Math.min(sh - 1, Math.floor(gy) + 1) * sw;
    const ty = gy - Math.floor(gy);
    let any = false;
    for (let k = 0; k < sw; k++) {
      const h = (soft[y0 + k] ?? 0) * (1 - ty) + (soft[y1 + k] ?? 0) * ty;
      holeRow[k] = h;
      if (h > 0.001) any = true;
    }
    // Rows the hole does not reach stay the photo's (already copied).
    if (!any) continue;
    for (let k = 0; k < sw * 3; k++) {
      fillRow[k] = (fill[y0 * 3 + k] ?? 0) * (1 - ty) + (fill[y1 * 3 + k] ?? 0) * ty;
    }
    for (let x = 0; x < width; x++) {
      const gx = Math.min(sw - 1, Math.max(0, (x + 0.5) / f - 0.5));
      const x0 = Math.floor(gx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const tx = gx - x0;
      const h = holeRow[x0]! + (holeRow[x1]! - holeRow[x0]!) * tx;
      if (h <= 0.001) continue;
      const i = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) {
        const v = fillRow[x0 * 3 + k]! + (fillRow[x1 * 3 + k]! - fillRow[x0 * 3 + k]!) * tx;
        out[i + k] = h * v + (1 - h) * data[i + k]! + 0.5;
      }
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** How far beyond the hole loose strands are looked for, as a share of the side: flyaway curls reach this far. */
const STRAND_REACH = 0.05;
/** A cell this many levels off the wall's mean brightness, and off the wall either side (any channel): a strand. */
const STRAND_CONTRAST = 14;
/** ...as long as at most this share of the cells around it is off the wall's mean; more is a textured background. */
const STRAND_SPARSE = 0.2;
/** The neighbourhood that share is taken over, in cells (of about 4 px at 1024 px). */
const STRAND_AREA = 6;

/**
 * The hole with the loose strands beside it: flyaway curls and wisps of hair the person mask leaves out stay on a
 * plain wall, and when the head turned away from them they floated beside it as a grey ghost of hair (the plate is
 * blurred as an out-of-focus background). Beside the person, a thin line standing off the wall either side of it
 * (`ridge`) is such a strand where the wall around is plain: few cells off its mean. A textured background (window
 * panes, slats, foliage, brick) has many and keeps the narrow hole, since a wide smooth fill over it read as a
 * blurred halo round the head; the edge between two areas (a flag's stripes) has sides that differ.
 */
function withLooseStrands(
  col: Float32Array,
  cover: Float32Array,
  hole: Float32Array,
  w: number,
  h: number,
): Float32Array {
  const near = growMask(cover, w, h, Math.max(1, Math.round(Math.max(w, h) * STRAND_REACH)));
  // The wall round each cell: the mean brightness of the cells outside the hole nearby; a cell off it is anything on
  // the wall (brightness alone: a strand of hair is darker or lighter than the wall, and one plane costs a third).
  const known = new Float32Array(w * h);
  const bright = new Float32Array(w * h);
  for (let q = 0; q < w * h; q++) {
    known[q] = hole[q]! > 0.5 ? 0 : 1;
    bright[q] = (0.299 * col[q * 3]! + 0.587 * col[q * 3 + 1]! + 0.114 * col[q * 3 + 2]!) * known[q]!;
  }
  const weight = boxBlur(known, w, h, STRAND_AREA, 1);
  const wall = boxBlur(bright, w, h, STRAND_AREA, 1);
  const off = new Float32Array(w * h);
  let any = false;
  for (let q = 0; q < w * h; q++) {
    if (!near[q] || !known[q] || weight[q]! < 0.1) continue;
    if (Math.abs(bright[q]! - wall[q]! / weight[q]!) > STRAND_CONTRAST) {
      off[q] = 1;
      any = true;
    }
  }
  if (!any) return hole;
  const share = boxBlur(off, w, h, STRAND_AREA, 1);
  const strands = new Float32Array(w * h);
  for (let y = STRAND_SPAN; y < h - STRAND_SPAN; y++) {
    for (let x = STRAND_SPAN; x < w - STRAND_SPAN; x++) {
      const q = y * w + x;
      if (off[q] && share[q]! < STRAND_SPARSE && ridge(col, hole, q, w) > STRAND_CONTRAST) strands[q] = 1;
    }
  }
  attachedPieces(strands, { bright, known, off, near, hole }, w, h);
  const grown = growMask(strands, w, h, 1);
  const out = new Float32Array(w * h);
  for (let q = 0; q < w * h; q++) out[q] = Math.max(hole[q]!, grown[q]!);
  return out;
}

/** A band beside the person this plain (at most this share of its cells off the wall) is a plain wall. */
const PLAIN_BAND = 0.08;
/** How far from the person, in cells, a piece of them may start. */
const ATTACHED_GAP = 3;
/** The wall a piece stands off is the mean over this many cells around (of about 4 px at 1024 px). */
const ATTACHED_AREA = 16;
/** The largest piece, as a share of the image: a lens's glint, an ear's tip. */
const ATTACHED_MOST = 0.004;

/**
 * On a plain wall, in place on `strands`: whatever stands off the wall and touches the person, the pieces of them
 * the mask left out. A lens of glasses beyond a turned cheek (its glint and frame), an ear's tip or a clump of hair
 * stayed on the plate and floated beside the turned head as a blurred white or dark ghost (blind panels rated such
 * tiles broken). Only where the band beside the person is plain as a whole: on a textured background everything
 * stands off the wall and touches the person somewhere, and a wide smooth fill read as a halo.
 */
function attachedPieces(
  strands: Float32Array,
  band: { bright: Float32Array; known: Float32Array; off: Float32Array; near: Float32Array; hole: Float32Array },
  w: number,
  h: number,
): void {
  const { bright, known, off, near, hole } = band;
  let offCells = 0;
  let bandCells = 0;
  for (let q = 0; q < w * h; q++) {
    if (!near[q] || !known[q]) continue;
    bandCells++;
    if (off[q]) offCells++;
  }
  if (bandCells === 0 || offCells > PLAIN_BAND * bandCells) return;
  // The wall from afar, leaving out what stands off it: a piece a dozen cells wide is most of its own
  // neighbourhood, and against the mean of that its middle stood off nothing.
  const clear = new Float32Array(w * h);
  const clearBright = new Float32Array(w * h);
  for (let q = 0; q < w * h; q++) {
    clear[q] = known[q]! * (1 - off[q]!);
    clearBright[q] = bright[q]! * (1 - off[q]!);
  }
  const weight = boxBlur(clear, w, h, ATTACHED_AREA, 1);
  const wall = boxBlur(clearBright, w, h, ATTACHED_AREA, 1);
  const stands = (q: number) =>
    near[q]! > 0 &&
    known[q]! > 0 &&
    weight[q]! > 0.05 &&
    Math.abs(bright[q]! - wall[q]! / weight[q]!) > STRAND_CONTRAST;
  // Cells standing off the wall, joined through such cells to a cell beside the hole (4-connected flood fill), one
  // piece at a time: a piece larger than a lens is the background's own (a window's post beside the head, which a
  // wide smooth fill smeared into a blurred blob).
  const most = Math.round(ATTACHED_MOST * w * h);
  const seen = new Uint8Array(w * h);
  const beside = growMask(hole, w, h, ATTACHED_GAP);
  const piece: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!beside[start] || seen[start] || !stands(start)) continue;
    piece.length = 0;
    seen[start] = 1;
    piece.push(start);
    // The whole piece is walked, even past the largest: a part of a large one left unseen would pass as small.
    for (let k = 0; k < piece.length; k++) {
      const q = piece[k]!;
      const x = q % w;
      for (const r of [x > 0 ? q - 1 : -1, x < w - 1 ? q + 1 : -1, q - w, q + w]) {
        if (r < 0 || r >= w * h || seen[r] || !stands(r)) continue;
        seen[r] = 1;
        piece.push(r);
      }
    }
    if (piece.length <= most) for (const q of piece) strands[q] = 1;
  }
}

/** How far either side a strand's cell is compared with the wall, in cells: a strand is at most this wide. */
const STRAND_SPAN = 2;

/**
 * How far cell q stands off the wall either side of it, in levels, along the direction where it stands off most:
 * off the mean of the two cells `STRAND_SPAN` away, less their own difference. A thin strand stands off walls that
 * agree; the edge between two areas of a background (a flag's stripes, a door frame) has sides that differ, and
 * is not a strand.
 */
function ridge(col: Float32Array, hole: Float32Array, q: number, w: number): number {
  let best = 0;
  for (const step of [1, w, w + 1, w - 1]) {
    const a = q - STRAND_SPAN * step;
    const b = q + STRAND_SPAN * step;
    if (hole[a]! > 0.5 || hole[b]! > 0.5) continue;
    let stand = 0;
    let apart = 0;
    for (let c = 0; c < 3; c++) {
      const ca = col[a * 3 + c]!;
      const cb = col[b * 3 + c]!;
      stand = Math.max(stand, Math.abs(col[q * 3 + c]! - (ca + cb) / 2));
      apart = Math.max(apart, Math.abs(ca - cb));
    }
    best = Math.max(best, stand - apart);
  }
  return best;
}

/** Fills the pixels where `hole` is 1 from the rest (push-pull pyramid); returns the filled colours (w*h*3). */
function pushPull(colour: Float32Array, hole: Float32Array, width: number, height: number): Float32Array {
  let w = width;
  let h = height;
  let col = new Float32Array(w * h * 3);
  let wt = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const k = (hole[i] ?? 0) > 0.5 ? 0 : 1;
    wt[i] = k;
    col[i * 3] = (colour[i * 3] ?? 0) * k;
    col[i * 3 + 1] = (colour[i * 3 + 1] ?? 0) * k;
    col[i * 3 + 2] = (colour[i * 3 + 2] ?? 0) * k;
  }
  const levels: Array<{ col: Float32Array; wt: Float32Array; w: number; h: number }> = [{ col, wt, w, h }];
  while (w > 1 || h > 1) {
    const nw = Math.max(1, Math.ceil(w / 2));
    const nh = Math.max(1, Math.ceil(h / 2));
    const ncol = new Float32Array(nw * nh * 3);
    const nwt = new Float32Array(nw * nh);
    for (let y = 0; y < h; y++) {
      const row = (y >> 1) * nw;
      for (let x = 0; x < w; x++) {
        const o = row + (x >> 1);
        const i = y * w + x;
        nwt[o]! += wt[i] ?? 0;
        ncol[o * 3]! += col[i * 3] ?? 0;
        ncol[o * 3 + 1]! += col[i * 3 + 1] ?? 0;
        ncol[o * 3 + 2]! += col[i * 3 + 2] ?? 0;
      }
    }
    // Normalise to a weight of at most 1 so fully known coarse pixels count as known.
    for (let o = 0; o < nw * nh; o++) {
      const s = nwt[o] ?? 0;
      if (s > 1) {
        const k = 1 / s;
        ncol[o * 3]! *= k;
        ncol[o * 3 + 1]! *= k;
        ncol[o * 3 + 2]! *= k;
        nwt[o] = 1;
      }
    }
    w = nw;
    h = nh;
    col = ncol;
    wt = nwt;
    levels.push({ col, wt, w, h });
  }
  // Pull: from the coarsest level down, fill what each level lacks with the bilinearly upsampled coarser one.
  for (let l = levels.length - 2; l >= 0; l--) {
    const fine = levels[l]!;
    const coarse = levels[l + 1]!;
    for (let y = 0; y < fine.h; y++) {
      const fy = Math.min(coarse.h - 1, Math.max(0, (y + 0.5) / 2 - 0.5));
      const y0 = Math.floor(fy);
      const y1 = Math.min(coarse.h - 1, y0 + 1);
      const ty = fy - y0;
      for (let x = 0; x < fine.w; x++) {
        const i = y * fine.w + x;
        const have = Math.min(1, fine.wt[i] ?? 0);
        if (have >= 1) continue;
        const fx = Math.min(coarse.w - 1, Math.max(0, (x + 0.5) / 2 - 0.5));
        const x0 = Math.floor(fx);
        const x1 = Math.min(coarse.w - 1, x0 + 1);
        const tx = fx - x0;
        const cw = [(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty];
        const ci = [y0 * coarse.w + x0, y0 * coarse.w + x1, y1 * coarse.w + x0, y1 * coarse.w + x1];
        let wsum = 0;
        const c = [0, 0, 0];
        for (let k = 0; k < 4; k++) {
          const j = ci[k]!;
          const cwt = coarse.wt[j] ?? 0;
          if (cwt <= 0) continue;
          const kk = (cw[k] ?? 0) / cwt;
          wsum += cw[k] ?? 0;
          c[0]! += (coarse.col[j * 3] ?? 0) * kk;
          c[1]! += (coarse.col[j * 3 + 1] ?? 0) * kk;
          c[2]! += (coarse.col[j * 3 + 2] ?? 0) * kk;
        }
        if (wsum <= 0) continue;
        const miss = 1 - have;
        fine.col[i * 3] = (fine.col[i * 3] ?? 0) + (c[0]! / wsum) * miss;
        fine.col[i * 3 + 1] = (fine.col[i * 3 + 1] ?? 0) + (c[1]! / wsum) * miss;
        fine.col[i * 3 + 2] = (fine.col[i * 3 + 2] ?? 0) + (c[2]! / wsum) * miss;
        fine.wt[i] = 1;
      }
    }
  }
  return levels[0]!.col;
}

/** One box blur pass of radius r (clamped edges) on a single-channel plane. */
function boxBlur1(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const n = 2 * r + 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += src[y * width + Math.min(width - 1, Math.max(0, x + k))] ?? 0;
      tmp[y * width + x] = acc / n;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += tmp[Math.min(height - 1, Math.max(0, y + k)) * width + x] ?? 0;
      out[y * width + x] = acc / n;
    }
  }
  return out;
}

/** Max-filter of a mask by `radius` pixels: 1 wherever the mask (above 0.02) is within `radius` (a square). */
function growMask(mask: Float32Array, width: number, height: number, radius: number): Float32Array {
  const tmp = new Uint8Array(mask.length);
  const out = new Float32Array(mask.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let last = -1e9;
    for (let x = 0; x < width; x++) {
      if ((mask[row + x] ?? 0) > 0.02) last = x;
      tmp[row + x] = x - last <= radius ? 1 : 0;
    }
    last = 1e9;
    for (let x = width - 1; x >= 0; x--) {
      if ((mask[row + x] ?? 0) > 0.02) last = x;
      if (last - x <= radius) tmp[row + x] = 1;
    }
  }
  for (let x = 0; x < width; x++) {
    let last = -1e9;
    for (let y = 0; y < height; y++) {
      if (tmp[y * width + x]) last = y;
      out[y * width + x] = y - last <= radius ? 1 : 0;
    }
    last = 1e9;
    for (let y = height - 1; y >= 0; y--) {
      if (tmp[y * width + x]) last = y;
      if (last - y <= radius) out[y * width + x] = 1;
    }
  }
  return out;
}

/**
 * The person's own colours at their soft edge: where the alpha is partial, the photo mixes the person with the
 * background behind them (I = a F + (1 - a) B), and composing that over another background leaves a rim of the old
 * one (a pale halo on a dark backdrop, green from a park on a studio grey). With the plate as B, F = (I - (1 - a) B) / a
 * recovers the person's colour. But the plate is the background filled in, not the background, and a mask's ramp
 * seldom sits exactly on the edge: the division magnifies both by 1 / a, and drew a dark line inside a cheek's
 * outline and a white one outside it (a blind panel's "pale rim, face looks pasted"). So as a falls the colour
 * comes from the nearest sure person instead: the person's colours spread outward (push-pull, as for the plate),
 * as fast foreground estimation does; unmixing is trusted fully only from UNMIX_HIGH.
 *
 * The alpha is checked against the same mix: where the person's colour there and the plate's lie well apart and
 * the photo's pixel lies on the line between them, its share of the person's colour along that line is the most
 * alpha it can have. A mask ramp reaching past the true edge (a dark jacket's outline on a dark wood) otherwise
 * painted the jacket's lit rim over the wood at the ramp's alpha: a pale glow round the shoulders on every portrait
 * of the photo (a blind panel).
 */
const UNMIX_LOW = 0.6;
const UNMIX_HIGH = 0.98;
/** The person's and the plate's colours this far apart (RGB distance) for the share to mean anything, sure from SHARE_SURE. */
const SHARE_APART = 40;
const SHARE_SURE = 80;
/** The photo's pixel this far off the line between them is not a mix of the two (a strand of another colour). */
const SHARE_RESIDUAL_LOW = 12;
const SHARE_RESIDUAL_HIGH = 30;
/** How far beyond the plate's colour (as a share of the way to the person's) a pixel may lie and still be a mix. */
const BEYOND = -0.2;
/**
 * Only the mask's soft ramp is checked, fading out from SHARE_ALPHA_LOW to SHARE_ALPHA_HIGH: nearly sure person is
 * the person even where a print or a pattern happens to lie between their colour and the wall's.
 */
const SHARE_ALPHA_LOW = 0.3;
const SHARE_ALPHA_HIGH = 0.6;
/** Side of the copy the spread person colours are computed on. */
const SPREAD_SIDE = 512;

export function decontaminateEdges(
  image: RgbImage,
  alpha: Float32Array,
  plate: RgbImage,
): { image: RgbImage; alpha: Float32Array } {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  out.set(data);
  const checked = alpha.slice();
  const bg = plate.data;
  const { colour, cover, f, sw, sh } = shrinkToSide(image, alpha, SPREAD_SIDE, 'mean');
  const unknown = new Float32Array(sw * sh);
  for (let q = 0; q < sw * sh; q++) unknown[q] = (cover[q] ?? 0) > 0.97 ? 0 : 1;
  const spread = pushPull(colour, unknown, sw, sh);
  const near = new Float32Array(3);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(sh - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const r0 = Math.floor(gy) * sw;
    const r1 = Math.min(sh - 1, Math.floor(gy) + 1) * sw;
    const ty = gy - Math.floor(gy);
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      let a = alpha[o] ?? 0;
      if (a >= 0.98 || a <= 0.01) continue;
      const i = o * 3;
      const gx = Math.min(sw - 1, Math.max(0, (x + 0.5) / f - 0.5));
      const c0 = Math.floor(gx);
      const c1 = Math.min(sw - 1, c0 + 1);
      const tx = gx - c0;
      for (let c = 0; c < 3; c++) {
        const top = (spread[(r0 + c0) * 3 + c] ?? 0) * (1 - tx) + (spread[(r0 + c1) * 3 + c] ?? 0) * tx;
        const bottom = (spread[(r1 + c0) * 3 + c] ?? 0) * (1 - tx) + (spread[(r1 + c1) * 3 + c] ?? 0) * tx;
        near[c] = top * (1 - ty) + bottom * ty;
      }
      a = mixShare(data, bg, i, near, a);
      checked[o] = a;
      const trust = smoothstep(UNMIX_LOW, UNMIX_HIGH, a);
      for (let c = 0; c < 3; c++) {
        const unmixed = Math.min(
          255,
          Math.max(0, ((data[i + c] ?? 0) - (1 - a) * (bg[i + c] ?? 0)) / Math.max(a, 0.01)),
        );
        out[i + c] = near[c]! + (unmixed - near[c]!) * trust + 0.5;
      }
    }
  }
  return { image: { data: out, width, height, channels: 3 }, alpha: checked };
}

/**
 * The most alpha pixel `i` of `photo` can have as a mix of the person's colour `person` and the plate's `bg` there:
 * its share along the line from the plate's colour to the person's, where the two lie apart and the pixel near the
 * line; `a` otherwise. Never more than `a`.
 */
function mixShare(photo: Uint8Array, bg: Uint8Array, i: number, person: Float32Array, a: number): number {
  const d0 = person[0]! - (bg[i] ?? 0);
  const d1 = person[1]! - (bg[i + 1] ?? 0);
  const d2 = person[2]! - (bg[i + 2] ?? 0);
  const apart = Math.hypot(d0, d1, d2);
  if (apart < SHARE_APART) return a;
  const p0 = (photo[i] ?? 0) - (bg[i] ?? 0);
  const p1 = (photo[i + 1] ?? 0) - (bg[i + 1] ?? 0);
  const p2 = (photo[i + 2] ?? 0) - (bg[i + 2] ?? 0);
  const t = (p0 * d0 + p1 * d1 + p2 * d2) / (apart * apart);
  // Beyond the plate's colour, away from the person's (a white print on a shirt before a pale wall), the pixel is
  // no mix of the two: the shirt's pale print near its edge was made see-through.
  if (t >= a || t < BEYOND) return a;
  const residual = Math.hypot(p0 - t * d0, p1 - t * d1, p2 - t * d2);
  const sure =
    smoothstep(SHARE_APART, SHARE_SURE, apart) *
    (1 - smoothstep(SHARE_RESIDUAL_LOW, SHARE_RESIDUAL_HIGH, residual)) *
    (1 - smoothstep(SHARE_ALPHA_LOW, SHARE_ALPHA_HIGH, a));
  return a - (a - Math.max(0, t)) * sure;
}

/**
 * The photo box-averaged down to about `side` cells on its longer side (whole cells of `f` px, never enlarged), with
 * the person's cover per cell (see shrinkBox) and the grid's sizes.
 */
export function shrinkToSide(
  image: RgbImage,
  alpha: Float32Array,
  side: number,
  alphaOf: 'mean' | 'max',
): { colour: Float32Array; cover: Float32Array; f: number; sw: number; sh: number } {
  const { width, height } = image;
  const f = Math.max(1, Math.floor(Math.max(width, height) / side));
  const sw = Math.ceil(width / f);
  const sh = Math.ceil(height / f);
  return { ...shrinkBox(image, alpha, f, sw, sh, alphaOf), f, sw, sh };
}

/**
 * The photo box-averaged down by `f` (sw x sh cells, colour interleaved) and the alpha per cell, as its mean or its
 * most. Shared by the plate (the hole is where any of the person is) and the rim check (how much of a cell is person).
 */
export function shrinkBox(
  image: RgbImage,
  alpha: Float32Array,
  f: number,
  sw: number,
  sh: number,
  alphaOf: 'mean' | 'max',
): { colour: Float32Array; cover: Float32Array } {
  const { width, height, data } = image;
  const colour = new Float32Array(sw * sh * 3);
  const cover = new Float32Array(sw * sh);
  const max = alphaOf === 'max';
  // A cell's share of each row is summed in locals and stored once: adding every pixel into the typed arrays was
  // most of the cost (25 ms a call at 1024 px, five calls a portrait).
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / f) * sw;
    const line = y * width;
    for (let cx = 0; cx < sw; cx++) {
      const x0 = cx * f;
      const x1 = Math.min(width, x0 + f);
      let a = 0;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let x = x0, j = (line + x0) * 3; x < x1; x++, j += 3) {
        r += data[j]!;
        g += data[j + 1]!;
        b += data[j + 2]!;
      }
      if (max) for (let i = line + x0; i < line + x1; i++) a = Math.max(a, alpha[i]!);
      else for (let i = line + x0; i < line + x1; i++) a += alpha[i]!;
      const o = row + cx;
      if (max) {
        if (a > cover[o]!) cover[o] = a;
      } else cover[o]! += a;
      const q = o * 3;
      colour[q]! += r;
      colour[q + 1]! += g;
      colour[q + 2]! += b;
    }
  }
  // A cell holds f x f pixels, fewer along the right and bottom edges.
  for (let cy = 0; cy < sh; cy++) {
    const rows = Math.min(f, height - cy * f);
    for (let cx = 0; cx < sw; cx++) {
      const o = cy * sw + cx;
      const k = 1 / Math.max(1, rows * Math.min(f, width - cx * f));
      if (!max) cover[o]! *= k;
      colour[o * 3]! *= k;
      colour[o * 3 + 1]! *= k;
      colour[o * 3 + 2]! *= k;
    }
  }
  return { colour, cover };
}

/**
 * How deep into the hole, as a share of the image side, the background's own texture is carried in by mirroring:
 * about as far as a 20-degree turn moves the head's outline. Deeper the smooth fill stays (the turned head covers
 * it); it fades out over the band's second half.
 */
const MIRROR_BAND = 0.08;

/** How far beyond the hole's edge the mirror reads, as a share of the side: past the last faint wisps of hair. */
const MIRROR_GAP = 0.006;

/**
 * Below the crown the row is mirrored only where the background's broad colour beside the head (a box mean
 * CROWN_ALIKE_REACH of the side wide: slats or a brick pattern average out) lies within CROWN_ALIKE (RGB) of the
 * smooth fill there.
 */
const CROWN_ALIKE_REACH = 0.03;
const CROWN_ALIKE = 90;
/** Cell side (pixels) of the broad colours' grid. */
const BROAD_CELL = 4;

/**
 * The plate's broad colours on a grid of `cell`-pixel cells (rgb interleaved), from each cell's centre pixel,
 * box-blurred by `radius` cells: a broad average, so one pixel per cell is enough and costs a sixteenth.
 */
function broadColours(plate: RgbImage, cell: number, radius: number): { colour: Float32Array; cw: number } {
  const { width, height, data } = plate;
  const cw = Math.ceil(width / cell);
  const ch = Math.ceil(height / cell);
  const channels = [0, 1, 2].map(() => new Float32Array(cw * ch));
  for (let cy = 0; cy < ch; cy++) {
    const y = Math.min(height - 1, cy * cell + (cell >> 1));
    for (let cx = 0; cx < cw; cx++) {
      const i = (y * width + Math.min(width - 1, cx * cell + (cell >> 1))) * 3;
      for (let c = 0; c < 3; c++) channels[c]![cy * cw + cx] = data[i + c]!;
    }
  }
  const colour = new Float32Array(cw * ch * 3);
  for (let c = 0; c < 3; c++) {
    const blurred = boxBlur(channels[c]!, cw, ch, radius, 1);
    for (let q = 0; q < cw * ch; q++) colour[q * 3 + c] = blurred[q]!;
  }
  return { colour, cw };
}

/**
 * The plate with the background's texture carried into the near part of the hole: each pixel there takes the
 * plate's pixel mirrored across the hole's nearer side along its row. The push-pull fill is smooth, and where a turn
 * uncovered it before window slats, a brick or stucco wall it read as a pale, smooth ghost of the old head's outline
 * (a blind panel). Mirrored, slats continue as slats and a wall as a wall. Along the row, not across the nearest
 * edge: a head's outline is curved and ragged with hair, and mirroring across it turned horizontal slats into
 * kinked, slanting pieces; a turn uncovers the head's sides, where the row meets background soonest. The smooth
 * fill stays where the mirror would read from another part of the hole or from outside the photo, and deeper in.
 */
export function mirrorIntoHole(plate: RgbImage, alpha: Float32Array): RgbImage {
  // Read from the plate: outside the hole it is the photo, less the loose strands it has filled.
  const { width, height, data } = plate;
  const side = Math.max(width, height);
  // The hole at half size (a cell any of the person touches, grown as the plate's): a 2 px step in where the
  // mirror reads is lost in the texture, and the full-size grow cost more than the rest together.
  const w2 = Math.ceil(width / 2);
  const h2 = Math.ceil(height / 2);
  const cover = new Float32Array(w2 * h2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = alpha[y * width + x]!;
      const q = (y >> 1) * w2 + (x >> 1);
      if (a > cover[q]!) cover[q] = a;
    }
  }
  const hole2 = growMask(cover, w2, h2, Math.max(1, Math.round((side / 2) * HOLE_GROW)) + 1);
  const hole = new Uint8Array(width);
  const band = MIRROR_BAND * side;
  const gap = Math.round(MIRROR_GAP * side);
  const out = new Uint8Array(plate.data);
  // Read only below a crown, so worked out on first use there.
  let broad: { colour: Float32Array; cw: number } | undefined;
  // Whether the background's broad colour at (ax, ay) is like the smooth fill at hole pixel i.
  const alike = (ax: number, ay: number, i: number) => {
    broad ??= broadColours(plate, BROAD_CELL, Math.max(1, Math.round((side / BROAD_CELL) * CROWN_ALIKE_REACH)));
    const a = (Math.floor(ay / BROAD_CELL) * broad.cw + Math.floor(ax / BROAD_CELL)) * 3;
    const b = broad.colour;
    const dr = b[a]! - data[i]!;
    const dg = b[a + 1]! - data[i + 1]!;
    const db = b[a + 2]! - data[i + 2]!;
    return dr * dr + dg * dg + db * db < CROWN_ALIKE * CROWN_ALIKE;
  };
  const left = new Int32Array(width);
  const right = new Int32Array(width);
  // The last row outside the hole above each pixel (-1: none), carried down the columns.
  const above = new Int32Array(width).fill(-1);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const row2 = (y >> 1) * w2;
    let any = 0;
    for (let x = 0; x < width; x++) any |= hole[x] = hole2[row2 + (x >> 1)]! > 0.5 ? 1 : 0;
    // A row the hole does not reach is the plate's already.
    if (!any) {
      above.fill(y);
      continue;
    }
    // The last pixel outside the hole to the left and to the right of each pixel (-1 / width: none).
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (!hole[x]) {
        last = x;
        above[x] = y;
      }
      left[x] = last;
    }
    last = width;
    for (let x = width - 1; x >= 0; x--) {
      if (!hole[x]) last = x;
      right[x] = last;
    }
    for (let x = 0; x < width; x++) {
      if (!hole[x]) continue;
      const dl = left[x]! >= 0 ? x - left[x]! : Number.POSITIVE_INFINITY;
      const dr = right[x]! < width ? right[x]! - x : Number.POSITIVE_INFINITY;
      const d = Math.min(dl, dr);
      if (d >= band) continue;
      const du = above[x]! >= 0 ? y - above[x]! : Number.POSITIVE_INFINITY;
      const mx = dl <= dr ? left[x]! - dl - gap : right[x]! + dr + gap;
      if (mx < 0 || mx >= width || hole[mx]) continue;
      // Below the crown, where the hole's top is nearer than its sides, the row's ends lie beside the head: a pale
      // sky there, mirrored over a crown before a dark building, showed as a light halo round the head wherever the
      // cut-out is narrower than the hole. There the row is mirrored only where the background beside the head is,
      // broadly, like the smooth fill, which meets the background above (slats, a plain wall); elsewhere the fill
      // stays.
      const i = (row + x) * 3;
      if (du < d && !alike(mx, y, i)) continue;
      const k = 1 - smoothstep(0.5 * band, band, d);
      const m = (row + mx) * 3;
      for (let c = 0; c < 3; c++) out[i + c] = out[i + c]! + (data[m + c]! - out[i + c]!) * k + 0.5;
    }
  }
  return { data: out, width, height, channels: 3 };
}
