import { smoothstep } from '../style/filters.js';
import type { Box, RgbImage } from '../types.js';
import { components } from './components.js';
import { maxFilter, type Plane, plane, resizePlane } from './plane.js';

/**
 * A hat's brim or a lock of hair the selfie model lost, put back from the parts model's hair. The selfie model
 * cut the tip of a felt hat's brim off a head against a white wall; the tip stayed on the background plate and,
 * with the head turned, floated beside it as a dark smudge while the turned hat had a stump of a brim. The parts
 * model counts the whole brim as hair: what it is sure is hair, joined to the person and beside or above the face,
 * is the member's.
 *
 * Only a little may come in (at most LOST_MOST of the face's area): where the parts model's hair spreads over a
 * dark wall beside dark hair it is unsure of the edge, and a large piece of wall would turn with the head.
 */

/** Hair at least this sure (parts model) is the member's where it joins the person. */
const SURE_HAIR = 0.6;
/** Rows above this share of the face's box from its top (the mouth): below it hair hangs over the shoulders. */
const HAIR_BOTTOM = 0.75;
/** Columns this many face widths either side of the face's centre. */
const HAIR_BESIDE = 1.6;
/** Most that may come in, as a share of the face box's area. */
const LOST_MOST = 0.5;
/**
 * A lost piece must stand out from the background along its edge: at least EDGE_SHOWN of its edge pixels differ by
 * STANDS_OUT (RGB distance) from the background OUTSIDE pixels further out. The parts model also calls a black wall
 * beside dark hair and white fur beside a cheek "hair"; such pieces turned with the head as blobs beside it.
 * Measured: a felt brim on a white wall 51% (the rest of its edge is brim the model was unsure of); the black wall
 * 31% at most; the fur 39% at most.
 */
const STANDS_OUT = 48;
const EDGE_SHOWN = 0.45;
const OUTSIDE = 6;
/**
 * Least RGB distance between a lost piece's mean colour and the background's beyond its edge: a brim is solid
 * (232 on a white wall); wind-blown wisps over a beige street average out to nearly the street (45) and came in
 * with the street between them, a beige patch beside the head on a studio backdrop.
 */
const SOLID = 80;
/** Most RGB distance between a lost piece's mean colour and the member's own sure hair where it joins them. */
const LIKE_OWN = 60;
/** Most chromaticity distance between them, with HUE_DAMP added to each colour's sum (RGB bytes). */
const LIKE_HUE = 0.07;
const HUE_DAMP = 30;
/** Width (coarse pixels) and level of the ring round what came in. */
const RING = 2;
const RING_LEVEL = 0.6;

/**
 * `coarse` (the selfie model's person probability) with sure hair joined to the person put in, in place.
 * `hairPlane` is the parts model's hair at any resolution, `image` the photo at any resolution, `face` the main
 * face's box in the coarse plane's pixels.
 * Returns the share of the face's area that came in (0 when nothing or too much would).
 */
export function putBackLostHair(coarse: Plane, hairPlane: Plane, face: Box, image: RgbImage): number {
  const { width, height, data } = coarse;
  const hair = resizePlane(hairPlane, width, height).data;
  const bottom = face.y + HAIR_BOTTOM * face.height;
  const cx = face.x + face.width / 2;
  const reach = HAIR_BESIDE * face.width;
  const where = (o: number) => {
    const x = (o % width) + 0.5;
    const y = Math.floor(o / width) + 0.5;
    return y < bottom && Math.abs(x - cx) < reach;
  };
  // Flood from the person's own sure hair into sure hair the person left out.
  const lost = new Uint8Array(width * height);
  const stack: number[] = [];
  const visit = (o: number) => {
    if (!lost[o] && data[o]! < 0.5 && hair[o]! > SURE_HAIR && where(o)) {
      lost[o] = 1;
      stack.push(o);
    }
  };
  const visitAround = (o: number) => {
    const x = o % width;
    if (x > 0) visit(o - 1);
    if (x < width - 1) visit(o + 1);
    if (o >= width) visit(o - width);
    if (o + width < data.length) visit(o + width);
  };
  for (let o = 0; o < data.length; o++) if (data[o]! >= 0.5 && hair[o]! > SURE_HAIR && where(o)) visitAround(o);
  while (stack.length > 0) visitAround(stack.pop()!);
  const count = keepBelievablePieces(lost, width, height, data, hair, image);
  const share = count / Math.max(1, face.width * face.height);
  if (count === 0 || share > LOST_MOST) return 0;
  // The parts model's hair stops a little short of a brim's tip (a dark dot stayed on the plate): a ring of
  // RING pixels round what came in is put just over the line, and the refinement against the photo's colours
  // places the edge within it.
  const ring = maxFilter(Float32Array.from(lost), width, height, RING);
  for (let o = 0; o < data.length; o++) {
    if (lost[o]) data[o] = Math.max(data[o]!, smoothstep(0.5, 0.8, hair[o]!));
    else if (ring[o]! > 0) data[o] = Math.max(data[o]!, RING_LEVEL);
  }
  return share;
}

