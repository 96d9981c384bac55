import { boxMean } from '../segment/guided-filter.js';
import type { RgbImage } from '../types.js';

/**
 * Light wrap, the compositor's old trick against the cut-out look: a person photographed in front of a backdrop
 * has the backdrop's light spilling round their edges, so a cut-out without it reads as pasted on (a blind panel
 * said exactly that of studio backdrops). The backdrop's colour is mixed into the person just inside their
 * outline, as much as the outline's outside is near (the blurred complement of the alpha), up to WRAP. Only for a
 * backdrop: the photo's own background already lit the person. Returns a new image.
 */
const WRAP = 0.35;
/** How far inside the outline the wrap reaches, as a share of the image side. */
const REACH = 0.008;

export function wrapLight(image: RgbImage, alpha: Float32Array, backdrop: RgbImage): RgbImage {
  const { width, height, data } = image;
  const n = width * height;
  const near = nearOutside(alpha, width, height, REACH);
  const out = new Uint8Array(data.length);
  const bd = backdrop.data;
  for (let o = 0; o < n; o++) {
    const i = o * 3;
    const w = WRAP * (alpha[o] ?? 0) * (near[o] ?? 0);
    out[i] = (data[i] ?? 0) * (1 - w) + (bd[i] ?? 0) * w + 0.5;
    out[i + 1] = (data[i + 1] ?? 0) * (1 - w) + (bd[i + 1] ?? 0) * w + 0.5;
    out[i + 2] = (data[i + 2] ?? 0) * (1 - w) + (bd[i + 2] ?? 0) * w + 0.5;
  }
  return { data: out, width, height, channels: 3 };
}

/**
 * How near the outside of the person each pixel is (0..1): the complement of the alpha blurred over `reach` of the
 * image side, in two box passes (a soft, tent-shaped falloff with no visible band). About 0.5 on the outline.
 */
export function nearOutside(alpha: Float32Array, width: number, height: number, reach: number): Float32Array {
  const n = width * height;
  const outside = new Float32Array(n);
  for (let o = 0; o < n; o++) outside[o] = 1 - (alpha[o] ?? 0);
  const r = Math.max(1, Math.round(Math.max(width, height) * reach));
  return boxMean(boxMean(outside, width, height, r), width, height, r);
}
