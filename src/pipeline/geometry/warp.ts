import { type FaceMesh, MESH_POINTS } from '../face/mesh.js';
import type { RgbImage } from '../types.js';
import { apply3, type Euler, multiply3, rotationFromEuler, transpose3 } from './linalg.js';
import type { HeadPose } from './pose.js';
import { boxBlur, type PixelRect, rasterTriangle, signedArea } from './raster.js';
import { MIRROR, REFERENCE_FACE_WIDTH } from './reference.js';
import { BOUNDARY, TRIANGLE_COUNT, TRIANGLES } from './triangles.js';

/**
 * Opacity of the face drawing per mesh point: 0 on the outline, 0.5 one ring in, 1 inside. The outer two rings
 * of triangles fade into the displaced background: the outline is ragged after a turn (its points alternate in
 * depth), and MediaPipe's oval runs over the ears, whose pixels the field moves on its own.
 */
const FACE_OPACITY: Float32Array = (() => {
  const on = new Uint8Array(MESH_POINTS);
  for (const i of BOUNDARY) on[i] = 1;
  const opacity = new Float32Array(MESH_POINTS).fill(1);
  for (let t = 0; t < TRIANGLE_COUNT; t++) {
    const v = [TRIANGLES[t * 3] ?? 0, TRIANGLES[t * 3 + 1] ?? 0, TRIANGLES[t * 3 + 2] ?? 0];
    if (v.some((i) => on[i] === 1)) for (const i of v) opacity[i] = Math.min(opacity[i] ?? 1, 0.5);
  }
  for (const i of BOUNDARY) opacity[i] = 0;
  return opacity;
})();

/**
 * View-consistent adaptation: the reference photo re-posed by rotating its own 3D face mesh.
 *
 * 1. Rotate: every mesh point turns by D = R_to * R_from^T around a pivot behind the face (heads turn on the
 *    neck, not around the nose), and is projected orthographically (weak perspective: a selfie's face is small
 *    against the camera distance, so x, y stay image pixels and z only orders depth).
 * 2. Face: each triangle that faces the camera after the turn is rasterised into the output with a z-buffer; each
 *    pixel looks up where it came from (same barycentric weights in the source triangle) and samples the photo
 *    bilinearly.
 * 3. Revealed regions: where the source saw a triangle badly (turned away, or hidden behind the nose), the pixel
 *    is filled from the mirrored triangle on the other side of the face (MIRROR pairing), blended by how well
 *    each side was seen, so the seam is soft.
 * 4. Head and background: hair, ears and neck are moved by a smooth displacement field anchored on the face
 *    outline (the outline's own displacement, spread by inverse-distance weights and faded to zero at
 *    `fieldReach` face widths), so the head turns as one piece while the background stays put.
 * 5. Masks: where the warped face is (soft edged) and an estimate of the whole head (face plus hair), both in
 *    output pixels, for relighting and stitching.
 *
 * Costs are per pixel of the face and per pixel within reach of the field; everything runs on preallocated
 * typed arrays. Work at the resolution you will output (the compositor passes its working image).
 */

export interface WarpOptions {
  /** Pivot depth behind the face's mean point, in face widths. @defaultValue 0.35 */
  pivotDepth?: number;
  /** Distance from the face outline at which the displacement field has faded out, in face widths. @defaultValue 1.6 */
  fieldReach?: number;
  /** Fill badly seen regions from the mirrored side of the face. @defaultValue true */
  mirrorFill?: boolean;
}

export interface WarpResult {
  /** The re-posed photo, same size as the input. */
  image: RgbImage;
  /** The mesh in the target pose, in output pixels (FaceMesh frame). */
  mesh: FaceMesh;
  /** w*h, 0..1: the warped face (mesh coverage), feathered over about 2% of the face width. */
  faceMask: Float32Array;
  /** w*h, 0..1: face plus hair and ears, an ellipse around the face, feathered; 1 wherever faceMask is 1. */
  headMask: Float32Array;
  /** The head pose the output has (rotation D applied to `from`), for reports and further stages. */
  pose: HeadPose;
}

/**
 * Re-poses `image` so the head described by `mesh` (at pose `from`, see estimateHeadPose) ends at pose `to`.
 * Angles outside what the engine draws well are the caller's to refuse (checkPoseForEngine).
 */
