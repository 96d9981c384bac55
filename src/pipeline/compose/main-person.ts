/**
 * The member, and only the member: segmentation also fires on things beside them (clothes on a rack, another
 * person's shoulder, a poster), and those would float as blobs over a studio backdrop or turn with the head. The
 * person mask is cut to the region connected to the member's face: flood fill on a small copy of the mask from the
 * face's centre, grown a little so soft edges and wisps of hair stay, applied as a smooth multiplier.
 */

import { floodFill } from '../segment/components.js';
import { boxMean } from '../segment/guided-filter.js';
import { maxFilter, resizePlane, timesUpsampled } from '../segment/plane.js';
import { smoothstep } from '../style/filters.js';
import type { Box, RgbImage } from '../types.js';
import { shrinkBox } from './plate.js';

/** Side of the working copy, and how far (cells) the kept region is grown to keep soft edges. */
const SIDE = 160;
const GROW = 2;

export function keepMainPerson(
  alpha: Float32Array,
  width: number,
  height: number,
  face: { x: number; y: number },
): Float32Array {
  const f = Math.max(1, Math.ceil(Math.max(width, height) / SIDE));
  const sw = Math.ceil(width / f);
  const sh = Math.ceil(height / f);
  const small = new Float32Array(sw * sh);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / f) * sw;
    const line = y * width;
    for (let cx = 0; cx < sw; cx++) {
      let m = small[row + cx]!;
      for (let i = line + cx * f, end = line + Math.min(width, cx * f + f); i < end; i++) m = Math.max(m, alpha[i]!);
      small[row + cx] = m;
    }
  }
  // Flood fill over confident person cells from the face's centre.
  const keep = new Uint8Array(sw * sh);
  const sx = Math.min(sw - 1, Math.max(0, Math.floor(face.x / f)));
  const sy = Math.min(sh - 1, Math.max(0, Math.floor(face.y / f)));
  const stack = [sy * sw + sx];
  keep[sy * sw + sx] = 1;
  const visit = (n: number) => {
    if (keep[n] || (small[n] ?? 0) < 0.5) return;
    keep[n] = 1;
    stack.push(n);
  };
  while (stack.length > 0) {
    const o = stack.pop() ?? 0;
    const x = o % sw;
    if (x > 0) visit(o - 1);
    if (x < sw - 1) visit(o + 1);
    if (o >= sw) visit(o - sw);
    if (o < sw * (sh - 1)) visit(o + sw);
  }
  // Grow by GROW cells (square), then soften into a 0..1 multiplier.
  const grown = new Float32Array(sw * sh);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      let on = 0;
      for (let dy = -GROW; dy <= GROW && !on; dy++) {
        for (let dx = -GROW; dx <= GROW; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx >= 0 && ny >= 0 && nx < sw && ny < sh && keep[ny * sw + nx]) {
            on = 1;
            break;
          }
        }
      }
      grown[y * sw + x] = on;
    }
  }
  // Scaled back up (bilinear) and applied as a smooth multiplier.
  return timesUpsampled(alpha, width, height, { width: sw, height: sh, data: grown }, f);
}

/**
 * Person pixels that belong to someone else in the photo: a group shot or a crop of one passes the one-face rule
 * when the member's face clearly dominates, and the neighbours' shoulders and hair touch the member's, so the
 * flood fill above walks into them. Bodies hang below their faces, so a person pixel from a little above a
 * neighbour's face downward is theirs when it is horizontally nearer their face than the member's, in units of each
 * face's width (a bigger, nearer face claims more), with a soft boundary a fifth of a face wide. The member's own
 * head (a face width and a half across, down past the chin) is never given away: a neighbour lower in the frame
 * cut a seam through the member's cheek, and the plate then showed the cut-off ear as a ghost (a blind panel saw
 * it). Returns a new alpha; `alpha` is left alone.
 */
