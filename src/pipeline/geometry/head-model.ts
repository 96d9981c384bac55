import { boxBlur, type Grid, gridFor, rasterizeMesh } from '../lighting/mesh-raster.js';
import { apply3, type Euler, type Mat3, multiply3, rotationFromEuler, transpose3 } from './linalg.js';
import type { HeadPose } from './pose.js';
import { TRIANGLES } from './triangles.js';

/**
 * A 3D stand-in for the whole head, so face, hair, ears and neck turn as one piece.
 *
 * The face mesh only covers forehead to chin and cheek to cheek. Around it the head is an ellipsoid in the head's
 * own frame (the reference face's units: 100 between the cheeks, y down, z away from the camera; nose tip at
 * z -37, chin at y +59): centre (0, -12, HEAD_CENTRE_Z), semi-axes HEAD_AXES, posed with the head pose the mesh
 * gave. On a grid over the photo each cell gets a depth: the mesh's own depth where the mesh is (nose, brows and
 * cheeks keep their relief), the ellipsoid's front surface around it (hair, ears, temples), blended over a few
 * cells after shifting the ellipsoid to meet the mesh at the face's edge, and smoothed so no fold or spike
 * survives. Cells beside the head's outline take the outline's depth (the depth of the ellipsoid's silhouette),
 * so the field stays continuous into hair that sticks out beyond the ellipsoid.
 *
 * Each cell also gets how much of the head's rotation it follows (`follow`): all of it above the chin, fading
 * down the neck to nothing on the shoulders, and fading with distance outside the head's outline, so shoulders,
 * raised hands and the photo's edges stay where they are.
 */

const HEAD_CENTRE: readonly [number, number, number] = [0, -12, 42];
const HEAD_AXES: readonly [number, number, number] = [60, 80, 78];
/** Where the head turns: behind the jaw, about where the skull sits on the neck (reference units). */
export const HEAD_PIVOT: readonly [number, number, number] = [0, 30, 42];
/** The chin's height in the reference, and how far below it the neck stops following the head. */
const CHIN_Y = 59;
const NECK_FADE = 55;

/**
 * The body below the head for lighting: an upright column, rounded like a neck and a torso, under the skull's
 * centre (reference units below the chin). Lit as a plane facing the camera, a side light lit the face's half and
 * left neck and shoulders one flat tone, so split's shadow half ended at the jaw above a lit neck, a mask on a body
 * the light never touched (a blind paired panel on split portraits of 74 photos: 76 to 45 for the column).
 */
const BODY = {
  /** Half the neck's width, and the shoulders' (the cheeks are 100 apart). */
  neck: 38,
  shoulders: 125,
  /** Where the neck widens into the shoulders, below the chin. */
  shouldersFrom: 40,
  shouldersTo: 100,
  /** How far the column's sides turn away (the normal's sideways share at its edge): a torso is flatter than a tube. */
  round: 0.75,
} as const;

export interface HeadModel extends Grid {
  /** Depth per cell (image px, z away from the camera, same units as the mesh's z). */
  depth: Float32Array;
  /** Share of the head's rotation each cell follows (0..1). */
  follow: Float32Array;
  /** 1 where the face mesh is, fading to 0 around it. */
  face: Float32Array;
  /**
   * The head's broad shape for lighting, per cell: the ellipsoid's unit normal in the camera frame (x right, y up,
   * z toward the camera), continued outward past the outline (hair beyond the ellipsoid faces the way the head's
   * side does), turning to face the camera down the neck where the head stops.
   */
  normals: Float32Array;
  /**
   * The surface the photo's own light is read at (unit normals as `normals`): the head's, and below it a body facing
   * the camera. The photo's light is fitted on the face; read at the body's turned sides it made a sweater's side lit
   * in the photo far brighter than it was, and divided out it dimmed that side, a body lit against the face (blind
   * raters: "the chest lit oppositely").
   */
  photoNormals: Float32Array;
  /**
   * The surface of what is not head, per cell (unit normals as `normals`): the body's column below the chin, facing
   * the camera above it; off the member (confineToMember) the wall, facing the camera.
   */
  body: Float32Array;
  pose: HeadPose;
  /**
   * Where set, how much of the turn's displacement each cell keeps (0..1), applied last (after the field is
   * smoothed, which would spread it again): see `confineToMember`.
   */
  confine?: Float32Array;
  /**
   * Where set, how much of the head's own light each cell takes (0..1): 0 where its normals were turned to face the
   * camera as the body's (lightAsHeadOnly). Such a cell may be dragged along by the turn, but its light does not turn
   * with the head (see personLight).
   */
  headLight?: Float32Array;
  /**
   * Where set (a frame turned whole, see confineToMember), how surely each cell is the member (0..1), falling to 0
   * just inside the mask's edge: only there may the relight brighten (personLight), so no lit rim spills onto the
   * wall.
   */
  member?: Float32Array;
}