/**
 * Clears from `lost` (in place) each 4-connected piece that is not believably more of the member's hair or hat:
 * - its outer edge must show in the photo: for each edge pixel, its colour against the colour OUTSIDE pixels further
 *   out, beyond the piece; at least EDGE_SHOWN of the edge must differ by STANDS_OUT. A brim's tip on a pale wall
 *   does all round; a black wall beside dark hair, or white fur beside a cheek (the parts model called both hair),
 *   does not;
 * - it must be solid: its mean colour SOLID away from the background beyond it (not wisps with street between them);
 * - its colour must be like the member's own sure hair where it joins them (within LIKE_OWN): dark foliage above
 *   auburn hair stands out from a grey background as a brim does, and came in as a green tuft on the head.
 * Returns how many pixels are left. Colours come from `image`, sampled at the nearest pixel.
 */
function keepBelievablePieces(
  lost: Uint8Array,
  width: number,
  height: number,
  person: Float32Array,
  hair: Float32Array,
  image: RgbImage,
): number {
  const sx = image.width / width;
  const sy = image.height / height;
  const colourAt = (x: number, y: number, c: number) => {
    const ix = Math.min(image.width - 1, Math.floor((x + 0.5) * sx));
    const iy = Math.min(image.height - 1, Math.floor((y + 0.5) * sy));
    return image.data[(iy * image.width + ix) * 3 + c] ?? 0;
  };
  const { labels, areas } = components(plane(width, height, Float32Array.from(lost)), 0.5);
  const pieces = areas.length;
  const mean = new Float64Array(pieces * 3);
  const own = new Float64Array(pieces * 3);
  const joins = new Float64Array(pieces);
  const edge = new Float64Array(pieces);
  const shown = new Float64Array(pieces);
  const beyond = new Float64Array(pieces * 3);
  for (let o = 0; o < labels.length; o++) {
    const l = labels[o]!;
    if (l === 0) continue;
    const x = o % width;
    const y = (o - x) / width;
    for (let c = 0; c < 3; c++) mean[l * 3 + c]! += colourAt(x, y, c);
    for (const [dx, dy] of STEPS) {
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      const n = ny * width + nx;
      if (lost[n]) continue;
      if (person[n]! >= 0.5) {
        if (hair[n]! > SURE_HAIR) {
          for (let c = 0; c < 3; c++) own[l * 3 + c]! += colourAt(nx, ny, c);
          joins[l]! += 1;
        }
        continue;
      }
      // An edge of the piece against the background: compare with the background OUTSIDE pixels out.
      const fx = Math.min(width - 1, Math.max(0, x + dx * OUTSIDE));
      const fy = Math.min(height - 1, Math.max(0, y + dy * OUTSIDE));
      let d2 = 0;
      for (let c = 0; c < 3; c++) {
        const d = colourAt(x, y, c) - colourAt(fx, fy, c);
        d2 += d * d;
      }
      edge[l]! += 1;
      for (let c = 0; c < 3; c++) beyond[l * 3 + c]! += colourAt(fx, fy, c);
      if (d2 >= STANDS_OUT * STANDS_OUT) shown[l]! += 1;
    }
  }
  const believable = areas.map((area, l) => {
    if (l === 0 || edge[l]! === 0 || shown[l]! < EDGE_SHOWN * edge[l]! || joins[l]! === 0) return false;
    const at = (sums: Float64Array) => [sums[l * 3]!, sums[l * 3 + 1]!, sums[l * 3 + 2]!];
    const m = at(mean).map((v) => v / area);
    const b = at(beyond).map((v) => v / edge[l]!);
    const solid = Math.hypot(m[0]! - b[0]!, m[1]! - b[1]!, m[2]! - b[2]!) >= SOLID;
    return solid && unlikeColours(at(mean), area, at(own), joins[l]!) < 1;
  });
  let kept = 0;
  for (let o = 0; o < labels.length; o++) {
    if (labels[o] === 0) continue;
    if (believable[labels[o]!]) kept++;
    else lost[o] = 0;
  }
  return kept;
}

/**
 * How unlike two mean colours (sums over `na` and `nb` pixels) are, as a share of what is allowed: RGB distance over
 * LIKE_OWN, or chromaticity distance over LIKE_HUE, whichever is more. Dark foliage and dark auburn hair are close
 * in RGB; their hues (green, warm) are not.
 */
function unlikeColours(a: number[], na: number, b: number[], nb: number): number {
  const ma = a.map((v) => v / na);
  const mb = b.map((v) => v / nb);
  const rgb = Math.hypot(ma[0]! - mb[0]!, ma[1]! - mb[1]!, ma[2]! - mb[2]!);
  // Chromaticity, damped for dark colours (whose hue is mostly noise).
  const sa = ma[0]! + ma[1]! + ma[2]! + HUE_DAMP;
  const sb = mb[0]! + mb[1]! + mb[2]! + HUE_DAMP;
  const hue = Math.hypot(ma[0]! / sa - mb[0]! / sb, ma[1]! / sa - mb[1]! / sb);
  return Math.max(rgb / LIKE_OWN, hue / LIKE_HUE);
}

const STEPS: ReadonlyArray<readonly [number, number]> = [
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
];
