import * as ort from 'onnxruntime-node';
import { MESH_POINTS, MIRROR } from '../geometry/reference.js';
import { getSession } from '../models/index.js';
import type { Face, Point, RgbImage } from '../types.js';

/**
 * MediaPipe's 468-point face mesh (the Barracuda ONNX export, see its card in src/pipeline/models/cards.ts): the face is cut out
 * as an upright square around the detector box, the network returns 468 (x, y, z) points in crop pixels, and we map
 * them back into the image.
 *
 * Coordinates of a `FaceMesh` (used by every geometry and lighting module):
 * - `x`, `y`: image pixels, x to the right, y down (the same frame as `RgbImage` and `Face`);
 * - `z`: relative depth in the same pixel scale as x and y, growing AWAY from the camera (the nose tip has the
 *   smallest z). The zero of z is arbitrary (near the face's mid depth); only differences mean something. The
 *   network's own z is scaled by MESH_DEPTH_GAIN to get there.
 * This is a right-handed frame (x right, y down, z forward), the usual camera frame.
 * Point indices follow MediaPipe's canonical face mesh topology (1 = nose tip, 33/263 = the subject's right/left
 * outer eye corner, 61/291 = right/left mouth corner, 152 = chin, 10 = top of the forehead).
 */
export interface FaceMesh {
  /** 468 * 3 floats: x, y, z per point, as documented above. */
  points: Float32Array;
  /** Face presence probability (sigmoid of the model's logit), 0..1. */
  presence: number;
}

export { MESH_POINTS };
export const MESH_INPUT_SIZE = 192;

/**
 * The network's z is flatter than the face: its depths are about 0.7 of what x and y would give for the same
 * head. Measured by a round trip that needs no ground truth: turn a photo's mesh by D degrees (warp.ts), mesh the
 * result again and estimate the change of pose. With the raw z the head comes out turned by only ~0.62 D (20
 * degrees asked, 12 found) on every test photo; scaling z by 1.4 makes the trip consistent (20 asked, 19-23
 * found), which is what a correctly scaled depth must do. FaceMesh z is therefore the raw z times this gain.
 */
export const MESH_DEPTH_GAIN = 1.4;
const MESH_INPUT_NAME = 'input_1';
export const MESH_OUTPUT_POINTS = 'conv2d_20';
export const MESH_OUTPUT_PRESENCE = 'conv2d_30';

/** Mesh indices used to re-centre and re-orient the crop on the second pass. */
export const MESH_INDEX = {
  noseTip: 1,
  rightEyeOuter: 33,
  leftEyeOuter: 263,
  chin: 152,
  forehead: 10,
  rightCheek: 234,
  leftCheek: 454,
  mouthRight: 61,
  mouthLeft: 291,
} as const;

/** What the mesh needs from an ORT session; an `InferenceSession` fits, and so does a fake in tests. */
export interface MeshSession {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
}

/** A square crop of the image, rotated by `angle` (radians, image frame, y down) around `center`. */
export interface MeshCrop {
  center: Point;
  /** Side of the square in image pixels. */
  size: number;
  angle: number;
}

export interface MeshOptions {
  /** The session to run; default the shared 'face-mesh' session of the model registry. */
  session?: MeshSession;
  /**
   * Run a second pass on a crop re-centred on the first pass's points (MediaPipe's own tracking does this). It
   * costs one more inference (a few ms) and makes the mesh much steadier on turned heads and on loose boxes.
   * Default true.
   */
  refine?: boolean;
  /** Crop side relative to the face box (or the first pass's point extent). MediaPipe uses 1.5. */
  cropScale?: number;
  /**
   * Also run the mirrored crop and average the two meshes (the mirrored one with left and right points swapped
   * back). The network is not exactly mirror-symmetric: on its own, a photo and its mirror image can disagree by
   * 3-6 degrees of yaw (worse with a wink or a lopsided smile). Averaging makes the mesh mirror-consistent and
   * less noisy for twice the inference (a few ms per pass). Default true.
   */
  mirrorAverage?: boolean;
}

