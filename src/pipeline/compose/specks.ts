import { components } from '../segment/components.js';
import type { RgbImage } from '../types.js';

/**
 * Specks in a cut-out: small holes the edge refinement punched into the member where their colour matches the wall
 * (a white shirt before a pale marble wall, a pale blouse). Over the photo's own background they barely show; on a
 * studio backdrop or a pop-art ground the new ground shows through, a blue hole through a shoulder (blind raters:
 * broken).
 *
 * A speck is a region where the member is not sure (alpha under SURE) enclosed by sure member, no larger than
 * SPECK of the frame, whose photo colour is nearer the member's round it than the background's behind it. A
 * see-through hole keeps the background's colour and stays: the ring of an earring, the gap between curls, between
 * fingers or the lens of glasses past a turned cheek.
 */
const SURE = 0.9;
const SPECK = 0.0003;
/** How far round a speck (px) the member's colour is read. */
const RING = 2;

/** Fills the specks of `alpha` in place. `image` is the member's photo, `plate` the background behind them. */
export function fillSpecks(alpha: Float32Array, image: RgbImage, plate: RgbImage): void {
  const { width, height } = image;
  const n = width * height;
  if (alpha.length !== n || plate.width !== width || plate.height !== height) {
    throw new Error('speck fill: alpha, image and plate differ in size');
  }
  const unsure = new Float32Array(n);
  for (let o = 0; o < n; o++) unsure[o] = alpha[o]! < SURE ? 1 : 0;
  const { labels, areas, boxes } = components({ width, height, data: unsure }, 0.5);
  for (let l = 1; l < areas.length; l++) {
    const [x0, y0, x1, y1] = boxes[l]!;
    // Touching the frame's side, it is not enclosed (the background, or a hole cut by the frame).
    if (areas[l]! > SPECK * n || x0 === 0 || y0 === 0 || x1 === width - 1 || y1 === height - 1) continue;
    const hole = [0, 0, 0];
    const behind = [0, 0, 0];
    const ring = [0, 0, 0];
    let inHole = 0;
    let inRing = 0;
    for (let y = Math.max(0, y0 - RING); y <= Math.min(height - 1, y1 + RING); y++) {
      for (let x = Math.max(0, x0 - RING); x <= Math.min(width - 1, x1 + RING); x++) {
        const o = y * width + x;
        if (labels[o] === l) {
          for (let c = 0; c < 3; c++) {
            hole[c]! += image.data[o * 3 + c]!;
            behind[c]! += plate.data[o * 3 + c]!;
          }
          inHole++;
        } else if (labels[o] === 0 && nearLabel(labels, l, x, y, width, height)) {
          for (let c = 0; c < 3; c++) ring[c]! += image.data[o * 3 + c]!;
          inRing++;
        }
      }
    }
    if (inHole === 0 || inRing === 0) continue;
    let toMember = 0;
    let toBackground = 0;
    for (let c = 0; c < 3; c++) {
      toMember += (hole[c]! / inHole - ring[c]! / inRing) ** 2;
      toBackground += (hole[c]! / inHole - behind[c]! / inHole) ** 2;
    }
    if (toMember >= toBackground) continue;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) if (labels[y * width + x] === l) alpha[y * width + x] = 1;
    }
  }
}

/** Whether a pixel of component `l` lies within RING pixels of (x, y). */
function nearLabel(labels: Int32Array, l: number, x: number, y: number, width: number, height: number): boolean {
  for (let v = Math.max(0, y - RING); v <= Math.min(height - 1, y + RING); v++) {
    for (let u = Math.max(0, x - RING); u <= Math.min(width - 1, x + RING); u++)
      if (labels[v * width + u] === l) return true;
  }
  return false;
}