/** Image-frame position of a point given in the head's reference frame. */
export function headToImage(pose: HeadPose, x: number, y: number, z: number): [number, number, number] {
  const q = apply3(pose.rotation, x, y, z);
  return [
    pose.translation[0] + pose.scale * q[0],
    pose.translation[1] + pose.scale * q[1],
    pose.translation[2] + pose.scale * q[2],
  ];
}

/**
 * The head model on a grid of about `cellsAcross` cells over a `width` x `height` image. `points` is the face mesh
 * (468 x, y, z) in the image's pixels, `pose` its head pose (estimateHeadPose of the same mesh).
 */
export function buildHeadModel(
  points: Float32Array,
  pose: HeadPose,
  width: number,
  height: number,
  cellsAcross = 192,
): HeadModel {
  const grid = gridFor(width, height, Math.max(1, Math.max(width, height) / cellsAcross));
  const { width: gw, height: gh, cell } = grid;
  const n = gw * gh;

  // The mesh's own depth where it covers a cell (nearest surface).
  const raster = rasterizeMesh(points, TRIANGLES, grid);
  const meshDepth = new Float32Array(n);
  const covered = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const t = raster.tri[o] ?? -1;
    if (t < 0) continue;
    const a = TRIANGLES[t * 3] ?? 0;
    const b = TRIANGLES[t * 3 + 1] ?? 0;
    const c = TRIANGLES[t * 3 + 2] ?? 0;
    const w0 = raster.w0[o] ?? 0;
    const w1 = raster.w1[o] ?? 0;
    meshDepth[o] =
      w0 * (points[a * 3 + 2] ?? 0) + w1 * (points[b * 3 + 2] ?? 0) + (1 - w0 - w1) * (points[c * 3 + 2] ?? 0);
    covered[o] = 1;
  }

  // The ellipsoid along each cell's line of sight (orthographic: x, y fixed, z free). In the head frame the line is
  // r(t) = r0 + t v with v = R^T e_z / s; the ellipsoid's quadratic form along it is a t^2 + b t + c.
  const rt = transpose3(pose.rotation);
  const v = apply3(rt, 0, 0, 1 / pose.scale);
  const ellDepth = new Float32Array(n);
  const radius = new Float32Array(n);
  const headY = new Float32Array(n);
  const broadNormals = new Float32Array(n * 3);
  const [ax, ay, az] = HEAD_AXES;
  const iv = [v[0] / ax, v[1] / ay, v[2] / az];
  const qa = iv[0]! * iv[0]! + iv[1]! * iv[1]! + iv[2]! * iv[2]!;
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const o = gy * gw + gx;
      const x = (gx + 0.5) * cell;
      const y = (gy + 0.5) * cell;
      // r0: the head-frame point at image depth 0 on this line, relative to the ellipsoid's centre, scaled.
      // (Inlined R^T p: this loop runs for every cell, and small arrays per cell cost more than the math.)
      const px = (x - pose.translation[0]) / pose.scale;
      const py = (y - pose.translation[1]) / pose.scale;
      const pz = -pose.translation[2] / pose.scale;
      const r0y = rt[3]! * px + rt[4]! * py + rt[5]! * pz;
      const u0 = (rt[0]! * px + rt[1]! * py + rt[2]! * pz - HEAD_CENTRE[0]) / ax;
      const u1 = (r0y - HEAD_CENTRE[1]) / ay;
      const u2 = (rt[6]! * px + rt[7]! * py + rt[8]! * pz - HEAD_CENTRE[2]) / az;
      const qb = 2 * (u0 * iv[0]! + u1 * iv[1]! + u2 * iv[2]!);
      const qc = u0 * u0 + u1 * u1 + u2 * u2 - 1;
      const tMid = -qb / (2 * qa);
      const disc = qb * qb - 4 * qa * qc;
      // Minimum of the form along the line + 1: the squared "elliptical radius" of the line (< 1 inside the outline).
      const rho = qc + 1 - (qb * qb) / (4 * qa);
      radius[o] = Math.sqrt(Math.max(0, rho));
      const t = disc > 0 ? (-qb - Math.sqrt(disc)) / (2 * qa) : tMid;
      ellDepth[o] = t;
      // Broad normal: the ellipsoid's gradient at the surface point; where the line misses the ellipsoid, at its
      // closest point, which faces sideways like the rim (hair beyond the outline continues the head's side).
      const h0 = (u0 + t * iv[0]!) / ax;
      const h1 = (u1 + t * iv[1]!) / ay;
      const h2 = (u2 + t * iv[2]!) / az;
      const R = pose.rotation;
      const n0 = R[0]! * h0 + R[1]! * h1 + R[2]! * h2;
      const n1 = R[3]! * h0 + R[4]! * h1 + R[5]! * h2;
      const n2 = R[6]! * h0 + R[7]! * h1 + R[8]! * h2;
      const nl = Math.sqrt(n0 * n0 + n1 * n1 + n2 * n2) || 1;
      // Image frame (y down, z away) to camera frame (y up, z toward the camera).
      broadNormals[o * 3] = n0 / nl;
      broadNormals[o * 3 + 1] = -n1 / nl;
      broadNormals[o * 3 + 2] = -n2 / nl;
      // Height in the head frame of the surface point, for the neck fade.
      headY[o] = r0y + t * v[1];
    }
  }

  // Shift the ellipsoid to meet the mesh along the face's edge (median difference over the mesh's outer cells).
  const face = boxBlur(covered, gw, gh, 1, Math.max(1, Math.round(gw / 100)), 2);
  const diffs: number[] = [];
  for (let o = 0; o < n; o++) {
    const f = face[o] ?? 0;
    if ((covered[o] ?? 0) > 0 && f < 0.75) diffs.push((meshDepth[o] ?? 0) - (ellDepth[o] ?? 0));
  }
  diffs.sort((p, q) => p - q);
  const shift = diffs.length > 0 ? (diffs[diffs.length >> 1] ?? 0) : 0;

  // Blend mesh and ellipsoid, then smooth: the relief of nose and brows stays, edges and folds soften.
  const blend = boxBlur(covered, gw, gh, 1, Math.max(1, Math.round(gw / 24)), 2);
  const depth = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    // 0 at the mesh's edge (where the blurred coverage is one half) rising to 1 inside: no depth step at the edge.
    const inside = Math.min(1, Math.max(0, ((blend[o] ?? 0) - 0.5) * 2.5));
    const head = (ellDepth[o] ?? 0) + shift;
    // The mesh's outline runs back past the head's side (MediaPipe puts it near the ears): no part of the face
    // may lie behind the head's own surface, or the two would move apart and fold the cheek.
    const face = Math.min(meshDepth[o] ?? 0, head);
    depth[o] = inside * face + (1 - inside) * head;
  }
  const smooth = boxBlur(depth, gw, gh, 1, Math.max(1, Math.round(gw / 128)), 2);

  const follow = new Float32Array(n);
  // Nothing can come from beyond the photo's edge: the field fades out toward the borders (close-ups fill them).
  const margin = Math.max(2, gw * 0.06);
  for (let o = 0; o < n; o++) {
    const neck = 1 - smoothstep(CHIN_Y, CHIN_Y + NECK_FADE, headY[o] ?? 0);
    const out = 1 - smoothstep(1.35, 2.1, radius[o] ?? 0);
    const gx = o % gw;
    const gy = Math.floor(o / gw);
    const edge = Math.min(gx + 0.5, gw - gx - 0.5, gy + 0.5, gh - gy - 0.5);
    follow[o] = neck * out * smoothstep(0, margin, edge);
  }
  const smoothFollow = boxBlur(follow, gw, gh, 1, Math.max(1, Math.round(gw / 64)), 2);
  // Down the neck the broad normal turns to the body's.
  const blurred = boxBlur(broadNormals, gw, gh, 3, Math.max(1, Math.round(gw / 40)), 2);
  const body = bodyNormals(pose, grid);
  const head = (o: number) => 1 - smoothstep(CHIN_Y, CHIN_Y + NECK_FADE, headY[o] ?? 0);
  const normals = blendNormals(blurred, body, head);
  const photoNormals = blendNormals(blurred, undefined, head);
  return { ...grid, depth: smooth, follow: smoothFollow, face, normals, photoNormals, body, pose };
}

