import { signedArea } from './raster.js';
import { REFERENCE_FACE } from './reference.js';
import { TRIANGLES } from './triangles.js';

/**
 * The face's own outline from the face mesh: the ring of MediaPipe's 468-point mesh that runs over the forehead,
 * down the cheeks and round the chin (the face oval of MediaPipe's face-mesh connections), as a filled mask. It
 * follows the cheek and jaw where the detector's box is only a rectangle around them.
 */
const FACE_OVAL: readonly number[] = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
  172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];

/**
 * 1 inside the face oval of `points` (mesh x, y, z triplets in the image's pixels), scaled about its centre by
 * `scale` (below 1 keeps a band inside the outline free), for a width x height image.
 */
export function faceOvalMask(points: Float32Array, width: number, height: number, scale = 1): Uint8Array {
  const { px, py } = ringScaled(points, FACE_OVAL, scale);
  const mask = new Uint8Array(width * height);
  fillPolygon(mask, width, height, px, py);
  return mask;
}

/** The face oval's bounding box as an ellipse: its centre and half width and half height (image pixels). */
export function faceOvalEllipse(points: Float32Array): { cx: number; cy: number; rx: number; ry: number } {
  let [x0, y0, x1, y1] = [
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ];
  for (const i of FACE_OVAL) {
    const x = points[i * 3] ?? 0;
    const y = points[i * 3 + 1] ?? 0;
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, rx: Math.max(1, (x1 - x0) / 2), ry: Math.max(1, (y1 - y0) / 2) };
}

/**
 * The eyes' and the open mouth's rings of the mesh (MediaPipe's face-mesh connections: each eye's lid margin, the
 * lips' inner edge): the whites of the eyes and the teeth, pale and bright like washed skin but never skin.
 */
const EYES_AND_MOUTH: readonly (readonly number[])[] = [
  [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
  [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
  [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191],
];

/**
 * 1 inside the eyes and the open mouth of `points`, each ring scaled about its centre by `scale` (lashes, lips' rim)
 * and grown outward by `grow` px.
 */
export function eyesAndMouthMask(
  points: Float32Array,
  width: number,
  height: number,
  scale = 1.25,
  grow = 0,
): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const ring of EYES_AND_MOUTH) {
    const { px, py } = ringScaled(points, ring, scale, grow);
    fillPolygon(mask, width, height, px, py);
  }
  return mask;
}

/**
 * What the middle of the face (nose, lips and chin: the mesh's triangles within MIDFACE of its midline, facing the
 * camera) covers on screen beyond its oval. Turned aside, the nose and lips stand out past the far cheek's outline
 * (the oval is a ring on the head, not its silhouette). Not the sides of the face: past the oval there the mesh's far
 * cheek and temple reach beyond the real ones. Empty on a face that looks ahead.
 */
export function faceProfileMask(points: Float32Array, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const x = (i: number) => points[i * 3] ?? 0;
  const y = (i: number) => points[i * 3 + 1] ?? 0;
  for (let t = 0; t < MIDFACE_TRIANGLES.length; t += 3) {
    const a = MIDFACE_TRIANGLES[t]!;
    const b = MIDFACE_TRIANGLES[t + 1]!;
    const c = MIDFACE_TRIANGLES[t + 2]!;
    // Only what faces the camera: the far side of the nose, turned away, is no surface the photo shows.
    if (signedArea(x(a), y(a), x(b), y(b), x(c), y(c)) <= 0) continue;
    fillPolygon(mask, width, height, [x(a), x(b), x(c)], [y(a), y(b), y(c)]);
  }
  const oval = faceOvalMask(points, width, height);
  for (let i = 0; i < mask.length; i++) if (oval[i]) mask[i] = 0;
  return mask;
}

/**
 * The middle of the face: within this share of the face's half width of its midline. The mouth's corners are at
 * 0.43 and the eyes' outer corners at 0.64; at 0.45 the nose tip's silhouette still faded where it meets the cheek.
 */
const MIDFACE = 0.6;

const MIDFACE_TRIANGLES: Uint16Array = (() => {
  let half = 0;
  for (const i of FACE_OVAL) half = Math.max(half, Math.abs(REFERENCE_FACE[i * 3] ?? 0));
  const near = (i: number) => Math.abs(REFERENCE_FACE[i * 3] ?? 0) <= MIDFACE * half;
  const kept: number[] = [];
  for (let t = 0; t < TRIANGLES.length; t += 3) {
    const tri = [TRIANGLES[t]!, TRIANGLES[t + 1]!, TRIANGLES[t + 2]!];
    if (tri.every(near)) kept.push(...tri);
  }
  return Uint16Array.from(kept);
})();

/** A ring of mesh points, scaled by `scale` about their centre and each moved `grow` px further from it. */
function ringScaled(
  points: Float32Array,
  ring: readonly number[],
  scale: number,
  grow = 0,
): { px: number[]; py: number[] } {
  let cx = 0;
  let cy = 0;
  for (const i of ring) {
    cx += points[i * 3] ?? 0;
    cy += points[i * 3 + 1] ?? 0;
  }
  cx /= ring.length;
  cy /= ring.length;
  const px: number[] = [];
  const py: number[] = [];
  for (const i of ring) {
    const dx = (points[i * 3] ?? 0) - cx;
    const dy = (points[i * 3 + 1] ?? 0) - cy;
    const out = grow / (Math.hypot(dx, dy) || 1);
    px.push(cx + dx * (scale + out));
    py.push(cy + dy * (scale + out));
  }
  return { px, py };
}

/** Sets to 1 the pixels whose centres lie inside the polygon: each row's crossings with its edges, filled in pairs. */
function fillPolygon(mask: Uint8Array, width: number, height: number, px: number[], py: number[]): void {
  const y0 = Math.max(0, Math.floor(Math.min(...py)));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...py)));
  const crossings: number[] = [];
  for (let y = y0; y <= y1; y++) {
    const sy = y + 0.5;
    crossings.length = 0;
    for (let k = 0; k < px.length; k++) {
      const j = (k + 1) % px.length;
      const ay = py[k] ?? 0;
      const by = py[j] ?? 0;
      if (ay <= sy === by <= sy) continue;
      const ax = px[k] ?? 0;
      const bx = px[j] ?? 0;
      crossings.push(ax + ((sy - ay) / (by - ay)) * (bx - ax));
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const from = Math.max(0, Math.ceil((crossings[k] ?? 0) - 0.5));
      const to = Math.min(width - 1, Math.floor((crossings[k + 1] ?? 0) - 0.5));
      if (to >= from) mask.fill(1, y * width + from, y * width + to + 1);
    }
  }
}
