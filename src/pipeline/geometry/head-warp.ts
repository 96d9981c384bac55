import type { RgbImage } from '../types.js';
import { sampleGrid } from './grid-sample.js';
import { type HeadModel, headDisplacement, headRotation } from './head-model.js';
import { apply3, type Euler } from './linalg.js';
import type { HeadPose } from './pose.js';
import { signedArea } from './raster.js';
import { TRIANGLE_COUNT, TRIANGLES } from './triangles.js';

/**
 * The head turned as one piece: a smooth displacement field (head-model.ts) inverted per output pixel, applied
 * to the photo and to the person's alpha together. Nothing is pasted: every output pixel of the person layer comes
 * from exactly one place of the photo, so no second outline, ear or nose can appear, and what the head uncovers
 * is transparent (the engine shows the background plate there).
 *
 * The inverse of x -> x + d(x) is found per pixel by fixed-point iteration, p <- q - d(p). It converges because
 * the field is smooth (its slope stays well under 1 for the turns `cleanTurn` allows); a fold would need a turn
 * the engine does not make.
 */

export interface HeadWarp {
  image: RgbImage;
  /** w*h person alpha after the warp (0..1). */
  alpha: Float32Array;
  /** Grid (the head model's) of inverse displacements: the output cell centre q came from q + inverse(q). */
  inverse: Float32Array;
  grid: { width: number; height: number; cell: number };
  /** Largest displacement in pixels, for reports and tests. */
  maxShift: number;
}

const ITERATIONS = 6;

/** The displacement field (2 channels on the head model's grid) at image position (x, y). */
function sampleField(d: Float32Array, model: HeadModel, x: number, y: number, out: Float32Array): void {
  sampleGrid(d, 2, model.width, model.height, x / model.cell - 0.5, y / model.cell - 0.5, out);
}

/**
 * Turns the head of `image` (with person alpha `alpha`, w*h) to pose `to`. The inverse map is solved on the head
 * model's grid (a few tens of thousands of cells) and interpolated per pixel: the field is smooth, so nothing is
 * lost, and the per-pixel work is one bilinear lookup of the map and one of the photo.
 */