/**
 * The body's column (BODY) on the grid: upright in the photo whatever the head does, centred under the skull, its
 * normal turning sideways across its width. It starts facing the camera at the chin and takes its shape over the
 * neck, so the head's own normals blend into it without a turn of their own.
 */
function bodyNormals(pose: HeadPose, grid: Grid): Float32Array {
  const { width: gw, height: gh, cell } = grid;
  const [axisX] = headToImage(pose, 0, CHIN_Y, HEAD_CENTRE[2]);
  const [, chinY] = headToImage(pose, 0, CHIN_Y, 0);
  const body = new Float32Array(gw * gh * 3);
  for (let gy = 0; gy < gh; gy++) {
    const below = ((gy + 0.5) * cell - chinY) / pose.scale;
    const half =
      pose.scale * (BODY.neck + (BODY.shoulders - BODY.neck) * smoothstep(BODY.shouldersFrom, BODY.shouldersTo, below));
    const shape = BODY.round * smoothstep(0, NECK_FADE, below);
    for (let gx = 0; gx < gw; gx++) {
      const o = gy * gw + gx;
      const u = Math.min(1, Math.max(-1, ((gx + 0.5) * cell - axisX) / half)) * shape;
      body[o * 3] = u;
      body[o * 3 + 2] = Math.sqrt(1 - u * u);
    }
  }
  return body;
}

