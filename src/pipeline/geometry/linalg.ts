/**
 * The little linear algebra the geometry needs: 3x3 rotations (row-major Float64Array(9)), Euler angles in the
 * project's convention, and a weighted similarity fit (Umeyama/Horn) between two point sets.
 *
 * Frame: the image frame of `FaceMesh` (x right, y down, z away from the camera). Angles in degrees, and every
 * positive angle points to the SUBJECT'S LEFT or UP, the same words the pose presets use:
 * - yaw > 0: the head turns toward the subject's left (the nose moves toward +x, the right of the picture);
 * - pitch > 0: the chin comes up, the subject looks up (the nose moves toward -y);
 * - roll > 0: the head tilts toward the subject's left shoulder, which on screen is a clockwise turn: a photo
 *   rotated clockwise by 15 degrees shows roll +15.
 * Composition: R = Rz(roll) * Rx(-pitch) * Ry(-yaw) (turn, then nod, then tilt), with the textbook right-handed
 * axis rotations; the minus signs translate "toward the subject's left/up" into this y-down frame.
 */

export type Mat3 = Float64Array;

export interface Euler {
  yaw: number;
  pitch: number;
  roll: number;
}

const DEG = Math.PI / 180;

export function multiply3(a: Mat3, b: Mat3): Mat3 {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[r * 3 + c] =
        (a[r * 3] ?? 0) * (b[c] ?? 0) + (a[r * 3 + 1] ?? 0) * (b[3 + c] ?? 0) + (a[r * 3 + 2] ?? 0) * (b[6 + c] ?? 0);
    }
  }
  return out;
}

export function transpose3(a: Mat3): Mat3 {
  return Float64Array.of(
    a[0] ?? 0,
    a[3] ?? 0,
    a[6] ?? 0,
    a[1] ?? 0,
    a[4] ?? 0,
    a[7] ?? 0,
    a[2] ?? 0,
    a[5] ?? 0,
    a[8] ?? 0,
  );
}

/** The rotation for yaw/pitch/roll in degrees (convention above). */
export function rotationFromEuler(e: Euler): Mat3 {
  const a = -e.pitch * DEG;
  const b = -e.yaw * DEG;
  const r = e.roll * DEG;
  const ry = Float64Array.of(Math.cos(b), 0, Math.sin(b), 0, 1, 0, -Math.sin(b), 0, Math.cos(b));
  const rx = Float64Array.of(1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a));
  const rz = Float64Array.of(Math.cos(r), -Math.sin(r), 0, Math.sin(r), Math.cos(r), 0, 0, 0, 1);
  return multiply3(rz, multiply3(rx, ry));
}

/** Inverse of `rotationFromEuler` (pitch within +-90 degrees). */
export function eulerFromRotation(m: Mat3): Euler {
  // R = Rz(r) Rx(a) Ry(b): R[2][1] = sin a, R[2][0] = -cos a sin b, R[2][2] = cos a cos b,
  // R[0][1] = -sin r cos a, R[1][1] = cos r cos a.
  const a = Math.asin(Math.max(-1, Math.min(1, m[7] ?? 0)));
  const b = Math.atan2(-(m[6] ?? 0), m[8] ?? 1);
  const r = Math.atan2(-(m[1] ?? 0), m[4] ?? 1);
  return { yaw: -b / DEG, pitch: -a / DEG, roll: r / DEG };
}

export interface Similarity {
  rotation: Mat3;
  scale: number;
  translation: [number, number, number];
  /** Weighted RMS distance after the fit, in the units of `dst`. */
  rms: number;
}

/**
 * Weighted least-squares similarity `dst ~ scale * R * src + t` (Umeyama 1991; the rotation by Horn's
 * quaternion method, whose 4x4 symmetric eigenproblem is solved by Jacobi sweeps: no SVD, no reflections).
 * `src` and `dst` hold n xyz triples; `weights` (optional) n non-negative weights.
 */