export function warpHead(image: RgbImage, alpha: Float32Array, model: HeadModel, to: Euler): HeadWarp {
  const { width, height, data } = image;
  const { width: gw, height: gh, cell } = model;
  const d = headDisplacement(model, to);
  // Inverse displacement per cell centre q: p - q where p + d(p) = q.
  const inv = new Float32Array(gw * gh * 2);
  const dv = new Float32Array(2);
  let maxShift = 0;
  let bx0 = gw;
  let by0 = gh;
  let bx1 = -1;
  let by1 = -1;
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const qx = (gx + 0.5) * cell;
      const qy = (gy + 0.5) * cell;
      let px = qx;
      let py = qy;
      for (let k = 0; k < ITERATIONS; k++) {
        sampleField(d, model, px, py, dv);
        px = qx - (dv[0] ?? 0);
        py = qy - (dv[1] ?? 0);
      }
      const o = gy * gw + gx;
      inv[o * 2] = px - qx;
      inv[o * 2 + 1] = py - qy;
      const m = Math.hypot(px - qx, py - qy);
      if (m > maxShift) maxShift = m;
      if (m > 0.05) {
        if (gx < bx0) bx0 = gx;
        if (gx > bx1) bx1 = gx;
        if (gy < by0) by0 = gy;
        if (gy > by1) by1 = gy;
      }
    }
  }
  const x0 = bx1 < 0 ? 0 : Math.max(0, Math.floor((bx0 - 1) * cell));
  const x1 = bx1 < 0 ? 0 : Math.min(width, Math.ceil((bx1 + 2) * cell));
  const y0 = bx1 < 0 ? 0 : Math.max(0, Math.floor((by0 - 1) * cell));
  const y1 = bx1 < 0 ? 0 : Math.min(height, Math.ceil((by1 + 2) * cell));

  const out = new Uint8Array(data.length);
  out.set(data);
  const outAlpha = alpha.slice();
  for (let y = y0; y < y1; y++) {
    const qy = y + 0.5;
    const fy = Math.min(gh - 1, Math.max(0, qy / cell - 0.5));
    const r0 = Math.floor(fy);
    const r1 = Math.min(gh - 1, r0 + 1);
    const ty0 = fy - r0;
    for (let x = x0; x < x1; x++) {
      const o = y * width + x;
      const qx = x + 0.5;
      const fx = Math.min(gw - 1, Math.max(0, qx / cell - 0.5));
      const c0 = Math.floor(fx);
      const c1 = Math.min(gw - 1, c0 + 1);
      const tx0 = fx - c0;
      const a00 = (r0 * gw + c0) * 2;
      const a10 = (r0 * gw + c1) * 2;
      const a01 = (r1 * gw + c0) * 2;
      const a11 = (r1 * gw + c1) * 2;
      const ix0 =
        (inv[a00]! + (inv[a10]! - inv[a00]!) * tx0) * (1 - ty0) + (inv[a01]! + (inv[a11]! - inv[a01]!) * tx0) * ty0;
      const iy0 =
        (inv[a00 + 1]! + (inv[a10 + 1]! - inv[a00 + 1]!) * tx0) * (1 - ty0) +
        (inv[a01 + 1]! + (inv[a11 + 1]! - inv[a01 + 1]!) * tx0) * ty0;
      if (ix0 * ix0 + iy0 * iy0 < 1e-4) continue;
      // Bilinear sample of the photo and the alpha where the pixel came from, clamped at the borders.
      const sx = Math.min(width - 1, Math.max(0, qx + ix0 - 0.5));
      const sy = Math.min(height - 1, Math.max(0, qy + iy0 - 0.5));
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const jx = Math.min(width - 1, ix + 1);
      const jy = Math.min(height - 1, iy + 1);
      const tx = sx - ix;
      const ty = sy - iy;
      const w00 = (1 - tx) * (1 - ty);
      const w10 = tx * (1 - ty);
      const w01 = (1 - tx) * ty;
      const w11 = tx * ty;
      const i00 = iy * width + ix;
      const i10 = iy * width + jx;
      const i01 = jy * width + ix;
      const i11 = jy * width + jx;
      for (let c = 0; c < 3; c++) {
        out[o * 3 + c] =
          data[i00 * 3 + c]! * w00 +
          data[i10 * 3 + c]! * w10 +
          data[i01 * 3 + c]! * w01 +
          data[i11 * 3 + c]! * w11 +
          0.5;
      }
      outAlpha[o] = alpha[i00]! * w00 + alpha[i10]! * w10 + alpha[i01]! * w01 + alpha[i11]! * w11;
    }
  }
  return {
    image: { data: out, width, height, channels: 3 },
    alpha: outAlpha,
    inverse: inv,
    grid: { width: gw, height: gh, cell },
    maxShift,
  };
}

/**
 * How much of the turned face the photo never showed: the share of the face's area after the turn that comes
 * from surface the photo saw at a grazing angle (a triangle more than STRETCH_OK times larger than in the photo)
 * or not at all (turned away from the camera). Measured on the mesh, which is exact where the field is smooth.
 */
const STRETCH_OK = 1.6;

export function inventedShare(points: Float32Array, pose: HeadPose, to: Euler): number {
  const { delta, pivot } = headRotation(pose, to);
  let total = 0;
  let invented = 0;
  const moved = new Float32Array(points.length);
  for (let i = 0; i + 2 < points.length; i += 3) {
    const q = apply3(
      delta,
      (points[i] ?? 0) - pivot[0],
      (points[i + 1] ?? 0) - pivot[1],
      (points[i + 2] ?? 0) - pivot[2],
    );
    moved[i] = q[0] + pivot[0];
    moved[i + 1] = q[1] + pivot[1];
    moved[i + 2] = q[2] + pivot[2];
  }
  // Which winding faces the camera: the mesh's own majority in the photo.
  let sign = 0;
  for (let t = 0; t < TRIANGLE_COUNT; t++) sign += Math.sign(area(points, t));
  const facing = sign >= 0 ? 1 : -1;
  for (let t = 0; t < TRIANGLE_COUNT; t++) {
    const after = area(moved, t) * facing;
    if (after <= 0) continue;
    const before = Math.max(0, area(points, t) * facing);
    total += after;
    invented += Math.max(0, after - STRETCH_OK * before);
  }
  return total > 0 ? invented / total : 0;
}