/**
 * The model with its turn confined to the member and a margin round them (`mask`: the member, 0..1, over the
 * `width` x `height` image the model was built for). Where the member is not cut out (their outline is a guess the
 * photo does not show), the whole frame turns as one, and the field reaches far beyond the head (to twice the
 * head's radius, for hair that stands out): a tiled wall beside a turned head bent into waves with it. Confined, the
 * wall a little way off the head stays straight; the margin covers hair the mask may have missed.
 */
export function confineToMember(model: HeadModel, mask: ArrayLike<number>, width: number, height: number): HeadModel {
  const { width: gw, height: gh } = model;
  const cells = cellMax(model, width, height, (i) => mask[i] ?? 0);
  // A box blur of a 0/1 plane read at "any of it" is a dilation by its radius; a second blur fades the edge.
  const reach = Math.max(1, Math.round(Math.max(gw, gh) * MEMBER_MARGIN));
  const grown = boxBlur(cells, gw, gh, 1, reach, 1);
  for (let o = 0; o < grown.length; o++) grown[o] = (grown[o] ?? 0) > 0.02 ? 1 : 0;
  const weight = boxBlur(grown, gw, gh, 1, reach, 2);
  for (let o = 0; o < weight.length; o++) weight[o] = Math.min(1, weight[o] ?? 0);
  // Off the member the frame is the photo's wall, lit as a wall: the head's broad normals go on sideways past its
  // outline (for hair beyond it), and a sky beside a turned head was lit as the head's side, a bright wedge ending
  // along the line of the chin. Off the mask the surface faces the camera; the change is made just inside the
  // mask's edge (made across it, the wall along a head lit from the other side showed a grey ring round the hair),
  // and not on the face, fading out over the margin round it (where short hair brings the mask's edge near the
  // temples, the light kinked along the face's outline).
  const near = Math.max(1, Math.round(reach / 3));
  const on = boxBlur(cells, gw, gh, 1, near, 2);
  const face = boxBlur(model.face, gw, gh, 1, reach, 2);
  const member = new Float32Array(on.length);
  for (let o = 0; o < on.length; o++) member[o] = smoothstep(0.5, 1, on[o] ?? 0);
  const keep = (o: number) => Math.max(member[o] ?? 0, Math.min(1, face[o] ?? 0));
  const normals = blendNormals(model.normals, undefined, keep);
  const photoNormals = blendNormals(model.photoNormals, undefined, keep);
  const body = blendNormals(model.body, undefined, (o) => member[o] ?? 0);
  return { ...model, confine: weight, normals, photoNormals, body, member };
}