/**
 * Estimates the 468-point mesh of one detected face. The crop is upright along the detector's eye line, so tilted
 * heads work; the returned points are in image coordinates (see `FaceMesh`).
 */
export async function estimateMesh(image: RgbImage, face: Face, options: MeshOptions = {}): Promise<FaceMesh> {
  const session = options.session ?? (await getSession('face-mesh'));
  const scale = options.cropScale ?? 1.5;
  const mirror = options.mirrorAverage ?? true;
  const first = await runCrop(image, cropFromFace(face, scale), session, mirror);
  if (options.refine === false) return first;
  return runCrop(image, cropFromMesh(first, scale), session, mirror);
}

/** MediaPipe's detection-to-ROI rule: a square 1.5x the box's longer side, rotated so the eyes are level. */
export function cropFromFace(face: Face, scale = 1.5): MeshCrop {
  const [rightEye, leftEye] = face.landmarks;
  const angle = Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x);
  const center = { x: face.box.x + face.box.width / 2, y: face.box.y + face.box.height / 2 };
  return { center, size: Math.max(face.box.width, face.box.height) * scale, angle };
}

/** The landmarks-to-ROI rule: the points' extent in the eye-level frame, squared and scaled. */
export function cropFromMesh(mesh: FaceMesh, scale = 1.5): MeshCrop {
  const p = mesh.points;
  const r = MESH_INDEX.rightEyeOuter * 3;
  const l = MESH_INDEX.leftEyeOuter * 3;
  const angle = Math.atan2((p[l + 1] ?? 0) - (p[r + 1] ?? 0), (p[l] ?? 0) - (p[r] ?? 0));
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  let minU = Number.POSITIVE_INFINITY;
  let maxU = Number.NEGATIVE_INFINITY;
  let minV = Number.POSITIVE_INFINITY;
  let maxV = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = p[i * 3] ?? 0;
    const y = p[i * 3 + 1] ?? 0;
    // Into the upright frame (rotate by -angle).
    const u = c * x + s * y;
    const v = -s * x + c * y;
    if (u < minU) minU = u;
    if (u > maxU) maxU = u;
    if (v < minV) minV = v;
    if (v > maxV) maxV = v;
  }
  const cu = (minU + maxU) / 2;
  const cv = (minV + maxV) / 2;
  return {
    center: { x: c * cu - s * cv, y: s * cu + c * cv },
    size: Math.max(maxU - minU, maxV - minV) * scale,
    angle,
  };
}

/** Samples the crop into the model's input tensor (RGB 0..1, planar) and maps the output back to the image. */
async function runCrop(image: RgbImage, crop: MeshCrop, session: MeshSession, mirror: boolean): Promise<FaceMesh> {
  const n = MESH_INPUT_SIZE;
  const input = sampleCrop(image, crop, n);
  const direct = await infer(session, input);
  let raw = direct.raw;
  let presenceLogit = direct.logit;
  if (mirror) {
    const flipped = await infer(session, flipColumns(input, n));
    // Undo the flip (x -> n - x) and swap each point with its mirror partner, then average.
    const pairs = MIRROR;
    const avg = new Float32Array(MESH_POINTS * 3);
    for (let i = 0; i < MESH_POINTS; i++) {
      const j = pairs[i] ?? i;
      avg[i * 3] = ((raw[i * 3] ?? 0) + n - (flipped.raw[j * 3] ?? 0)) / 2;
      avg[i * 3 + 1] = ((raw[i * 3 + 1] ?? 0) + (flipped.raw[j * 3 + 1] ?? 0)) / 2;
      avg[i * 3 + 2] = ((raw[i * 3 + 2] ?? 0) + (flipped.raw[j * 3 + 2] ?? 0)) / 2;
    }
    raw = avg;
    presenceLogit = (presenceLogit + flipped.logit) / 2;
  }
  const k = crop.size / n;
  const c = Math.cos(crop.angle);
  const s = Math.sin(crop.angle);
  const points = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    const u = ((raw[i * 3] ?? 0) - n / 2) * k;
    const v = ((raw[i * 3 + 1] ?? 0) - n / 2) * k;
    points[i * 3] = crop.center.x + c * u - s * v;
    points[i * 3 + 1] = crop.center.y + s * u + c * v;
    points[i * 3 + 2] = (raw[i * 3 + 2] ?? 0) * k * MESH_DEPTH_GAIN;
  }
  return { points, presence: 1 / (1 + Math.exp(-presenceLogit)) };
}