export function withoutOthers(
  alpha: Float32Array,
  width: number,
  height: number,
  member: Box,
  others: readonly Box[],
): Float32Array {
  const out = alpha.slice();
  if (others.length === 0) return out;
  const mx = member.x + member.width / 2;
  const soft = 0.2;
  // Per neighbour, the share of each column the member keeps.
  const columns = others.map((o) => {
    const ox = o.x + o.width / 2;
    const keep = new Float32Array(width);
    for (let x = 0; x < width; x++) {
      const own = Math.abs(x + 0.5 - mx) / member.width;
      const theirs = Math.abs(x + 0.5 - ox) / o.width;
      keep[x] = Math.min(1, Math.max(0, (theirs - own) / soft + 0.5));
    }
    // Their claim fades in over a third of their face above its top: a hard row left a straight line between
    // the sharp member layer and the blurred background.
    return { top: o.y - 0.6 * o.height, fade: o.height / 3, keep };
  });
  const headBottom = member.y + member.height * 1.3;
  for (let y = 0; y < height; y++) {
    const active = columns.filter((c) => y + 0.5 >= c.top - c.fade);
    if (active.length === 0) continue;
    for (let x = 0; x < width; x++) {
      if (y + 0.5 <= headBottom && Math.abs(x + 0.5 - mx) <= 0.75 * member.width) continue;
      let keep = 1;
      for (const c of active) {
        const claim = Math.min(1, (y + 0.5 - (c.top - c.fade)) / c.fade);
        keep = Math.min(keep, 1 - claim * (1 - (c.keep[x] ?? 1)));
      }
      if (keep < 1) out[y * width + x] = (out[y * width + x] ?? 0) * keep;
    }
  }
  return out;
}

/**
 * How much of the member's mask lies beside their head, out where their own head and hair do not reach: further
 * than REACH_BESIDE face widths from the face's centre, above the shoulders. There a neighbour's face or arm, a
 * sofa back or a coat on a rack was taken for the member, connected to them. Over the photo's own background that
 * passes; cut out onto a studio backdrop it is a chunk of someone else (a blind panel's most common fault). Share
 * of the frame's pixels. A face turned aside counts the back of its own head here, past the face's box: left so on
 * purpose. Letting it go (as `handBesideFace` does) gave a man in profile before a plain orange wall his backdrop,
 * but put a white wall pocket between a profile's neck and curls, and a patch between fingers and glasses, on
 * backdrops a blind panel rated broken: without a matting model, a turned head's cut-out is the riskier one.
 */
const REACH_BESIDE = 1.15;

export function besideTheHead(
  alpha: Float32Array,
  width: number,
  height: number,
  face: Box,
  own?: { hair: Float32Array },
): number {
  const cx = face.x + face.width / 2;
  // The shoulders start about a quarter face below the chin; below them the body is wide and belongs.
  const shoulders = Math.min(height, Math.round(face.y + face.height * 1.25));
  let stray = 0;
  for (let y = 0; y < shoulders; y++) {
    for (let x = 0; x < width; x++) {
      if (Math.abs(x + 0.5 - cx) <= REACH_BESIDE * face.width) continue;
      const i = y * width + x;
      if ((alpha[i] ?? 0) <= 0.5) continue;
      // The member's own big hair is theirs (a head of curls kept studio backdrops from portraits with no stranger
      // in them). A hand held by the head still counts: skin the colour of a pale wall cuts out torn.
      stray += own ? 1 - Math.min(1, (own.hair[i] ?? 0) * 1.5) : 1;
    }
  }
  return stray / (width * height);
}

/**
 * How much of the member's mask above the chin, outside the face's box, is the green of foliage: leaves before or
 * round the head that the selfie model took in with the hair. Hair is never green; cut out onto a studio backdrop
 * they stayed as bright green pieces on the hair with a jagged spike of old background (every rater of a blind
 * panel called it broken). Share of those mask pixels. Seen: 0.12 with leaves round a face; at most 0.03 otherwise,
 * from a green wall between curls or a teal wig.
 */
export function leavesBesideHead(image: RgbImage, alpha: Float32Array, face: Box): number {
  const { width, height, data } = image;
  const chin = Math.min(height, Math.floor(face.y + face.height));
  let green = 0;
  let member = 0;
  for (let y = 0; y < chin; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      if ((alpha[o] ?? 0) < 0.5 || inBox(face, x + 0.5, y + 0.5)) continue;
      member++;
      const r = data[o * 3]!;
      const g = data[o * 3 + 1]!;
      const b = data[o * 3 + 2]!;
      // Green the largest channel by a margin, and clearly coloured: foliage, never hair or skin.
      if (g > r + LEAF_MARGIN && g >= b && g - Math.min(r, b) > LEAF_CHROMA) green++;
    }
  }
  return member === 0 ? 0 : green / member;
}
const LEAF_MARGIN = 20;
const LEAF_CHROMA = 40;