export function warpToPose(
  image: RgbImage,
  mesh: FaceMesh,
  from: HeadPose,
  to: Euler,
  options: WarpOptions = {},
): WarpResult {
  const { width, height } = image;
  const faceWidth = from.scale * REFERENCE_FACE_WIDTH;
  const rTo = rotationFromEuler(to);
  const delta = multiply3(rTo, transpose3(from.rotation));
  const pivotRef = apply3(from.rotation, 0, 0, (options.pivotDepth ?? 0.35) * REFERENCE_FACE_WIDTH);
  const pivot: [number, number, number] = [
    from.translation[0] + from.scale * pivotRef[0],
    from.translation[1] + from.scale * pivotRef[1],
    from.translation[2] + from.scale * pivotRef[2],
  ];

  const src = mesh.points;
  const dst = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    const q = apply3(
      delta,
      (src[i * 3] ?? 0) - pivot[0],
      (src[i * 3 + 1] ?? 0) - pivot[1],
      (src[i * 3 + 2] ?? 0) - pivot[2],
    );
    dst[i * 3] = q[0] + pivot[0];
    dst[i * 3 + 1] = q[1] + pivot[1];
    dst[i * 3 + 2] = q[2] + pivot[2];
  }

  const depth = sourceDepth(src, faceWidth);
  const stretch = stretchQuality(src, dst);
  const out = new Uint8Array(image.data.length);
  const faceMask = new Float32Array(width * height);

  // Background and hair first (every pixel), then the face on top.
  applyDisplacementField(image, src, dst, faceWidth * (options.fieldReach ?? 1.6), out);
  const faceRect = drawFace(image, src, dst, stretch, depth, options.mirrorFill ?? true, out, faceMask);

  // Feather the face mask outward only (it stays 1 inside), working on the face's rectangle alone.
  featherOutward(faceMask, width, height, faceRect, Math.max(1, faceWidth * 0.01));
  const headMask = estimateHeadMask(dst, width, height, faceWidth, faceMask, faceRect);

  const pose: HeadPose = {
    ...to,
    rotation: rTo,
    scale: from.scale,
    translation: [
      pivot[0] + apply3(delta, ...sub3(from.translation, pivot))[0],
      pivot[1] + apply3(delta, ...sub3(from.translation, pivot))[1],
      pivot[2] + apply3(delta, ...sub3(from.translation, pivot))[2],
    ],
    residual: from.residual,
  };
  return {
    image: { data: out, width, height, channels: 3 },
    mesh: { points: dst, presence: mesh.presence },
    faceMask,
    headMask,
    pose,
  };
}

