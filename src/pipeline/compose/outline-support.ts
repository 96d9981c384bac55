/**
 * Whether the member's outline follows an edge of the photo. A cut-out is only as good as its outline: where the
 * mask's edge runs through flat wall (a patch of wall the selfie model took in beside a hand or a cheek) or
 * through the middle of the hair (half an afro lost against a dark background), the photo shows no change across
 * it. On the photo's own background that does not show; on a studio backdrop it becomes a slab of old wall or a
 * head of hair cut along an invented line, which blind panels rated broken.
 *
 * Measured above the shoulders on a small copy: for each outline cell, the photo's colour a few cells inside the
 * person against a few cells outside, along the mask's normal. An outline cell with nearly the same colour on
 * both sides is unsupported. The frame's border is left out (the photo goes on there).
 */

import type { Box, RgbImage } from '../types.js';
import { shrinkToSide } from './plate.js';

/** Side of the working copy and how far (cells) inside and outside the outline the colours are read. */
const SIDE = 256;
const REACH = 3;
/** RGB distance below which the two sides are "the same colour". */
const SAME = 24;

export function unsupportedOutline(image: RgbImage, alpha: Float32Array, face: Box): number {
  const { colour: rgb, cover: a, f, sw, sh } = shrinkToSide(image, alpha, SIDE, 'mean');
  const shoulders = Math.min(sh - REACH - 1, Math.floor((face.y + face.height * 1.25) / f));
  const margin = REACH + 1;
  const at = (x: number, y: number, c: number) =>
    rgb[(Math.min(sh - 1, Math.max(0, Math.round(y))) * sw + Math.min(sw - 1, Math.max(0, Math.round(x)))) * 3 + c] ??
    0;
  let outline = 0;
  let unsupported = 0;
  for (let y = margin; y < shoulders; y++) {
    for (let x = margin; x < sw - margin; x++) {
      const o = y * sw + x;
      if ((a[o] ?? 0) < 0.5) continue;
      const left = a[o - 1] ?? 0;
      const right = a[o + 1] ?? 0;
      const up = a[o - sw] ?? 0;
      const down = a[o + sw] ?? 0;
      if (left >= 0.5 && right >= 0.5 && up >= 0.5 && down >= 0.5) continue;
      // The normal points into the person (up the alpha's slope).
      const gx = right - left;
      const gy = down - up;
      const len = Math.hypot(gx, gy);
      if (len < 1e-3) continue;
      const nx = gx / len;
      const ny = gy / len;
      outline++;
      let d2 = 0;
      for (let c = 0; c < 3; c++) {
        const d = at(x + nx * REACH, y + ny * REACH, c) - at(x - nx * REACH, y - ny * REACH, c);
        d2 += d * d;
      }
      if (d2 < SAME * SAME) unsupported++;
    }
  }
  return outline === 0 ? 0 : unsupported / outline;
}