async function infer(session: MeshSession, input: Float32Array): Promise<{ raw: Float32Array; logit: number }> {
  const n = MESH_INPUT_SIZE;
  const out = await session.run({ [MESH_INPUT_NAME]: new ort.Tensor('float32', input, [1, 3, n, n]) });
  const raw = out[MESH_OUTPUT_POINTS]?.data;
  const logit = out[MESH_OUTPUT_PRESENCE]?.data;
  if (!(raw instanceof Float32Array) || raw.length < MESH_POINTS * 3 || !(logit instanceof Float32Array)) {
    throw new Error('face mesh model returned unexpected outputs');
  }
  return { raw, logit: logit[0] ?? 0 };
}

/** The planar tensor mirrored left to right. */
function flipColumns(input: Float32Array, n: number): Float32Array {
  const out = new Float32Array(input.length);
  for (let row = 0; row < 3 * n; row++) {
    const o = row * n;
    for (let col = 0; col < n; col++) out[o + col] = input[o + n - 1 - col] ?? 0;
  }
  return out;
}

/**
 * Bilinear sampling of a rotated square into a planar RGB float tensor. When the crop is much larger than the
 * input, each output pixel averages a small grid of taps so fine texture does not alias into the network.
 * Outside the image reads as black, like MediaPipe's border mode.
 */
export function sampleCrop(image: RgbImage, crop: MeshCrop, n: number): Float32Array {
  const out = new Float32Array(3 * n * n);
  const { data, width, height } = image;
  const step = crop.size / n;
  const taps = Math.max(1, Math.min(4, Math.ceil(step / 1.5)));
  const c = Math.cos(crop.angle) * step;
  const s = Math.sin(crop.angle) * step;
  const inv = 1 / (255 * taps * taps);
  const plane = n * n;
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let ty = 0; ty < taps; ty++) {
        const v = row - n / 2 + (ty + 0.5) / taps;
        for (let tx = 0; tx < taps; tx++) {
          const u = col - n / 2 + (tx + 0.5) / taps;
          const x = crop.center.x + c * u - s * v - 0.5;
          const y = crop.center.y + s * u + c * v - 0.5;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const fx = x - x0;
          const fy = y - y0;
          for (let dy = 0; dy < 2; dy++) {
            const yy = y0 + dy;
            if (yy < 0 || yy >= height) continue;
            const wy = dy === 0 ? 1 - fy : fy;
            for (let dx = 0; dx < 2; dx++) {
              const xx = x0 + dx;
              if (xx < 0 || xx >= width) continue;
              const w = wy * (dx === 0 ? 1 - fx : fx);
              const o = (yy * width + xx) * 3;
              r += w * (data[o] ?? 0);
              g += w * (data[o + 1] ?? 0);
              b += w * (data[o + 2] ?? 0);
            }
          }
        }
      }
      const o = row * n + col;
      out[o] = r * inv;
      out[plane + o] = g * inv;
      out[2 * plane + o] = b * inv;
    }
  }
  return out;
}

/** Point `i` of a mesh as a tuple (for readable geometry code outside hot loops). */
export function meshPoint(mesh: FaceMesh, i: number): [number, number, number] {
  const p = mesh.points;
  return [p[i * 3] ?? 0, p[i * 3 + 1] ?? 0, p[i * 3 + 2] ?? 0];
}
