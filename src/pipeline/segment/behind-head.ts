import { smoothstep } from '../style/filters.js';
import type { Box, RgbImage } from '../types.js';
import { boxMean } from './guided-filter.js';
import type { PartPlanes } from './models.js';
import { type Plane, resizePlane } from './plane.js';

/**
 * The person mask beside the head, by depth. Beside a close-up's head the selfie model often calls a whole pale
 * wall, or a coat on a hook, person; the rim check gives back only part of it, and what stays turns with the head as
 * a glassy band of wall with a hard outline (a thumbs-up close-up, rated broken). The depth model (TCMonoDepth) sees
 * that the wall lies far behind the face even where its colour matches the skin or hair. The other way round, the
 * selfie model loses an ear against bright bokeh (a translucent smear beside the turned head): skin the parts model
 * finds, as near as the head and joined to the face, is the member's.
 *
 * Only beside the head, above the chin: below it, shoulders at arm's length lie far behind the face and a depth
 * rule notched them (tried in an earlier session; with the parts model's protection too, it cut a white T-shirt's
 * shoulder in a black and white photo). The face itself is never trimmed. The depth is relative, so the thresholds
 * are relative too: between the background's depth and the face's.
 */

/** Below this share of the depth scale between background and face nothing is trimmed: depth cannot tell them. */
const MIN_SEPARATION = 0.3;
/** Depth (share of the way from the background's to the face's) where the trim starts and where it is complete. */
const FAR_FULL = 0.45;
const FAR_NONE = 0.75;
/** Depth (same scale) from which skin joined to the face (an ear) is the member's. */
const SKIN_NEAR = 0.5;
/** Below the chin the trim fades out over this share of the face's height. */
const CHIN_FADE = 0.3;

/**
 * `coarse` (the selfie model's person probability) with what lies far behind the face beside the head taken out
 * and near skin joined to the face put in, in place. `depth` is relative inverse depth (larger = nearer) over the
 * same photo at any resolution, `parts` the skin/clothes/hair model's planes, `face` the main face's box in the coarse
 * plane's pixels, `photo` the photo at any size.
 */
export function refineBesideHead(coarse: Plane, depth: Plane, parts: PartPlanes, face: Box, photo: RgbImage): void {
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
  const wall = likeTheWallNearby(d, lo, width, height, photo);
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height / 2;
  const chin = face.y + face.height;
  const inFace = (x: number, y: number) =>
    Math.hypot((x + 0.5 - cx) / (face.width * 0.45), (y + 0.5 - cy) / (face.height * 0.6)) < 1;
  // Skin as near as the head and joined to the face: ears (the selfie model loses an ear against bright bokeh,
  // and the turned head showed it as a translucent smear) and a hand held to the face.
  const skinLevel = far + SKIN_NEAR * span;
  const ears = joinedToFace(width, height, chin, inFace, (o) => skin[o]! > 0.4 && d[o]! >= skinLevel);
  for (let y = 0; y < height; y++) {
    const below = (y + 0.5 - chin) / (CHIN_FADE * face.height);
    if (below >= 1) break;
    const zone = 1 - smoothstep(0, 1, below);
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      // The face's own ellipse is kept whatever the depth says.
      if (inFace(x, y)) continue;
      // What the parts model calls hair, skin or clothes stays: a hat or a bun lies behind the face too, and
      // against a dark, plain wall the depth model puts a black hat level with the wall (a hat was cut away).
      const part = Math.max(hair[o]!, skin[o]!, clothes[o]!);
      // Only what has the colour of the background beside it goes: a hood's top or a bun is far by depth too
      // (a grey hood before a blue wall went dark where it was half trimmed).
      const keep = Math.max(smoothstep(lo, hi, d[o]!), smoothstep(0.2, 0.5, part), 1 - wall[o]!);
      const trimmed = data[o]! * (1 - zone * (1 - keep));
      data[o] = ears[o] ? Math.max(trimmed, zone * smoothstep(0.4, 0.7, skin[o]!)) : trimmed;
    }
  }
}

/**
 * 1 where `inside` holds and the pixel is joined through such pixels, above row `bottom`, to a pixel of the face
 * (`inFace`) where it holds too (a flood fill, 4-connected).
 */
function joinedToFace(
  width: number,
  height: number,
  bottom: number,
  inFace: (x: number, y: number) => boolean,
  inside: (o: number) => boolean,
): Uint8Array {
  const out = new Uint8Array(width * height);
  const rows = Math.min(height, Math.ceil(bottom));
  const stack: number[] = [];
  const visit = (o: number) => {
    if (!out[o] && inside(o)) {
      out[o] = 1;
      stack.push(o);
    }
  };
  for (let y = 0; y < rows; y++) for (let x = 0; x < width; x++) if (inFace(x, y)) visit(y * width + x);
  while (stack.length > 0) {
    const o = stack.pop()!;
    const x = o % width;
    const y = (o - x) / width;
    if (x > 0) visit(o - 1);
    if (x < width - 1) visit(o + 1);
    if (y > 0) visit(o - width);
    if (y < rows - 1) visit(o + width);
  }
  return out;
}

/** Radius (coarse pixels) over which the background's colour beside a pixel is averaged. */
const WALL_RADIUS = 24;

/**
 * Per pixel of a `width` x `height` plane, 1 where the photo's colour matches the mean colour of what lies surely far
 * (depth `d` below `level`) within WALL_RADIUS, fading to 0 past a colour distance of 0.2 (RGB in 0..1); 1 where
 * nothing far is near (depth alone decides). Far by depth, not by the selfie model: it took the wall for the person.
 */
function likeTheWallNearby(
  d: Float32Array,
  level: number,
  width: number,
  height: number,
  photo: RgbImage,
): Float32Array {
  const n = width * height;
  const colour: Float32Array[] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const weighted: Float32Array[] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const sure = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(photo.height - 1, Math.floor(((y + 0.5) * photo.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(photo.width - 1, Math.floor(((x + 0.5) * photo.width) / width));
      const o = y * width + x;
      const w = d[o]! < level ? 1 : 0;
      sure[o] = w;
      for (let c = 0; c < 3; c++) {
        const v = photo.data[(sy * photo.width + sx) * 3 + c]! / 255;
        colour[c]![o] = v;
        weighted[c]![o] = v * w;
      }
    }
  }
  const count = boxMean(sure, width, height, WALL_RADIUS);
  const means = weighted.map((plane) => boxMean(plane, width, height, WALL_RADIUS));
  const out = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const k = count[o]!;
    if (k < 1e-3) {
      out[o] = 1;
      continue;
    }
    let dist = 0;
    for (let c = 0; c < 3; c++) dist += (colour[c]![o]! - means[c]![o]! / k) ** 2;
    out[o] = 1 - smoothstep(0.08, 0.2, Math.sqrt(dist));
  }
  return out;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? 0;
}
