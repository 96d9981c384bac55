/**
 * Regenerates src/pipeline/geometry/reference-face.ts, the frontal reference face the head pose is fitted to,
 * from the shared test photos (reference-face.ts explains the method). Run when the mesh model or its
 * post-processing changes:
 *   PORTRAIT_MODELS_DIR=../shared/models node --import tsx test/geometry/derive-reference.ts
 * Not a test (no .test.ts suffix); it lives beside the tests because it reads the shared photos.
 */
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { detectFaces } from '../../src/pipeline/face/detect.js';
import { estimateMesh, MESH_POINTS } from '../../src/pipeline/face/mesh.js';
import {
  apply3,
  eulerFromRotation,
  fitSimilarity,
  type Mat3,
  rotationFromEuler,
  transpose3,
} from '../../src/pipeline/geometry/linalg.js';
import { fromSharp } from '../../src/pipeline/image.js';
import { facePath } from '../helpers/env.js';

const N = MESH_POINTS;
const PHOTOS = ['astronaut.png', 'obama.jpg', 'pexels-dinielle-de-veyra-4195444.jpg', 'obama2.jpg', 'biden.jpg'];

function centre(a: Float64Array): Float64Array {
  const c = [0, 0, 0];
  for (let i = 0; i < N; i++) for (let k = 0; k < 3; k++) c[k] = (c[k] ?? 0) + (a[i * 3 + k] ?? 0) / N;
  return a.map((v, j) => v - (c[j % 3] ?? 0));
}

function rotate(a: Float64Array, r: Mat3): Float64Array {
  const o = new Float64Array(a.length);
  for (let i = 0; i < N; i++) o.set(apply3(r, a[i * 3] ?? 0, a[i * 3 + 1] ?? 0, a[i * 3 + 2] ?? 0), i * 3);
  return o;
}

/** The shape mirrored (x -> -x) with each point taking its partner's place. */
function mirrored(a: Float64Array, pairing: Int32Array): Float64Array {
  const o = new Float64Array(a.length);
  for (let i = 0; i < N; i++) {
    const j = pairing[i] ?? i;
    o[i * 3] = -(a[j * 3] ?? 0);
    o[i * 3 + 1] = a[j * 3 + 1] ?? 0;
    o[i * 3 + 2] = a[j * 3 + 2] ?? 0;
  }
  return o;
}

/** Left/right pairing as a minimum-cost assignment between the points and their mirror images. */
function pairing(a: Float64Array): Int32Array {
  return assign(
    N,
    (i, j) =>
      (-(a[i * 3] ?? 0) - (a[j * 3] ?? 0)) ** 2 +
      ((a[i * 3 + 1] ?? 0) - (a[j * 3 + 1] ?? 0)) ** 2 +
      ((a[i * 3 + 2] ?? 0) - (a[j * 3 + 2] ?? 0)) ** 2,
  );
}

/** Rotates a shape until it matches its own mirror image, then averages the two: exactly symmetric. */
function symmetrise(input: Float64Array): Float64Array {
  let a = centre(input);
  let p = pairing(a);
  for (let it = 0; it < 8; it++) {
    // If a = R s with s symmetric, the fit of a onto its mirror is a rotation of twice R's yaw and roll: halve it.
    const e = eulerFromRotation(fitSimilarity(a, mirrored(a, p)).rotation);
    a = rotate(a, rotationFromEuler({ yaw: e.yaw / 2, pitch: e.pitch / 2, roll: e.roll / 2 }));
    p = pairing(a);
  }
  for (let i = 0; i < N; i++) if (p[p[i] ?? 0] !== i) throw new Error('the pairing is not an involution');
  const m = mirrored(a, p);
  return a.map((v, j) => (v + (m[j] ?? 0)) / 2);
}

/** Minimum-cost perfect assignment (Hungarian method with potentials, O(n^3)); returns row -> column. */
function assign(n: number, cost: (i: number, j: number) => number): Int32Array {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0] ?? 0;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - (u[i0] ?? 0) - (v[j] ?? 0);
        if (cur < (minv[j] ?? 0)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] ?? 0) < delta) {
          delta = minv[j] ?? 0;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j] ?? 0] = (u[p[j] ?? 0] ?? 0) + delta;
          v[j] = (v[j] ?? 0) - delta;
        } else {
          minv[j] = (minv[j] ?? 0) - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] ?? 0;
      p[j0] = p[j1] ?? 0;
      j0 = j1;
    } while (j0);
  }
  const out = new Int32Array(n);
  for (let j = 1; j <= n; j++) out[(p[j] ?? 1) - 1] = j - 1;
  return out;
}