/**
 * The model lit as a head only where the member is head: the face, hair and skin (`hair`, `skin`: 0..1 over the
 * `width` x `height` image the model was built for). The head's ellipsoid reaches past the jaw toward where the
 * face points, and past the outline (for hair beyond it); what the member's mask holds there that is neither hair
 * nor skin (a collar, a hat's brim, or wall the mask took for the person) faces the camera, as the body does. Lit
 * as the head's side, a bright neon-lit wall the selfie model had joined to the member between chin and raised arm
 * was divided by the photo's own strong side light and came out a flat grey blob beside the chin, on every request
 * (a blind panel rated every portrait of that photo broken).
 */
export function lightAsHeadOnly(
  model: HeadModel,
  hair: ArrayLike<number>,
  skin: ArrayLike<number>,
  width: number,
  height: number,
): HeadModel {
  const { width: gw, height: gh } = model;
  const cells = cellMax(model, width, height, (i) => Math.max(hair[i] ?? 0, skin[i] ?? 0));
  // Softened over a few cells, so the light turns gradually where hair or skin ends.
  const reach = Math.max(1, Math.round(gw / 64));
  const head = boxBlur(cells, gw, gh, 1, reach, 2);
  // The face mesh is head whatever the masks say (glasses, a beard, a hand on the cheek), and the light turns
  // gradually past its outline.
  const face = boxBlur(model.face, gw, gh, 1, Math.max(1, Math.round(Math.max(gw, gh) * MEMBER_MARGIN)), 2);
  const headLight = new Float32Array(gw * gh);
  for (let o = 0; o < headLight.length; o++) {
    headLight[o] = Math.min(1, Math.max(smoothstep(0.2, 0.6, head[o] ?? 0), 2 * (face[o] ?? 0)));
  }
  const keep = (o: number) => headLight[o] ?? 1;
  const normals = blendNormals(model.normals, model.body, keep);
  const photoNormals = blendNormals(model.photoNormals, undefined, keep);
  return { ...model, normals, photoNormals, headLight };
}

/** The most of `value(pixel)` over each of the model's grid cells. */
function cellMax(model: HeadModel, width: number, height: number, value: (i: number) => number): Float32Array {
  const { width: gw, height: gh, cell } = model;
  const cells = new Float32Array(gw * gh);
  for (let y = 0; y < height; y++) {
    const row = Math.min(gh - 1, Math.floor(y / cell)) * gw;
    for (let x = 0; x < width; x++) {
      const o = row + Math.min(gw - 1, Math.floor(x / cell));
      const v = value(y * width + x);
      if (v > (cells[o] ?? 0)) cells[o] = v;
    }
  }
  return cells;
}

/**
 * Unit normals (xyz per cell) turned toward `rest` by 1 - keep(cell): keep 1 leaves a normal, 0 gives rest's (left
 * out, facing the camera).
 */
function blendNormals(source: Float32Array, rest: Float32Array | undefined, keep: (o: number) => number): Float32Array {
  const normals = new Float32Array(source.length);
  for (let o = 0; o < source.length / 3; o++) {
    const w = keep(o);
    const x = (source[o * 3] ?? 0) * w + (rest ? (rest[o * 3] ?? 0) : 0) * (1 - w);
    const y = (source[o * 3 + 1] ?? 0) * w + (rest ? (rest[o * 3 + 1] ?? 0) : 0) * (1 - w);
    const z = (source[o * 3 + 2] ?? 1) * w + (rest ? (rest[o * 3 + 2] ?? 1) : 1) * (1 - w);
    const l = Math.hypot(x, y, z) || 1;
    normals[o * 3] = x / l;
    normals[o * 3 + 1] = y / l;
    normals[o * 3 + 2] = z / l;
  }
  return normals;
}