function area(p: Float32Array, t: number): number {
  const a = (TRIANGLES[t * 3] ?? 0) * 3;
  const b = (TRIANGLES[t * 3 + 1] ?? 0) * 3;
  const c = (TRIANGLES[t * 3 + 2] ?? 0) * 3;
  return signedArea(p[a] ?? 0, p[a + 1] ?? 0, p[b] ?? 0, p[b + 1] ?? 0, p[c] ?? 0, p[c + 1] ?? 0) / 2;
}

/**
 * The most the engine turns a head per axis, however clean the measure says the turn is: the head model is a
 * smooth stand-in, and past these the neck's shear and the flattened ears show. Roll reveals nothing new; the
 * compositor renders it by turning the whole frame (compose/frame-roll.ts), which must be enlarged to keep its
 * corners filled: 14 degrees already costs a fifth of the frame. Lowering the chin slides the face down under a
 * skull top the photo holds still: at 14 degrees the forehead stretched tall and the lower face squashed on six of
 * six photos looked at (a blonde's forehead half again as tall); at 10 it reads as a nod.
 */
export const CLEAN_TURN_LIMITS: Readonly<Euler> = { yaw: 20, pitch: 10, roll: 14 };
/**
 * Raising the chin shows the underside of the jaw and the throat, which the photo never saw: past 8 degrees the chin
 * stretched into streaks on a blind panel's screens. Lowering it hides the throat; its limit
 * (CLEAN_TURN_LIMITS.pitch) is set by the forehead.
 */
export const CHIN_UP_LIMIT = 8;
/**
 * Share of the turned face the photo may not have shown (stretched or hidden) before the turn stops. At 5% most
 * three-quarter turns stopped at 13 to 17 degrees; at 8% they reach 16 to 20. Blind paired panels on the portraits of
 * 74 photos that changed preferred the fuller turn: 169 to 61 on 117 three-quarter turns ("fuller turn, same
 * quality"), 29 to 10 on 15 turns to the front. Against it: glasses bend further on a face turned more (two photos
 * with glasses, 1 to 9).
 */
export const INVENTED_LIMIT = 0.08;
/**
 * Where a turn's field folds (headSqueeze under 0), the least share of its area any part of the head may keep: the
 * turn is held back to it. A turn further toward the side a selfie already faces moves the face across a head side
 * that hardly moves; where that folded, the far temple's hair was pulled back over itself, the far cheek and forehead
 * met the wall in a straight cut, and mouth and jaw skewed (tabn-6 and tabn-1 turned about 19 degrees to their
 * right; held back to 12, blind raters preferred them 6 to 0: "L turns more but warps face; R more natural").
 */
export const SQUEEZE_LIMIT = 0.3;

/**
 * The least share of its area any part of the head keeps when turned (1 + the field's divergence, as the Jacobian's
 * determinant): where the turn moves the face further than the head's side beside it, the strip between them is
 * squeezed, and past a fold it is gone. Cells the head moves as a whole (follow above a half) only.
 */
export function headSqueeze(model: HeadModel, to: Euler): number {
  const { width: gw, height: gh, cell } = model;
  const d = headDisplacement(model, to);
  const h = 1 / (2 * cell);
  let least = 1;
  for (let gy = 1; gy < gh - 1; gy++) {
    for (let gx = 1; gx < gw - 1; gx++) {
      const o = gy * gw + gx;
      if ((model.follow[o] ?? 0) < 0.5) continue;
      const l = (o - 1) * 2;
      const r = (o + 1) * 2;
      const u = (o - gw) * 2;
      const b = (o + gw) * 2;
      const xx = 1 + ((d[r] ?? 0) - (d[l] ?? 0)) * h;
      const yy = 1 + ((d[b + 1] ?? 0) - (d[u + 1] ?? 0)) * h;
      const xy = ((d[b] ?? 0) - (d[u] ?? 0)) * h;
      const yx = ((d[r + 1] ?? 0) - (d[l + 1] ?? 0)) * h;
      const det = xx * yy - xy * yx;
      if (det < least) least = det;
    }
  }
  return least;
}

