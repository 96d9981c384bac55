import { REFERENCE_FACE_TEXT } from './reference-face.js';

/**
 * The frontal reference face (reference-face.ts says where it comes from) and what follows from its symmetry:
 * the left/right pairing of mesh points and the weights of the rigid pose fit.
 */

/** MediaPipe's point count (mesh.ts re-exports it; defined here so the mesh can use the pairing without a cycle). */
export const MESH_POINTS = 468;

function parseReference(text: string): Float32Array {
  const values = text.trim().split(/\s+/).map(Number);
  if (values.length !== MESH_POINTS * 3 || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`reference face has ${values.length} numbers, expected ${MESH_POINTS * 3}`);
  }
  return Float32Array.from(values);
}

/** 468 * 3: the frontal, symmetric reference face (FaceMesh frame, 100 units between cheeks 234 and 454). */
export const REFERENCE_FACE: Float32Array = parseReference(REFERENCE_FACE_TEXT);

/**
 * `MIRROR[i]` is the point on the other side of the face from point i (itself on the midline). The reference is
 * exactly symmetric, so mirroring x and taking the nearest point recovers the pairing; it must come out as an
 * involution (MIRROR[MIRROR[i]] === i) or the data is damaged.
 */
export const MIRROR: Int32Array = derivePairing(REFERENCE_FACE);

function derivePairing(ref: Float32Array): Int32Array {
  const pairing = new Int32Array(MESH_POINTS);
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = -(ref[i * 3] ?? 0);
    const y = ref[i * 3 + 1] ?? 0;
    const z = ref[i * 3 + 2] ?? 0;
    let best = i;
    let bestD = Number.POSITIVE_INFINITY;
    for (let j = 0; j < MESH_POINTS; j++) {
      const d = (x - (ref[j * 3] ?? 0)) ** 2 + (y - (ref[j * 3 + 1] ?? 0)) ** 2 + (z - (ref[j * 3 + 2] ?? 0)) ** 2;
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    }
    pairing[i] = best;
  }
  for (let i = 0; i < MESH_POINTS; i++) {
    if (pairing[pairing[i] ?? 0] !== i) throw new Error(`reference face is not symmetric at point ${i}`);
  }
  return pairing;
}

/**
 * Weights of the rigid pose fit. The upper face (forehead, brows, eyes, nose) moves with the skull; the lips and
 * the jaw move with expression (a big smile, an open mouth, a wink) and would tilt the fit. So points below the
 * nose base count for a quarter, with a smooth ramp between. Symmetric, like the reference.
 */
export const POSE_FIT_WEIGHTS: Float32Array = (() => {
  const w = new Float32Array(MESH_POINTS);
  const noseBase = REFERENCE_FACE[2 * 3 + 1] ?? 0; // point 2: below the nose tip, above the lip
  for (let i = 0; i < MESH_POINTS; i++) {
    const y = REFERENCE_FACE[i * 3 + 1] ?? 0;
    const t = Math.max(0, Math.min(1, (y - (noseBase - 5)) / 10));
    w[i] = 1 - 0.75 * t;
  }
  return w;
})();