/**
 * How far past the member's mask the turn still reaches, fully and then fading, as a share of the frame's side. The
 * background there bends with the head: over 3% the edge of a tower or a door frame beside a turned head waved
 * along the mask's outline; over 7% it bends once, gently.
 */
const MEMBER_MARGIN = 0.07;

function smoothstep(a: number, b: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
}

/** The rotation that takes the head from its pose in the photo to `to`, with the pivot in image coordinates. */
export function headRotation(pose: HeadPose, to: Euler): { delta: Mat3; pivot: [number, number, number] } {
  // A turn (the change of yaw) is about the photo's vertical, as a person turns their head on an upright neck; a
  // nod or a change of roll stays in the head's own frame. Turned about the head's own vertical, which the pose
  // leans with its pitch and roll (a selfie taken from above reads as a head bowed 13 to 18 degrees), the near
  // cheek swung down and the far one up: eyes and mouth tilted against the selfie, a skewed jaw. A blind paired
  // panel on 76 turns of 38 photos preferred the upright axis (see docs/compositor.md).
  const nod = multiply3(rotationFromEuler({ ...to, yaw: pose.yaw }), transpose3(pose.rotation));
  const delta = multiply3(rotationFromEuler({ yaw: to.yaw - pose.yaw, pitch: 0, roll: 0 }), nod);
  const pivot = headToImage(pose, HEAD_PIVOT[0], HEAD_PIVOT[1], HEAD_PIVOT[2]);
  return { delta, pivot };
}

/**
 * Forward displacement per cell (image px, x and y interleaved): where each cell's surface point goes when the head
 * turns from its pose to `to`, times the share of the turn the cell follows.
 */
export function headDisplacement(model: HeadModel, to: Euler): Float32Array {
  const { width: gw, height: gh, cell } = model;
  const { delta, pivot } = headRotation(model.pose, to);
  const d = new Float32Array(gw * gh * 2);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const o = gy * gw + gx;
      const f = model.follow[o] ?? 0;
      if (f <= 1e-3) continue;
      const x = (gx + 0.5) * cell - pivot[0];
      const y = (gy + 0.5) * cell - pivot[1];
      const z = (model.depth[o] ?? 0) - pivot[2];
      d[o * 2] = (delta[0]! * x + delta[1]! * y + delta[2]! * z - x) * f;
      d[o * 2 + 1] = (delta[3]! * x + delta[4]! * y + delta[5]! * z - y) * f;
    }
  }
  // Around the face the head model is only a guess, and the ellipsoid's steep sides would stretch ears and hair
  // into streaks as they come into view: there the head moves as a smooth, nearly rigid piece (a wide blur of the
  // field). The face keeps its own relief (the nose moves more than the cheeks).
  const wide = boxBlur(d, gw, gh, 2, Math.max(1, Math.round(gw / 20)), 3);
  const keep = boxBlur(model.face, gw, gh, 1, Math.max(1, Math.round(gw / 30)), 2);
  // Nothing can come from beyond the photo's edge: the field (blur included) falls to zero at the borders, or the
  // pixels there would be drawn from the clamped edge as streaks. It falls gently (over 15% of the side): a steep
  // fall would squeeze the hair of a close-up into ripples.
  const margin = Math.max(2, gw * 0.15);
  for (let o = 0; o < gw * gh; o++) {
    const k = Math.min(1, (keep[o] ?? 0) * 1.25);
    const gx = o % gw;
    const gy = Math.floor(o / gw);
    const edge =
      smoothstep(0, margin, Math.min(gx + 0.5, gw - gx - 0.5, gy + 0.5, gh - gy - 0.5)) * (model.confine?.[o] ?? 1);
    d[o * 2] = (k * (d[o * 2] ?? 0) + (1 - k) * (wide[o * 2] ?? 0)) * edge;
    d[o * 2 + 1] = (k * (d[o * 2 + 1] ?? 0) + (1 - k) * (wide[o * 2 + 1] ?? 0)) * edge;
  }
  return d;
}