export interface CleanTurn {
  /** The pose the engine renders: `from` moved toward `to` as far as stays clean. */
  rendered: Euler;
  /** 0..1: how much of the way from `from` to `to` that is. */
  fraction: number;
  /** Invented share at the rendered pose. */
  invented: number;
}

/**
 * The largest turn from the photo's pose `from` toward `to` that stays within CLEAN_TURN_LIMITS and invents at most
 * INVENTED_LIMIT of the face: a bisection on the fraction of the way (the invented share grows with the turn). Given
 * the head model `head`, a turn whose field folds is held back further, to SQUEEZE_LIMIT. `room` (0..1) scales the
 * yaw and pitch limits for a face that reaches the frame's edges, where the field must fade out (the roll turns the
 * whole frame and needs no room, nor is it part of the head's turn whose squeeze is measured).
 */
export function cleanTurn(points: Float32Array, from: HeadPose, to: Euler, room = 1, head?: HeadModel): CleanTurn {
  const axes = ['yaw', 'pitch', 'roll'] as const;
  let cap = 1;
  for (const a of axes) {
    const d = Math.abs(to[a] - from[a]);
    const limit =
      (a === 'pitch' && to.pitch > from.pitch ? CHIN_UP_LIMIT : CLEAN_TURN_LIMITS[a]) * (a === 'roll' ? 1 : room);
    if (d > limit) cap = Math.min(cap, limit / d);
  }
  const at = (t: number): Euler => ({
    yaw: from.yaw + (to.yaw - from.yaw) * t,
    pitch: from.pitch + (to.pitch - from.pitch) * t,
    roll: from.roll + (to.roll - from.roll) * t,
  });
  let fraction = largest((t) => inventedShare(points, from, at(t)) <= INVENTED_LIMIT, cap, 8);
  // Only a turn whose field folds is held back, and then to where nothing is squeezed hard. Held to that everywhere,
  // 54 turns that squeezed without folding lost a blind paired panel 37 to 97 ("fuller turn, no added artifacts").
  // Where a fold is slight the held turn can look the same as the full one and lose on its caption's smaller number
  // (6 more held turns of the review set: 2 to 10, "near identical; R turns slightly further"); a fold that shows
  // breaks the portrait (tabn-6, tabn-1), which no few degrees make up for.
  // The squeeze costs a field per step: it is looked for only within the turn the face allows, and more coarsely.
  const squeeze = (t: number) => (head ? headSqueeze(head, { ...at(t), roll: from.roll }) : 1);
  // No turn squeezes nothing: a request that leaves the pose as it is (a style, a light) costs no field.
  if (fraction > 0 && squeeze(fraction) < 0) fraction = largest((t) => squeeze(t) >= SQUEEZE_LIMIT, fraction, 6);
  return { rendered: at(fraction), fraction, invented: inventedShare(points, from, at(fraction)) };
}

/** The largest t in [0, hi] for which `ok` holds, by bisection in `steps` (`ok` holds up to some t, not past it). */
function largest(ok: (t: number) => boolean, hi: number, steps: number): number {
  if (ok(hi)) return hi;
  let lo = 0;
  let top = hi;
  for (let k = 0; k < steps; k++) {
    const mid = (lo + top) / 2;
    if (ok(mid)) lo = mid;
    else top = mid;
  }
  return lo;
}

/**
 * A plane of the photo (w x h, 0..1) moved as `warp` moved the person: each pixel takes the value where it came
 * from (bilinear, clamped at the borders). For masks that must follow the turned head.
 */
export function warpPlane(plane: ArrayLike<number>, width: number, height: number, warp: HeadWarp): Float32Array {
  const { width: gw, height: gh, cell } = warp.grid;
  const out = new Float32Array(width * height);
  const d = new Float32Array(2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      sampleGrid(warp.inverse, 2, gw, gh, (x + 0.5) / cell - 0.5, (y + 0.5) / cell - 0.5, d);
      // The plane is a grid of one value per pixel: pixel (x, y) came from (x, y) + the inverse displacement.
      sampleGrid(plane, 1, width, height, x + d[0]!, y + d[1]!, out, y * width + x);
    }
  }
  return out;
}