const meshes: Float64Array[] = [];
for (const name of PHOTOS) {
  const image = await fromSharp(sharp(facePath(name)).rotate());
  const face = (await detectFaces(image))[0];
  if (!face) throw new Error(`no face in ${name}`);
  meshes.push(Float64Array.from((await estimateMesh(image, face)).points));
}

let shape = symmetrise(meshes[0] ?? new Float64Array(N * 3));
for (let round = 0; round < 3; round++) {
  const sum = new Float64Array(N * 3);
  let meanPitch = 0;
  for (const [k, m] of meshes.entries()) {
    const fit = fitSimilarity(shape, m);
    const e = eulerFromRotation(fit.rotation);
    meanPitch += e.pitch / meshes.length;
    console.log(
      `round ${round} ${PHOTOS[k]}: yaw ${e.yaw.toFixed(1)} pitch ${e.pitch.toFixed(1)} roll ${e.roll.toFixed(1)}`,
    );
    const back = transpose3(fit.rotation);
    for (let i = 0; i < N; i++) {
      const p = apply3(
        back,
        (m[i * 3] ?? 0) - fit.translation[0],
        (m[i * 3 + 1] ?? 0) - fit.translation[1],
        (m[i * 3 + 2] ?? 0) - fit.translation[2],
      );
      for (let c = 0; c < 3; c++) sum[i * 3 + c] = (sum[i * 3 + c] ?? 0) + (p[c] ?? 0) / fit.scale / meshes.length;
    }
  }
  // "Front" is how people face a camera on average: bake the photos' mean pitch into the shape.
  shape = symmetrise(rotate(sum, rotationFromEuler({ yaw: 0, pitch: meanPitch, roll: 0 })));
}

const width = Math.abs((shape[454 * 3] ?? 0) - (shape[234 * 3] ?? 0));
// Symmetric rounding (sign * round(|x|)) keeps the mirror pairs exact.
const round1 = (x: number): number => {
  const r = (Math.sign(x) * Math.round(Math.abs(x) * 10)) / 10;
  return Object.is(r, -0) ? 0 : r;
};
const lines: string[] = [];
for (let i = 0; i < N; i++) {
  const k = 100 / width;
  lines.push(
    `${round1((shape[i * 3] ?? 0) * k)} ${round1((shape[i * 3 + 1] ?? 0) * k)} ${round1((shape[i * 3 + 2] ?? 0) * k)}`,
  );
}
const target = new URL('../../src/pipeline/geometry/reference-face.ts', import.meta.url);
writeFileSync(
  target,
  `/**
 * The frontal reference face: MediaPipe's 468 mesh points of an upright, frontal, left/right symmetric face, in
 * the FaceMesh frame (x right = the subject's left, y down, z away from the camera), centred on the points' mean
 * and scaled so the face is 100 units wide between the cheek points 234 and 454. One "x y z" line per point.
 *
 * Why derived and not MediaPipe's canonical_face_model.obj: this project cannot fetch that file, and a shape
 * measured with the same network (and the same depth gain) as the meshes it is fitted to shares their biases.
 * How (test/geometry/derive-reference.ts regenerates this file from ../shared/testdata/faces):
 * 1. mesh five roughly frontal photos (${PHOTOS.join(', ')});
 * 2. symmetrise the first: rotate it until it matches its own mirror image (x -> -x with a left/right point
 *    pairing found by minimum-cost assignment), then average it with that mirror image;
 * 3. fit every photo to that shape (rotation, scale, translation), undo its rotation, average, symmetrise again
 *    (three rounds), and level the pitch so the photos' mean pitch is zero: "front" is how people face a camera.
 * Exactly symmetric (rounded symmetrically to 0.1), so the mirror pairing is recovered at load by mirroring x and
 * taking the nearest point (reference.ts).
 */
export const REFERENCE_FACE_TEXT = \`
${lines.join('\n')}
\`;
`,
);
console.log(`wrote ${target.pathname}`);
process.exit(0);
