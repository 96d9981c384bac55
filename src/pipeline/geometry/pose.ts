import { type FaceMesh, MESH_POINTS } from '../face/mesh.js';
import { type Euler, eulerFromRotation, fitSimilarity, type Mat3 } from './linalg.js';
import { POSE_FIT_WEIGHTS, REFERENCE_FACE } from './reference.js';

/**
 * Head pose of a mesh: the rigid (similarity) transform that best maps the frontal reference face onto it,
 *   mesh_i ~ scale * rotation * reference_i + translation,
 * fitted on all 468 points in 3D, weighted toward the rigid upper face (reference.ts), with one robust
 * re-weighting round so a few badly placed points (hair over an eye, a hand) do not tilt the answer.
 *
 * Angles are degrees, positive toward the SUBJECT'S left / up (linalg.ts has the exact convention):
 * yaw > 0 the face turns to the subject's left (nose toward the right of the picture), pitch > 0 the chin comes
 * up, roll > 0 the head tilts toward the subject's left shoulder (clockwise on screen).
 */
export interface HeadPose extends Euler {
  /** Row-major 3x3 rotation from the reference frame to the image frame (x right, y down, z away). */
  rotation: Mat3;
  /** Image pixels per reference unit (the reference face is 100 units wide). */
  scale: number;
  /** Where the reference origin (the face's mean point) lands, in image pixels (z in the mesh's depth units). */
  translation: [number, number, number];
  /** RMS fit residual in reference units (face width 100): about 2-4 for a good mesh, larger with expression. */
  residual: number;
}

export function estimateHeadPose(mesh: FaceMesh): HeadPose {
  const first = fitSimilarity(REFERENCE_FACE, mesh.points, POSE_FIT_WEIGHTS);
  // One Huber-style round: points further than 2x the RMS from the fit lose weight in proportion.
  const weights = new Float32Array(MESH_POINTS);
  const limit = 2 * first.rms;
  const r = first.rotation;
  const ref = REFERENCE_FACE;
  const pts = mesh.points;
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = ref[i * 3] ?? 0;
    const y = ref[i * 3 + 1] ?? 0;
    const z = ref[i * 3 + 2] ?? 0;
    const px = first.scale * ((r[0] ?? 0) * x + (r[1] ?? 0) * y + (r[2] ?? 0) * z) + first.translation[0];
    const py = first.scale * ((r[3] ?? 0) * x + (r[4] ?? 0) * y + (r[5] ?? 0) * z) + first.translation[1];
    const pz = first.scale * ((r[6] ?? 0) * x + (r[7] ?? 0) * y + (r[8] ?? 0) * z) + first.translation[2];
    const d = Math.hypot(px - (pts[i * 3] ?? 0), py - (pts[i * 3 + 1] ?? 0), pz - (pts[i * 3 + 2] ?? 0));
    weights[i] = (POSE_FIT_WEIGHTS[i] ?? 0) * (d <= limit ? 1 : limit / d);
  }
  const fit = fitSimilarity(REFERENCE_FACE, mesh.points, weights);
  return {
    ...eulerFromRotation(fit.rotation),
    rotation: fit.rotation,
    scale: fit.scale,
    translation: fit.translation,
    residual: fit.rms / fit.scale,
  };
}

/** Angular distance between two poses in degrees (the angle of the relative rotation), for choosing a reference. */
export function poseDistance(a: Euler, b: Euler): number {
  // A cheap, monotone stand-in for the geodesic distance that is exact for single-axis differences.
  return Math.hypot(a.yaw - b.yaw, a.pitch - b.pitch, a.roll - b.roll);
}