function inBox(b: Box, x: number, y: number): boolean {
  return x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height;
}

/** How far the head reaches behind a face turned `yawDeg` beyond the detector's box: its width times the sine. */
function behindTurnedFace(face: Box, yawDeg: number): number {
  return face.width * Math.sin((Math.min(90, Math.abs(yawDeg)) * Math.PI) / 180);
}

/**
 * How much skin lies beside the face above the chin, outside the face's own box (grown by a tenth for the ears),
 * as a share of the face box: a hand held to the temple, the cheek or the chin. Its fingers sit in front of the
 * face or touch it, and a turned head pulls them along partly: the fingers stretch and the background behind
 * them is invented (a blind panel's "finger ghost"). Ears alone measure about a tenth.
 * A face turned aside (`yawDeg`, positive with the nose toward the picture's right) shows the far cheek, the ear
 * and the nape behind the detector's box, which covers only the front of a profile: the box grows that way by
 * the face's width times the sine of the turn (a man in profile with no hand in the picture measured 0.23 and was
 * asked to move his hands away from his face).
 * Nor skin that lies wholly above the face's box, apart from any skin lower down (a piece joined to it would be a
 * hand or an arm): a tan straw hat's crown, which the skin model took for skin, measured 0.06 of the 0.11 that
 * held a woman's turn to a third and asked her to move hands she was not holding up. Hands in the hair stay: their
 * wrists or arms come down beside the head.
 */
export function handBesideFace(skin: Float32Array, width: number, height: number, face: Box, yawDeg = 0): number {
  const gx = face.width * 0.1;
  const behind = behindTurnedFace(face, yawDeg);
  const left = face.x - gx - (yawDeg > 0 ? behind : 0);
  const right = face.x + face.width + gx + (yawDeg < 0 ? behind : 0);
  const x0 = Math.max(0, Math.floor(face.x - face.width * 0.8));
  const x1 = Math.min(width, Math.ceil(face.x + face.width * 1.8));
  const y0 = Math.max(0, Math.floor(face.y - face.height * 0.3));
  const y1 = Math.min(height, Math.ceil(face.y + face.height));
  // Sure skin above the face's top joined to skin lower down: a piece that reaches below the top crosses its first
  // row, so filling from that row over the rows above finds them all (and costs nothing where no skin is there).
  const top = Math.min(height - 1, Math.max(0, Math.ceil(face.y)));
  const sure = (o: number) => (skin[o] ?? 0) >= SURE_SKIN;
  const row = Array.from({ length: width }, (_, x) => top * width + x);
  const joined = floodFill(width, top + 1, row, sure);
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (x >= left && x < right && y >= face.y - gx) continue;
      const o = y * width + x;
      if (y < top && sure(o) && !joined[o]) continue;
      sum += skin[o] ?? 0;
    }
  }
  return sum / Math.max(1, face.width * face.height);
}

/** Skin probability from which pieces of skin are told apart. */
const SURE_SKIN = 0.5;

/**
 * `person` with the face oval (`oval`, 0/1, faceOvalMask) added: the face the mesh found is the member's whatever
 * the selfie model says (it lost a shadowed cheek against a dark background).
 *
 * Except what is plainly the wall: the mesh's outline can run outside the face (below the ear of a broad smile it
 * lay beyond the jaw), and the wedge of pale window it took in was too deep for the rim check to take out. On a
 * studio backdrop and after turns it showed as a pale pocket beside the jaw (a blind panel: 10 ratings on 4
 * portraits). So where the selfie model says background, a pixel of the oval that is close to the background's
 * colour nearby and much further from the face's own colours nearby stays background. A shadowed cheek on a dark
 * wall is still skin-coloured against a grey or black wall and still comes in.
 */
