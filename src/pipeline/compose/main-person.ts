/**
 * The member, and only the member: segmentation also fires on things beside them (clothes on a rack, another
 * person's shoulder, a poster), and those would float as blobs over a studio backdrop or turn with the head. The
 * person mask is cut to the region connected to the member's face: flood fill on a small copy of the mask from the
 * face's centre, grown a little so soft edges and wisps of hair stay, applied as a smooth multiplier.
 */

import { resizePlane } from '../segment/plane.js';
import type { Box } from '../types.js';

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
    for (let x = 0; x < width; x++) {
      const o = row + Math.floor(x / f);
      small[o] = Math.max(small[o] ?? 0, alpha[y * width + x] ?? 0);
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
  const up = resizePlane({ width: sw, height: sh, data: grown }, sw * f, sh * f).data;
  const out = new Float32Array(alpha.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out[y * width + x] = (alpha[y * width + x] ?? 0) * (up[y * sw * f + x] ?? 0);
  }
  return out;
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
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (x >= left && x < right && y >= face.y - gx) continue;
      sum += skin[y * width + x] ?? 0;
    }
  }
  return sum / Math.max(1, face.width * face.height);
}

/**
 * `person` with the face oval (`oval`, 0/1, faceOvalMask) added: the face the mesh found is the member's whatever
 * the selfie model says (it lost a shadowed cheek against a dark background).
 */
export function withFaceOval(person: Float32Array, oval: Uint8Array): Float32Array {
  const out = person.slice();
  for (let i = 0; i < out.length; i++) if (oval[i]) out[i] = 1;
  return out;
}