export function fitSimilarity(src: ArrayLike<number>, dst: ArrayLike<number>, weights?: ArrayLike<number>): Similarity {
  const n = Math.floor(src.length / 3);
  let wsum = 0;
  const cs = [0, 0, 0];
  const cd = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const w = weights ? (weights[i] ?? 0) : 1;
    wsum += w;
    for (let k = 0; k < 3; k++) {
      cs[k] = (cs[k] ?? 0) + w * (src[i * 3 + k] ?? 0);
      cd[k] = (cd[k] ?? 0) + w * (dst[i * 3 + k] ?? 0);
    }
  }
  for (let k = 0; k < 3; k++) {
    cs[k] = (cs[k] ?? 0) / wsum;
    cd[k] = (cd[k] ?? 0) / wsum;
  }
  // Cross-covariance S[a][b] = sum w * src_a * dst_b (centred), and the source variance.
  const s = new Float64Array(9);
  let varSrc = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? (weights[i] ?? 0) : 1;
    const ax = (src[i * 3] ?? 0) - (cs[0] ?? 0);
    const ay = (src[i * 3 + 1] ?? 0) - (cs[1] ?? 0);
    const az = (src[i * 3 + 2] ?? 0) - (cs[2] ?? 0);
    const bx = (dst[i * 3] ?? 0) - (cd[0] ?? 0);
    const by = (dst[i * 3 + 1] ?? 0) - (cd[1] ?? 0);
    const bz = (dst[i * 3 + 2] ?? 0) - (cd[2] ?? 0);
    varSrc += w * (ax * ax + ay * ay + az * az);
    s[0] = (s[0] ?? 0) + w * ax * bx;
    s[1] = (s[1] ?? 0) + w * ax * by;
    s[2] = (s[2] ?? 0) + w * ax * bz;
    s[3] = (s[3] ?? 0) + w * ay * bx;
    s[4] = (s[4] ?? 0) + w * ay * by;
    s[5] = (s[5] ?? 0) + w * ay * bz;
    s[6] = (s[6] ?? 0) + w * az * bx;
    s[7] = (s[7] ?? 0) + w * az * by;
    s[8] = (s[8] ?? 0) + w * az * bz;
  }
  const [sxx, sxy, sxz, syx, syy, syz, szx, szy, szz] = Array.from(s) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Horn's N matrix; its top eigenvector is the unit quaternion of the best rotation.
  const nMat = [
    [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
    [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
    [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
    [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
  ];
  const { value, vector } = topEigen4(nMat);
  const [q0, qx, qy, qz] = vector;
  const rotation = Float64Array.of(
    q0 * q0 + qx * qx - qy * qy - qz * qz,
    2 * (qx * qy - q0 * qz),
    2 * (qx * qz + q0 * qy),
    2 * (qy * qx + q0 * qz),
    q0 * q0 - qx * qx + qy * qy - qz * qz,
    2 * (qy * qz - q0 * qx),
    2 * (qz * qx - q0 * qy),
    2 * (qz * qy + q0 * qx),
    q0 * q0 - qx * qx - qy * qy + qz * qz,
  );
  const scale = varSrc > 0 ? value / varSrc : 1;
  const rc = apply3(rotation, cs[0] ?? 0, cs[1] ?? 0, cs[2] ?? 0);
  const translation: [number, number, number] = [
    (cd[0] ?? 0) - scale * rc[0],
    (cd[1] ?? 0) - scale * rc[1],
    (cd[2] ?? 0) - scale * rc[2],
  ];
  let err = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? (weights[i] ?? 0) : 1;
    const p = apply3(rotation, src[i * 3] ?? 0, src[i * 3 + 1] ?? 0, src[i * 3 + 2] ?? 0);
    const dx = scale * p[0] + translation[0] - (dst[i * 3] ?? 0);
    const dy = scale * p[1] + translation[1] - (dst[i * 3 + 1] ?? 0);
    const dz = scale * p[2] + translation[2] - (dst[i * 3 + 2] ?? 0);
    err += w * (dx * dx + dy * dy + dz * dz);
  }
  return { rotation, scale, translation, rms: Math.sqrt(err / wsum) };
}

export function apply3(m: Mat3, x: number, y: number, z: number): [number, number, number] {
  return [
    (m[0] ?? 0) * x + (m[1] ?? 0) * y + (m[2] ?? 0) * z,
    (m[3] ?? 0) * x + (m[4] ?? 0) * y + (m[5] ?? 0) * z,
    (m[6] ?? 0) * x + (m[7] ?? 0) * y + (m[8] ?? 0) * z,
  ];
}

/** Largest eigenvalue and its unit eigenvector of a symmetric 4x4 matrix (cyclic Jacobi). */
function topEigen4(input: number[][]): { value: number; vector: [number, number, number, number] } {
  const a = input.map((row) => row.slice());
  const v = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
  const at = (m: number[][], i: number, j: number): number => (m[i] as number[])[j] as number;
  const set = (m: number[][], i: number, j: number, x: number): void => {
    (m[i] as number[])[j] = x;
  };
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += at(a, p, q) ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = at(a, p, q);
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (at(a, q, q) - at(a, p, p)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = at(a, k, p);
          const akq = at(a, k, q);
          set(a, k, p, c * akp - s * akq);
          set(a, k, q, s * akp + c * akq);
        }
        for (let k = 0; k < 4; k++) {
          const apk = at(a, p, k);
          const aqk = at(a, q, k);
          set(a, p, k, c * apk - s * aqk);
          set(a, q, k, s * apk + c * aqk);
        }
        for (let k = 0; k < 4; k++) {
          const vkp = at(v, k, p);
          const vkq = at(v, k, q);
          set(v, k, p, c * vkp - s * vkq);
          set(v, k, q, s * vkp + c * vkq);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (at(a, i, i) > at(a, best, best)) best = i;
  const vec: [number, number, number, number] = [at(v, 0, best), at(v, 1, best), at(v, 2, best), at(v, 3, best)];
  const norm = Math.hypot(...vec);
  return { value: at(a, best, best), vector: [vec[0] / norm, vec[1] / norm, vec[2] / norm, vec[3] / norm] };
}
