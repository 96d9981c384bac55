/**
 * How busy the photo's background is round the head: what a studio backdrop's cut-out depends on.
 *
 * Without a matting model the cut-out's edge is found by colour: the rim check and the hair matte tell the wall from
 * the person where the wall nearby is one colour. Before bokeh lights, foliage, a café or a sunset the wall seen
 * between strands and beside a cheek is many colours, and what the mask kept of it stayed as patches of old
 * background in the hair, halos and torn shoulders on the backdrop (a blind panel on unseen photos: 9 of 19 studio
 * blue portraits broken by majority, all of them before such a background).
 *
 * Measured on a small copy, above the shoulders: the background cells within BAND of the member, each against the
 * mean of the band's background nearby (within NEAR); the result is their mean RGB distance from it (0 for a plain
 * wall or a smooth sky).
 */

import { boxMean } from '../segment/guided-filter.js';
import { maxFilter } from '../segment/plane.js';
import type { Box, RgbImage } from '../types.js';
import { shrinkToSide } from './plate.js';

/** Side of the working copy; the band's depth and the neighbourhood, as shares of its side. */
const SIDE = 256;
const BAND = 0.06;
const NEAR = 0.04;

export function busyBackground(image: RgbImage, alpha: Float32Array, face: Box): number {
  const { colour, cover, f, sw, sh } = shrinkToSide(image, alpha, SIDE, 'max');
  const n = sw * sh;
  const person = new Float32Array(n);
  for (let q = 0; q < n; q++) person[q] = (cover[q] ?? 0) >= 0.5 ? 1 : 0;
  const nearPerson = maxFilter(person, sw, sh, Math.max(1, Math.round(BAND * Math.max(sw, sh))));
  const shoulders = Math.min(sh, Math.floor((face.y + face.height * 1.25) / f));
  const band = new Float32Array(n);
  const sums = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let q = 0; q < sw * shoulders; q++) {
    // Outside the member altogether (its max alpha over the cell nearly nothing), near them.
    if ((cover[q] ?? 0) > 0.05 || !nearPerson[q]) continue;
    band[q] = 1;
    for (let c = 0; c < 3; c++) sums[c]![q] = colour[q * 3 + c] ?? 0;
  }
  const r = Math.max(1, Math.round(NEAR * Math.max(sw, sh)));
  const weight = boxMean(band, sw, sh, r);
  const means = sums.map((s) => boxMean(s, sw, sh, r));
  let cells = 0;
  let spread = 0;
  for (let q = 0; q < n; q++) {
    if (!band[q]) continue;
    const k = weight[q] ?? 0;
    if (k <= 0) continue;
    let d2 = 0;
    for (let c = 0; c < 3; c++) d2 += ((colour[q * 3 + c] ?? 0) - (means[c]![q] ?? 0) / k) ** 2;
    spread += Math.sqrt(d2);
    cells++;
  }
  return cells === 0 ? 0 : spread / cells;
}
