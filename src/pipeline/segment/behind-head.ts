import { smoothstep } from '../style/filters.js';
import type { Box } from '../types.js';
import type { PartPlanes } from './models.js';
import { type Plane, resizePlane } from './plane.js';

/**
 * Background beside the head that the selfie model took for the person, found by depth. Beside a close-up's head
 * the selfie model often calls a whole pale wall, or a coat on a hook, person; the rim check gives back only part
 * of it, and what stays turns with the head as a glassy band of wall with a hard outline (a thumbs-up close-up,
 * rated broken), or stays on a studio backdrop as a fleck of bookshelf by the ear. The depth model (TCMonoDepth)
 * sees that the wall lies far behind the face even where its colour matches the skin or hair.
 *
 * Only beside the head, above the chin: below it, shoulders at arm's length lie far behind the face and a depth
 * rule notched them (tried in an earlier session). The face itself is never trimmed. The depth is relative, so the
 * threshold is relative too: between the background's depth and the face's.
 */

/** Below this share of the depth scale between background and face nothing is trimmed: depth cannot tell them. */
const MIN_SEPARATION = 0.3;
/** Depth (share of the way from the background's to the face's) where the trim starts and where it is complete. */
const FAR_FULL = 0.45;
const FAR_NONE = 0.75;
/** Below the chin the trim fades out over this share of the face's height. */
const CHIN_FADE = 0.3;

/**
 * `coarse` (the selfie model's person probability) with what lies far behind the face beside the head taken out,
 * in place. `depth` is relative inverse depth (larger = nearer) over the same photo at any resolution, `face` the
 * main face's box in the coarse plane's pixels.
 */
export function trimBehindHead(coarse: Plane, depth: Plane, parts: PartPlanes, face: Box): void {
  const { width, height, data } = coarse;
  const d = resizePlane(depth, width, height).data;
  const hair = resizePlane(parts.hair, width, height).data;
  const skin = resizePlane(parts.skin, width, height).data;
  const clothes = resizePlane(parts.clothes, width, height).data;
  const inner: number[] = [];
  for (let y = Math.floor(face.y + face.height * 0.2); y < face.y + face.height * 0.8; y++) {
    for (let x = Math.floor(face.x + face.width * 0.2); x < face.x + face.width * 0.8; x++) {
      if (x >= 0 && y >= 0 && x < width && y < height) inner.push(d[y * width + x]!);
    }
  }
  const back: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i]! < 0.3) back.push(d[i]!);
  if (inner.length === 0 || back.length < data.length * 0.05) return;
  const near = median(inner);
  back.sort((a, b) => a - b);
  const far = back[Math.floor(back.length * 0.1)]!;
  const span = near - far;
  if (span < MIN_SEPARATION * Math.max(near, 1e-6)) return;
  const lo = far + FAR_FULL * span;
  const hi = far + FAR_NONE * span;
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height / 2;
  const chin = face.y + face.height;
  for (let y = 0; y < height; y++) {
    const below = (y + 0.5 - chin) / (CHIN_FADE * face.height);
    if (below >= 1) break;
    const zone = 1 - smoothstep(0, 1, below);
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      // The face's own ellipse is kept whatever the depth says.
      if (Math.hypot((x + 0.5 - cx) / (face.width * 0.45), (y + 0.5 - cy) / (face.height * 0.6)) < 1) continue;
      // What the parts model calls hair, skin or clothes stays: a hat or a bun lies behind the face too, and
      // against a dark, plain wall the depth model puts a black hat level with the wall (a hat was cut away).
      const part = Math.max(hair[o]!, skin[o]!, clothes[o]!);
      const keep = Math.max(smoothstep(lo, hi, d[o]!), smoothstep(0.2, 0.5, part));
      data[o] = data[o]! * (1 - zone * (1 - keep));
    }
  }
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? 0;
}