function sub3(a: [number, number, number], b: [number, number, number]): [number, number, number] {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/**
 * How little the warp stretches each target point when it is taken from the source directly (`direct[i]`, from
 * point i) or through the mirror (`mirrored[i]`, from point MIRROR[i] on the other side of the face), 0..1.
 * The stretch is the ratio of how squarely the target and the source face the camera (cosines of their
 * normals); quality falls from 1 at a stretch of 1.6 to 0 at 3, and is 0 where the source faces away. Warping
 * to the same pose stretches nothing, so nothing is mirrored and the warp is the identity.
 */
function stretchQuality(src: Float32Array, dst: Float32Array): { direct: Float32Array; mirrored: Float32Array } {
  const facingSrc = vertexFacing(src);
  const facingDst = vertexFacing(dst);
  const direct = new Float32Array(MESH_POINTS);
  const mirrored = new Float32Array(MESH_POINTS);
  const quality = (target: number, source: number): number =>
    source <= 0.02 ? 0 : 1 - smoothstep(1.6, 3, Math.max(0, target) / source);
  for (let i = 0; i < MESH_POINTS; i++) {
    const target = facingDst[i] ?? 0;
    direct[i] = quality(target, facingSrc[i] ?? 0);
    mirrored[i] = quality(target, facingSrc[MIRROR[i] ?? i] ?? 0);
  }
  return { direct, mirrored };
}

/**
 * A coarse z-buffer of the source mesh (about 160 px per face width), to tell whether a source spot was in
 * view or hidden behind another part of the face: on a turned face the nose hides part of the far cheek.
 */
interface SourceDepth {
  zbuf: Float32Array;
  k: number;
  x0: number;
  y0: number;
  w: number;
  h: number;
  tolerance: number;
}

function sourceDepth(src: Float32Array, faceWidth: number): SourceDepth {
  const k = Math.min(1, 160 / Math.max(1, faceWidth));
  const bounds = meshBounds(src, k, 2);
  const w = bounds.x1 - bounds.x0;
  const h = bounds.y1 - bounds.y0;
  const zbuf = new Float32Array(Math.max(1, w * h)).fill(Number.POSITIVE_INFINITY);
  const clip: PixelRect = { x0: 0, y0: 0, x1: w, y1: h };
  for (let t = 0; t < TRIANGLE_COUNT; t++) {
    const a = TRIANGLES[t * 3] ?? 0;
    const b = TRIANGLES[t * 3 + 1] ?? 0;
    const c = TRIANGLES[t * 3 + 2] ?? 0;
    const az = src[a * 3 + 2] ?? 0;
    const bz = src[b * 3 + 2] ?? 0;
    const cz = src[c * 3 + 2] ?? 0;
    rasterTriangle(
      (src[a * 3] ?? 0) * k - bounds.x0,
      (src[a * 3 + 1] ?? 0) * k - bounds.y0,
      (src[b * 3] ?? 0) * k - bounds.x0,
      (src[b * 3 + 1] ?? 0) * k - bounds.y0,
      (src[c * 3] ?? 0) * k - bounds.x0,
      (src[c * 3 + 1] ?? 0) * k - bounds.y0,
      clip,
      (x, y, b0, b1, b2) => {
        const z = b0 * az + b1 * bz + b2 * cz;
        const o = y * w + x;
        if (z < (zbuf[o] ?? 0)) zbuf[o] = z;
      },
    );
  }
  return { zbuf, k, x0: bounds.x0, y0: bounds.y0, w, h, tolerance: faceWidth * 0.04 };
}

/** 1 when the source spot at image (x, y) with depth z was in view, ramping to 0 when it lay behind the face. */
function seenAt(d: SourceDepth, x: number, y: number, z: number): number {
  const gx = Math.min(d.w - 1, Math.max(0, Math.floor(x * d.k - d.x0)));
  const gy = Math.min(d.h - 1, Math.max(0, Math.floor(y * d.k - d.y0)));
  const behind = z - (d.zbuf[gy * d.w + gx] ?? 0);
  return behind <= d.tolerance ? 1 : Math.max(0, 2 - behind / d.tolerance);
}

/** Per-point cosine between the surface normal and the direction to the camera (1 = facing it, <0 = away). */
export function vertexFacing(points: Float32Array): Float32Array {
  const n = new Float32Array(MESH_POINTS * 3);
  for (let t = 0; t < TRIANGLE_COUNT; t++) {
    const a = TRIANGLES[t * 3] ?? 0;
    const b = TRIANGLES[t * 3 + 1] ?? 0;
    const c = TRIANGLES[t * 3 + 2] ?? 0;
    const ux = (points[b * 3] ?? 0) - (points[a * 3] ?? 0);
    const uy = (points[b * 3 + 1] ?? 0) - (points[a * 3 + 1] ?? 0);
    const uz = (points[b * 3 + 2] ?? 0) - (points[a * 3 + 2] ?? 0);
    const vx = (points[c * 3] ?? 0) - (points[a * 3] ?? 0);
    const vy = (points[c * 3 + 1] ?? 0) - (points[a * 3 + 1] ?? 0);
    const vz = (points[c * 3 + 2] ?? 0) - (points[a * 3 + 2] ?? 0);
    // Area-weighted normal. With TRIANGLES' winding its z is positive when the triangle faces the camera.
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    for (const v of [a, b, c]) {
      n[v * 3] = (n[v * 3] ?? 0) + nx;
      n[v * 3 + 1] = (n[v * 3 + 1] ?? 0) + ny;
      n[v * 3 + 2] = (n[v * 3 + 2] ?? 0) + nz;
    }
  }
  const out = new Float32Array(MESH_POINTS);
  for (let i = 0; i < MESH_POINTS; i++) {
    const len = Math.hypot(n[i * 3] ?? 0, n[i * 3 + 1] ?? 0, n[i * 3 + 2] ?? 0);
    out[i] = len > 0 ? (n[i * 3 + 2] ?? 0) / len : 0;
  }
  return out;
}

/** Pixel bounds of the mesh's x, y scaled by k, padded, as integers. */
function meshBounds(points: Float32Array, k: number, pad: number): PixelRect {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = (points[i * 3] ?? 0) * k;
    const y = (points[i * 3 + 1] ?? 0) * k;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { x0: Math.floor(x0) - pad, y0: Math.floor(y0) - pad, x1: Math.ceil(x1) + pad, y1: Math.ceil(y1) + pad };
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.max(0, Math.min(1, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/**
 * Draws the face: front-facing target triangles through a z-buffer, each pixel sampling its source position,
 * blended with the mirrored source position where the direct one was hidden or is stretched, as far as the
 * mirrored one is better. Sets faceMask to 1 where drawn.
 */
function drawFace(
  image: RgbImage,
  src: Float32Array,
  dst: Float32Array,
  stretch: { direct: Float32Array; mirrored: Float32Array },
  depth: SourceDepth,
  mirrorFill: boolean,
  out: Uint8Array,
  faceMask: Float32Array,
): PixelRect {
  const { width, height, data } = image;
  const bounds = meshBounds(dst, 1, 1);
  const rect: PixelRect = {
    x0: Math.max(0, bounds.x0),
    y0: Math.max(0, bounds.y0),
    x1: Math.min(width, bounds.x1),
    y1: Math.min(height, bounds.y1),
  };
  const rw = Math.max(0, rect.x1 - rect.x0);
  const rh = Math.max(0, rect.y1 - rect.y0);
  if (rw === 0 || rh === 0) return rect;
  const size = rw * rh;
  const zbuf = new Float32Array(size).fill(Number.POSITIVE_INFINITY);
  // Per pixel: direct and mirrored source position and depth, and the two stretch qualities.
  const sx = new Float32Array(size);
  const sy = new Float32Array(size);
  const sz = new Float32Array(size);
  const mx = new Float32Array(size);
  const my = new Float32Array(size);
  const mz = new Float32Array(size);
  const dq = new Float32Array(size);
  const mq = new Float32Array(size);
  const alpha = new Float32Array(size);
  const drawn = new Uint8Array(size);
  const clip: PixelRect = { x0: 0, y0: 0, x1: rw, y1: rh };

  for (let t = 0; t < TRIANGLE_COUNT; t++) {
    const a = TRIANGLES[t * 3] ?? 0;
    const b = TRIANGLES[t * 3 + 1] ?? 0;
    const c = TRIANGLES[t * 3 + 2] ?? 0;
    const ax = dst[a * 3] ?? 0;
    const ay = dst[a * 3 + 1] ?? 0;
    const bx = dst[b * 3] ?? 0;
    const by = dst[b * 3 + 1] ?? 0;
    const cx = dst[c * 3] ?? 0;
    const cy = dst[c * 3 + 1] ?? 0;
    // Back-facing after the turn: hidden by the rest of the head, and drawing it would smear the silhouette.
    if (signedArea(ax, ay, bx, by, cx, cy) <= 0) continue;
    const az = dst[a * 3 + 2] ?? 0;
    const bz = dst[b * 3 + 2] ?? 0;
    const cz = dst[c * 3 + 2] ?? 0;
    const ma = MIRROR[a] ?? a;
    const mb = MIRROR[b] ?? b;
    const mc = MIRROR[c] ?? c;
    // Source corners (direct and mirrored): x, y, z each.
    const s0 = [src[a * 3] ?? 0, src[a * 3 + 1] ?? 0, src[a * 3 + 2] ?? 0] as const;
    const s1 = [src[b * 3] ?? 0, src[b * 3 + 1] ?? 0, src[b * 3 + 2] ?? 0] as const;
    const s2 = [src[c * 3] ?? 0, src[c * 3 + 1] ?? 0, src[c * 3 + 2] ?? 0] as const;
    const m0 = [src[ma * 3] ?? 0, src[ma * 3 + 1] ?? 0, src[ma * 3 + 2] ?? 0] as const;
    const m1 = [src[mb * 3] ?? 0, src[mb * 3 + 1] ?? 0, src[mb * 3 + 2] ?? 0] as const;
    const m2 = [src[mc * 3] ?? 0, src[mc * 3 + 1] ?? 0, src[mc * 3 + 2] ?? 0] as const;
    const da = stretch.direct[a] ?? 0;
    const db = stretch.direct[b] ?? 0;
    const dc = stretch.direct[c] ?? 0;
    const qa = stretch.mirrored[a] ?? 0;
    const qb = stretch.mirrored[b] ?? 0;
    const qc = stretch.mirrored[c] ?? 0;
    // The outer rings fade into the displaced background (FACE_OPACITY).
    const oa = FACE_OPACITY[a] ?? 1;
    const ob = FACE_OPACITY[b] ?? 1;
    const oc = FACE_OPACITY[c] ?? 1;
    rasterTriangle(
      ax - rect.x0,
      ay - rect.y0,
      bx - rect.x0,
      by - rect.y0,
      cx - rect.x0,
      cy - rect.y0,
      clip,
      (x, y, b0, b1, b2) => {
        const o = y * rw + x;
        const z = b0 * az + b1 * bz + b2 * cz;
        if (z >= (zbuf[o] ?? 0)) return;
        zbuf[o] = z;
        drawn[o] = 1;
        sx[o] = b0 * s0[0] + b1 * s1[0] + b2 * s2[0];
        sy[o] = b0 * s0[1] + b1 * s1[1] + b2 * s2[1];
        sz[o] = b0 * s0[2] + b1 * s1[2] + b2 * s2[2];
        mx[o] = b0 * m0[0] + b1 * m1[0] + b2 * m2[0];
        my[o] = b0 * m0[1] + b1 * m1[1] + b2 * m2[1];
        mz[o] = b0 * m0[2] + b1 * m1[2] + b2 * m2[2];
        dq[o] = b0 * da + b1 * db + b2 * dc;
        mq[o] = b0 * qa + b1 * qb + b2 * qc;
        alpha[o] = b0 * oa + b1 * ob + b2 * oc;
      },
    );
  }

  // Mirror weight per pixel: what the direct sample lacks, as far as the mirrored sample has it.
  const mw = new Float32Array(size);
  if (mirrorFill) {
    for (let o = 0; o < size; o++) {
      if (drawn[o] !== 1) continue;
      const direct = (dq[o] ?? 0) * seenAt(depth, sx[o] ?? 0, sy[o] ?? 0, sz[o] ?? 0);
      if (direct > 0.996) continue;
      mw[o] = (1 - direct) * (mq[o] ?? 0) * seenAt(depth, mx[o] ?? 0, my[o] ?? 0, mz[o] ?? 0);
    }
  }

  // The two sides of a face are rarely lit alike: match the mirrored samples' colour to the direct ones where
  // both are used (weighted toward even blends), so the fill does not show as a lighter or darker patch.
  const ca = new Float64Array(3);
  const cm = new Float64Array(3);
  const sumA = [0, 0, 0];
  const sumM = [0, 0, 0];
  for (let o = 0; o < size; o++) {
    const w = mw[o] ?? 0;
    if (w < 0.1 || w > 0.9) continue;
    sampleRgb(data, width, height, sx[o] ?? 0, sy[o] ?? 0, ca);
    sampleRgb(data, width, height, mx[o] ?? 0, my[o] ?? 0, cm);
    const k = w * (1 - w);
    for (let ch = 0; ch < 3; ch++) {
      sumA[ch] = (sumA[ch] ?? 0) + k * (ca[ch] ?? 0);
      sumM[ch] = (sumM[ch] ?? 0) + k * (cm[ch] ?? 0);
    }
  }
  const gain = [0, 1, 2].map((ch) =>
    (sumM[ch] ?? 0) > 1 ? Math.min(1.6, Math.max(0.6, (sumA[ch] ?? 0) / (sumM[ch] ?? 1))) : 1,
  );
  const [g0, g1, g2] = [gain[0] ?? 1, gain[1] ?? 1, gain[2] ?? 1];

  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) {
      const o = y * rw + x;
      if (drawn[o] !== 1) continue;
      const p = ((y + rect.y0) * width + x + rect.x0) * 3;
      const w = mw[o] ?? 0;
      sampleRgb(data, width, height, sx[o] ?? 0, sy[o] ?? 0, ca);
      if (w >= 0.004) {
        sampleRgb(data, width, height, mx[o] ?? 0, my[o] ?? 0, cm);
        ca[0] = (1 - w) * (ca[0] ?? 0) + w * g0 * (cm[0] ?? 0);
        ca[1] = (1 - w) * (ca[1] ?? 0) + w * g1 * (cm[1] ?? 0);
        ca[2] = (1 - w) * (ca[2] ?? 0) + w * g2 * (cm[2] ?? 0);
      }
      // Ease in over the outer rings (smoothstep of the opacity ramp), over what the field put there.
      const r = alpha[o] ?? 1;
      const k = r * r * (3 - 2 * r);
      out[p] = k * (ca[0] ?? 0) + (1 - k) * (out[p] ?? 0) + 0.5;
      out[p + 1] = k * (ca[1] ?? 0) + (1 - k) * (out[p + 1] ?? 0) + 0.5;
      out[p + 2] = k * (ca[2] ?? 0) + (1 - k) * (out[p + 2] ?? 0) + 0.5;
      faceMask[(y + rect.y0) * width + x + rect.x0] = 1;
    }
  }
  return rect;
}

/**
 * Bilinear sample of `data` at continuous position (x, y) (pixel centres at +0.5) into rgb[0..2] (0..255
 * floats). Positions outside the image clamp to the border.
 */
function sampleRgb(data: Uint8Array, width: number, height: number, x: number, y: number, rgb: Float64Array): void {
  const fx = Math.min(width - 1, Math.max(0, x - 0.5));
  const fy = Math.min(height - 1, Math.max(0, y - 0.5));
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const i00 = (y0 * width + x0) * 3;
  const i01 = (y0 * width + x1) * 3;
  const i10 = (y1 * width + x0) * 3;
  const i11 = (y1 * width + x1) * 3;
  const w00 = (1 - tx) * (1 - ty);
  const w01 = tx * (1 - ty);
  const w10 = (1 - tx) * ty;
  const w11 = tx * ty;
  for (let ch = 0; ch < 3; ch++) {
    rgb[ch] =
      w00 * (data[i00 + ch] ?? 0) +
      w01 * (data[i01 + ch] ?? 0) +
      w10 * (data[i10 + ch] ?? 0) +
      w11 * (data[i11 + ch] ?? 0);
  }
}

/**
 * The background, hair, ears and neck: a backward displacement field. At each face-outline point the field is
 * that point's own move (target minus source); between them inverse-distance weights spread it, and a falloff
 * that reaches zero at `reach` pixels from the nearest outline point keeps the background in place. It is
 * evaluated on a coarse grid (8 px) and interpolated, since it varies slowly. Pixels beyond reach are copied.
 */
function applyDisplacementField(
  image: RgbImage,
  src: Float32Array,
  dst: Float32Array,
  reach: number,
  out: Uint8Array,
): void {
  const { width, height, data } = image;
  out.set(data);
  const n = BOUNDARY.length;
  const ax = new Float64Array(n);
  const ay = new Float64Array(n);
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  // Outline points the turn takes behind the face carry nothing outside it (whatever was beside them is now
  // hidden too): they drop out, and the visible outline and the rest of the head lead the hair.
  const vis = new Float64Array(n);
  const facing = vertexFacing(dst);
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  let moved = 0;
  for (let k = 0; k < n; k++) {
    const i = BOUNDARY[k] ?? 0;
    vis[k] = 0.02 + 0.98 * smoothstep(-0.2, 0.1, facing[i] ?? 0);
    ax[k] = dst[i * 3] ?? 0;
    ay[k] = dst[i * 3 + 1] ?? 0;
    dx[k] = (dst[i * 3] ?? 0) - (src[i * 3] ?? 0);
    dy[k] = (dst[i * 3 + 1] ?? 0) - (src[i * 3 + 1] ?? 0);
    moved = Math.max(moved, Math.hypot(dx[k] ?? 0, dy[k] ?? 0));
    x0 = Math.min(x0, ax[k] ?? 0);
    y0 = Math.min(y0, ay[k] ?? 0);
    x1 = Math.max(x1, ax[k] ?? 0);
    y1 = Math.max(y1, ay[k] ?? 0);
  }
  if (moved < 0.05) return;
  const rx0 = Math.max(0, Math.floor(x0 - reach));
  const ry0 = Math.max(0, Math.floor(y0 - reach));
  const rx1 = Math.min(width, Math.ceil(x1 + reach));
  const ry1 = Math.min(height, Math.ceil(y1 + reach));
  if (rx0 >= rx1 || ry0 >= ry1) return;

  const step = 8;
  const gw = Math.ceil((rx1 - rx0) / step) + 1;
  const gh = Math.ceil((ry1 - ry0) / step) + 1;
  const gdx = new Float32Array(gw * gh);
  const gdy = new Float32Array(gw * gh);
  // Softening length: keeps the weights finite at the anchors and smooths over the outline's zig-zag (its points
  // alternate in depth, so a turn moves neighbours differently).
  const soft2 = (reach * 0.08) ** 2;
  for (let gy = 0; gy < gh; gy++) {
    const py = ry0 + gy * step;
    for (let gx = 0; gx < gw; gx++) {
      const px = rx0 + gx * step;
      let wsum = 0;
      let sx = 0;
      let sy = 0;
      let nearest2 = Number.POSITIVE_INFINITY;
      for (let k = 0; k < n; k++) {
        const ex = px - (ax[k] ?? 0);
        const ey = py - (ay[k] ?? 0);
        const d2 = ex * ex + ey * ey;
        const v = vis[k] ?? 0;
        if (v > 0.5 && d2 < nearest2) nearest2 = d2;
        const w = v / (d2 + soft2);
        wsum += w;
        sx += w * (dx[k] ?? 0);
        sy += w * (dy[k] ?? 0);
      }
      const fall = 1 - smoothstep(0, reach, Math.sqrt(nearest2));
      gdx[gy * gw + gx] = (sx / wsum) * fall;
      gdy[gy * gw + gx] = (sy / wsum) * fall;
    }
  }
  // Per row: interpolate the two grid rows once, then each 8-pixel cell linearly in x. Cells whose corners all
  // move less than a quarter pixel stay copied (the move would not show). Sampling is inlined: this loop covers
  // most of the photo.
  const rowDx = new Float32Array(gw);
  const rowDy = new Float32Array(gw);
  const still = 0.25 * 0.25;
  const maxX = width - 1;
  const maxY = height - 1;
  const rowBytes = width * 3;
  for (let y = ry0; y < ry1; y++) {
    const gyf = (y - ry0) / step;
    const gy = Math.min(gh - 2, Math.floor(gyf));
    const ty = gyf - gy;
    for (let gx = 0; gx < gw; gx++) {
      const g = gy * gw + gx;
      rowDx[gx] = (1 - ty) * (gdx[g] as number) + ty * (gdx[g + gw] as number);
      rowDy[gx] = (1 - ty) * (gdy[g] as number) + ty * (gdy[g + gw] as number);
    }
    for (let gx = 0; gx < gw - 1; gx++) {
      const ax0 = rowDx[gx] as number;
      const ay0 = rowDy[gx] as number;
      const ax1 = rowDx[gx + 1] as number;
      const ay1 = rowDy[gx + 1] as number;
      if (ax0 * ax0 + ay0 * ay0 < still && ax1 * ax1 + ay1 * ay1 < still) continue;
      const xs = rx0 + gx * step;
      const xe = Math.min(rx1, xs + step);
      // The source position moves linearly across the cell: step it instead of recomputing.
      const sdx = 1 - (ax1 - ax0) / step;
      const sdy = -(ay1 - ay0) / step;
      let px = xs - ax0;
      let py = y - ay0;
      for (let x = xs; x < xe; x++, px += sdx, py += sdy) {
        const fx = Math.max(0, Math.min(maxX, px));
        const fy = Math.max(0, Math.min(maxY, py));
        const x0 = fx | 0;
        const y0 = fy | 0;
        const u = fx - x0;
        const v = fy - y0;
        const i00 = (y0 * width + x0) * 3;
        const i01 = x0 < maxX ? i00 + 3 : i00;
        const i10 = y0 < maxY ? i00 + rowBytes : i00;
        const i11 = x0 < maxX ? i10 + 3 : i10;
        const w00 = (1 - u) * (1 - v);
        const w01 = u * (1 - v);
        const w10 = (1 - u) * v;
        const w11 = u * v;
        const o = (y * width + x) * 3;
        out[o] =
          w00 * (data[i00] as number) +
          w01 * (data[i01] as number) +
          w10 * (data[i10] as number) +
          w11 * (data[i11] as number) +
          0.5;
        out[o + 1] =
          w00 * (data[i00 + 1] as number) +
          w01 * (data[i01 + 1] as number) +
          w10 * (data[i10 + 1] as number) +
          w11 * (data[i11 + 1] as number) +
          0.5;
        out[o + 2] =
          w00 * (data[i00 + 2] as number) +
          w01 * (data[i01 + 2] as number) +
          w10 * (data[i10 + 2] as number) +
          w11 * (data[i11 + 2] as number) +
          0.5;
      }
    }
  }
}

/**
 * The head: the face plus hair and ears, which the mesh does not cover. An ellipse around the face outline,
 * raised and widened (hair sits above and beside the face), feathered over 15% of the face width, joined with
 * the face mask. A shape estimate, not a segmentation: no matting model with a clean license is available.
 */
function estimateHeadMask(
  dst: Float32Array,
  width: number,
  height: number,
  faceWidth: number,
  faceMask: Float32Array,
  faceRect: PixelRect,
): Float32Array {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < BOUNDARY.length; k++) {
    const i = BOUNDARY[k] ?? 0;
    x0 = Math.min(x0, dst[i * 3] ?? 0);
    x1 = Math.max(x1, dst[i * 3] ?? 0);
    y0 = Math.min(y0, dst[i * 3 + 1] ?? 0);
    y1 = Math.max(y1, dst[i * 3 + 1] ?? 0);
  }
  const fh = y1 - y0;
  const cx = (x0 + x1) / 2;
  const cy = y0 + fh * 0.38;
  const rx = Math.max(faceWidth, x1 - x0) * 0.68;
  const ry = fh * 0.78;
  const feather = faceWidth * 0.15;
  const mask = new Float32Array(width * height);
  const bx0 = Math.max(0, Math.floor(cx - rx - feather));
  const bx1 = Math.min(width, Math.ceil(cx + rx + feather));
  const by0 = Math.max(0, Math.floor(cy - ry - feather));
  const by1 = Math.min(height, Math.ceil(cy + ry + feather));
  for (let y = by0; y < by1; y++) {
    const ny = (y + 0.5 - cy) / ry;
    for (let x = bx0; x < bx1; x++) {
      const nx = (x + 0.5 - cx) / rx;
      // Approximate distance outside the ellipse in pixels: (r - 1) times the mean radius.
      const r = Math.sqrt(nx * nx + ny * ny);
      const outside = (r - 1) * Math.min(rx, ry);
      mask[y * width + x] = 1 - smoothstep(-feather / 2, feather / 2, outside);
    }
  }
  const pad = Math.ceil(faceWidth * 0.05) + 2;
  for (let y = Math.max(0, faceRect.y0 - pad); y < Math.min(height, faceRect.y1 + pad); y++) {
    for (let x = Math.max(0, faceRect.x0 - pad); x < Math.min(width, faceRect.x1 + pad); x++) {
      const i = y * width + x;
      if ((faceMask[i] ?? 0) > (mask[i] ?? 0)) mask[i] = faceMask[i] ?? 0;
    }
  }
  return mask;
}

/** Blurs `mask` within `rect` grown by the blur's reach and keeps the larger of blurred and original values. */
function featherOutward(mask: Float32Array, width: number, height: number, rect: PixelRect, radius: number): void {
  const pad = Math.ceil(radius * 2) + 2;
  const x0 = Math.max(0, rect.x0 - pad);
  const y0 = Math.max(0, rect.y0 - pad);
  const x1 = Math.min(width, rect.x1 + pad);
  const y1 = Math.min(height, rect.y1 + pad);
  const w = x1 - x0;
  const h = y1 - y0;
  if (w <= 0 || h <= 0) return;
  const region = new Float32Array(w * h);
  for (let y = 0; y < h; y++) region.set(mask.subarray((y + y0) * width + x0, (y + y0) * width + x1), y * w);
  const soft = boxBlur(region, w, h, radius, 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y + y0) * width + x + x0;
      const v = soft[y * w + x] ?? 0;
      if (v > (mask[i] ?? 0)) mask[i] = v;
    }
  }
}