export function withFaceOval(person: Float32Array, oval: Uint8Array, image: RgbImage): Float32Array {
  const { width, height } = image;
  const out = person.slice();
  const f = Math.max(1, Math.ceil(Math.max(width, height) / OVAL_CHECK_SIDE));
  const sw = Math.ceil(width / f);
  const sh = Math.ceil(height / f);
  const { colour, cover } = shrinkBox(image, person, f, sw, sh, 'mean');
  const ovalCover = new Float32Array(sw * sh);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      if (oval[y * width + x]) ovalCover[Math.floor(y / f) * sw + Math.floor(x / f)]! += 1;
  }
  const wall = localMean(colour, sw, sh, (q) => ((cover[q] ?? 0) < 0.05 ? 1 : 0), false);
  const face = localMean(colour, sw, sh, (q) => ((cover[q] ?? 0) > 0.95 && (ovalCover[q] ?? 0) >= f * f ? 1 : 0), true);
  // Decided per cell from its mean colour and upsampled smoothly: per pixel, the noise of a soft edge's colours
  // broke the faint rim along the jaw into pale dashes.
  const isWall = new Float32Array(sw * sh);
  for (let q = 0; q < sw * sh; q++) {
    if (!ovalCover[q] || (cover[q] ?? 0) >= 1) continue;
    const dWall = wall.distance(q, colour, q * 3);
    const dFace = face.distance(q, colour, q * 3);
    // No wall nearby (or no face at all) to compare with: the mesh is trusted.
    if (!Number.isFinite(dWall) || !Number.isFinite(dFace)) continue;
    isWall[q] = (1 - smoothstep(WALL_CLOSE, WALL_FAR, dWall)) * smoothstep(1.5, 2.5, dFace / Math.max(4, dWall));
  }
  // Grown a cell: a mixed cell between two of wall (the jaw's soft edge blended into it) is wall as well, or the
  // faint rim the oval drew beyond the jaw stayed as a dashed line.
  const wallUp = resizePlane({ width: sw, height: sh, data: maxFilter(isWall, sw, sh, 1) }, width, height).data;
  for (let i = 0; i < out.length; i++) if (oval[i]) out[i] = Math.max(out[i]!, 1 - wallUp[i]!);
  return out;
}

/** The oval's check works on cells of the photo at most this many per side. */
const OVAL_CHECK_SIDE = 256;
/** RGB distance to the wall's colour nearby under which an oval pixel may be wall, and over which it is not. */
const WALL_CLOSE = 16;
const WALL_FAR = 32;
/** How far (share of the side) the wall's and the face's colours are looked for. */
const OVAL_REACH = 0.03;

/**
 * The mean colour nearby of the cells `weight` picks (a normalised box average), and a pixel's RGB distance to it;
 * where none is near, to the mean of them all (`fallback`: the face's colours, beyond reach in a wide wedge of wall)
 * or infinite (no wall nearby to call it).
 */
function localMean(
  colour: Float32Array,
  sw: number,
  sh: number,
  weight: (q: number) => number,
  fallback: boolean,
): { distance: (q: number, px: ArrayLike<number>, j: number) => number } {
  const n = sw * sh;
  const w = new Float32Array(n);
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    const k = weight(q);
    if (k === 0) continue;
    w[q] = k;
    r[q] = colour[q * 3]! * k;
    g[q] = colour[q * 3 + 1]! * k;
    b[q] = colour[q * 3 + 2]! * k;
  }
  const reach = Math.max(2, Math.round(Math.max(sw, sh) * OVAL_REACH));
  const [mw, mr, mg, mb] = [w, r, g, b].map((p) => boxMean(p, sw, sh, reach)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  // Where none is near, the mean over all of them (or none at all).
  let all = 0;
  const sum = [0, 0, 0];
  for (let q = 0; q < n; q++) {
    all += w[q]!;
    sum[0]! += r[q]!;
    sum[1]! += g[q]!;
    sum[2]! += b[q]!;
  }
  return {
    distance: (q, px, j) => {
      const k = mw[q]!;
      if (k >= 0.02) return Math.hypot(px[j]! - mr[q]! / k, px[j + 1]! - mg[q]! / k, px[j + 2]! - mb[q]! / k);
      if (!fallback || all === 0) return Number.POSITIVE_INFINITY;
      return Math.hypot(px[j]! - sum[0]! / all, px[j + 1]! - sum[1]! / all, px[j + 2]! - sum[2]! / all);
    },
  };
}
