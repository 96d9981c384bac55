import * as ort from 'onnxruntime-node';
import { PortraitError } from '../../errors.js';
import { resizeImage } from '../image.js';
import { getSession } from '../models/index.js';
import type { Box, Face, Point, RgbImage } from '../types.js';
import { cropMapping, warpCrop } from './align.js';

/**
 * Face detection with YuNet (libfacedetection), decoded as its model card (src/pipeline/models/cards.ts) describes: BGR 0..255
 * NCHW input with sides padded to multiples of 32; per stride 8/16/32 a grid of anchors with cls, obj, bbox and
 * 5 keypoints; score = sqrt(cls * obj); threshold then NMS.
 */

export interface DetectOptions {
  /** Minimum score. @defaultValue 0.6 */
  threshold?: number;
  /** IoU above which the weaker of two boxes is dropped. @defaultValue 0.3 */
  nmsIou?: number;
  /**
   * Pixel budget of the detector input, as the side of a square of the same area. The image is scaled so
   * width x height is about `inputArea`^2 (never upscaled): a square selfie runs at 640x640, a wide group photo
   * keeps more width (2048x922 runs at 960x416) so its small faces stay detectable. @defaultValue 640
   */
  inputArea?: number;
  /** Largest detector-input side, bounding cost on extreme panoramas. @defaultValue 1280 */
  maxInputSide?: number;
}

const STRIDES = [8, 16, 32] as const;

/** The detector's input: the scaled, padded BGR tensor and the factor back to original pixels. */
export interface DetectorInput {
  tensor: ort.Tensor;
  scale: number;
  width: number;
  height: number;
}

/** Scale factor and padded size for an image under the options' pixel budget. */
export function detectorGeometry(
  width: number,
  height: number,
  options: Pick<DetectOptions, 'inputArea' | 'maxInputSide'> = {},
): { scale: number; width: number; height: number; paddedWidth: number; paddedHeight: number } {
  const area = options.inputArea ?? 640;
  const maxSide = options.maxInputSide ?? 1280;
  const scale = Math.min(1, Math.sqrt((area * area) / (width * height)), maxSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return { scale, width: w, height: h, paddedWidth: Math.ceil(w / 32) * 32, paddedHeight: Math.ceil(h / 32) * 32 };
}

/** Resizes, pads (black, right and bottom) and converts HWC RGB uint8 to NCHW BGR float32 0..255. */
export async function prepareDetectorInput(image: RgbImage, options: DetectOptions = {}): Promise<DetectorInput> {
  const g = detectorGeometry(image.width, image.height, options);
  const small = await resizeImage(image, g.width, g.height);
  const plane = g.paddedWidth * g.paddedHeight;
  const data = new Float32Array(3 * plane);
  const src = small.data;
  for (let y = 0; y < g.height; y++) {
    let i = y * g.width * 3;
    let o = y * g.paddedWidth;
    for (let x = 0; x < g.width; x++, i += 3, o++) {
      data[o] = src[i + 2] ?? 0; // B
      data[plane + o] = src[i + 1] ?? 0; // G
      data[2 * plane + o] = src[i] ?? 0; // R
    }
  }
  return {
    tensor: new ort.Tensor('float32', data, [1, 3, g.paddedHeight, g.paddedWidth]),
    scale: g.scale,
    width: g.paddedWidth,
    height: g.paddedHeight,
  };
}

function floats(outputs: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  const t = outputs[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`YuNet output ${name} is missing or not float32`);
  return t.data;
}

/** Decodes YuNet's per-stride outputs into faces in detector-input pixels, above `threshold`, before NMS. */
export function decodeYunet(
  outputs: ort.InferenceSession.OnnxValueMapType,
  inputWidth: number,
  inputHeight: number,
  threshold: number,
): Face[] {
  const faces: Face[] = [];
  for (const s of STRIDES) {
    const cls = floats(outputs, `cls_${s}`);
    const obj = floats(outputs, `obj_${s}`);
    const bbox = floats(outputs, `bbox_${s}`);
    const kps = floats(outputs, `kps_${s}`);
    const cols = inputWidth / s;
    const n = cols * (inputHeight / s);
    for (let i = 0; i < n; i++) {
      const c = Math.min(1, Math.max(0, cls[i] ?? 0));
      const o = Math.min(1, Math.max(0, obj[i] ?? 0));
      const score = Math.sqrt(c * o);
      if (score < threshold) continue;
      const col = i % cols;
      const row = (i - col) / cols;
      const cx = (col + (bbox[i * 4] ?? 0)) * s;
      const cy = (row + (bbox[i * 4 + 1] ?? 0)) * s;
      const w = Math.exp(bbox[i * 4 + 2] ?? 0) * s;
      const h = Math.exp(bbox[i * 4 + 3] ?? 0) * s;
      const point = (k: number): Point => ({
        x: (col + (kps[i * 10 + 2 * k] ?? 0)) * s,
        y: (row + (kps[i * 10 + 2 * k + 1] ?? 0)) * s,
      });
      faces.push({
        box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h },
        score,
        landmarks: [point(0), point(1), point(2), point(3), point(4)],
      });
    }
  }
  return faces;
}

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression, best score first. */
export function nms(faces: readonly Face[], threshold: number): Face[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: Face[] = [];
  for (const f of sorted) if (kept.every((k) => iou(k.box, f.box) <= threshold)) kept.push(f);
  return kept;
}

function rescale(face: Face, factor: number, width: number, height: number): Face {
  const p = (q: Point): Point => ({ x: q.x * factor, y: q.y * factor });
  const x0 = Math.max(0, face.box.x * factor);
  const y0 = Math.max(0, face.box.y * factor);
  const x1 = Math.min(width, (face.box.x + face.box.width) * factor);
  const y1 = Math.min(height, (face.box.y + face.box.height) * factor);
  const [a, b, c, d, e] = face.landmarks;
  return {
    box: { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) },
    score: face.score,
    landmarks: [p(a), p(b), p(c), p(d), p(e)],
  };
}

/** Every face in the image, best score first, in original image pixels. Uses the shared 'yunet' session. */
export async function detectFaces(image: RgbImage, options: DetectOptions = {}): Promise<Face[]> {
  const session = await getSession('yunet');
  const input = await prepareDetectorInput(image, options);
  const outputs = await session.run({ [session.inputNames[0] ?? 'input']: input.tensor });
  const raw = decodeYunet(outputs, input.width, input.height, options.threshold ?? 0.6);
  const kept = nms(raw, options.nmsIou ?? 0.3);
  return kept.map((f) => rescale(f, 1 / input.scale, image.width, image.height));
}

// ---------------------------------------------------------------------------------------------------------------
// Main-face choice

/**
 * How much a face looks like "the subject": its area relative to the largest face, times a centrality weight
 * that falls from 1 at the image centre to 0.5 at a corner. A face half the size of the largest but dead centre
 * (0.5) ties with the largest in a corner (0.5); the subject of a selfie is both large and central.
 */
export function mainFaceScore(face: Face, largestArea: number, width: number, height: number): number {
  const area = face.box.width * face.box.height;
  const cx = face.box.x + face.box.width / 2 - width / 2;
  const cy = face.box.y + face.box.height / 2 - height / 2;
  const dist = Math.hypot(cx, cy) / Math.hypot(width / 2, height / 2);
  return (area / Math.max(1e-9, largestArea)) * (1 - 0.5 * Math.min(1, dist));
}

/** Index of the main face (largest and most central, see mainFaceScore), or -1 when there is none. */
export function chooseMainFace(faces: readonly Face[], width: number, height: number): number {
  const largest = Math.max(0, ...faces.map((f) => f.box.width * f.box.height));
  let best = -1;
  let bestScore = -1;
  faces.forEach((f, i) => {
    const s = mainFaceScore(f, largest, width, height);
    if (s > bestScore) {
      best = i;
      bestScore = s;
    }
  });
  return best;
}

/** Side of the levelled square the landmarks are re-detected in. */
const REFINE_SIZE = 320;

/**
 * Re-detects a face in a square levelled by its own eye line and about 2.5x the face's size, and maps the
 * landmarks back. YuNet's keypoints under-report a tilt (a head at 20 degrees reads as ~12) and are coarse on
 * faces that are small at the detector's scale; in the levelled, face-sized square both errors shrink, so each
 * pass removes most of what is left. Passes stop when the correction is under 2 degrees. The box and score
 * stay the original detection's. Costs one small YuNet run (320x320) per pass.
 */
export async function refineLandmarks(image: RgbImage, face: Face, maxPasses = 3): Promise<Face> {
  let current = face;
  for (let pass = 0; pass < maxPasses; pass++) {
    const [rightEye, leftEye, , rightMouth, leftMouth] = current.landmarks;
    const angle = Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x);
    const center = {
      x: (rightEye.x + leftEye.x + rightMouth.x + leftMouth.x) / 4,
      y: (rightEye.y + leftEye.y + rightMouth.y + leftMouth.y) / 4,
    };
    const frame = { center, angle, side: 2 * Math.max(face.box.width, face.box.height) };
    const crop = warpCrop(image, frame, REFINE_SIZE);
    const found = await detectFaces(crop);
    const mid = REFINE_SIZE / 2;
    const nearest = found
      .map((f) => ({ f, d: Math.hypot(f.box.x + f.box.width / 2 - mid, f.box.y + f.box.height / 2 - mid) }))
      .filter(({ d }) => d < REFINE_SIZE / 4)
      .sort((a, b) => a.d - b.d)[0]?.f;
    if (!nearest) return current;
    const back = cropMapping(frame, REFINE_SIZE).toImage;
    const [a, b, c, d, e] = nearest.landmarks;
    current = { box: face.box, score: face.score, landmarks: [back(a), back(b), back(c), back(d), back(e)] };
    const [r, l] = nearest.landmarks;
    if (Math.abs(Math.atan2(l.y - r.y, l.x - r.x)) < (2 * Math.PI) / 180) break;
  }
  return current;
}

/** The smallest main face (longer box side, original pixels) that still makes a usable portrait. */
export const MIN_FACE_SIDE = 48;

/**
 * How much the main face's score (mainFaceScore) must exceed the next face's for the photo to count as a selfie of
 * one person. Groups score about 1.0 (two_people.jpg, solvay1927.jpg, a street crowd); a selfie with someone small
 * in the background scores 2 and more.
 */
export const DOMINANCE = 1.8;

export interface DetectedSelfie {
  faces: Face[];
  mainFace: Face;
}

/**
 * Detects faces and picks the main one, or refuses: 'face.none' when nothing scores above the threshold,
 * 'face.too_small' when the main face's box is under MIN_FACE_SIDE pixels. `selfie` is the 1-based index.
 * The main face's landmarks are refined for tilted heads (refineLandmarks).
 */
export async function findMainFace(
  image: RgbImage,
  selfie: number,
  options: DetectOptions & { minFaceSide?: number } = {},
): Promise<DetectedSelfie> {
  const faces = await detectFaces(image, options);
  const index = chooseMainFace(faces, image.width, image.height);
  const detected = faces[index];
  if (!detected) throw new PortraitError('face.none', 'no face found', { selfie });
  // Whose portrait is it? Only a face that clearly dominates (larger and more central than any other by
  // DOMINANCE) is taken for the member; in a group or a crowd picking one would be a guess.
  const largest = Math.max(...faces.map((f) => f.box.width * f.box.height));
  const best = mainFaceScore(detected, largest, image.width, image.height);
  const rival = Math.max(
    0,
    ...faces.filter((_, i) => i !== index).map((f) => mainFaceScore(f, largest, image.width, image.height)),
  );
  if (rival * DOMINANCE > best) {
    throw new PortraitError('face.several', `${faces.length} faces, none dominant`, { selfie, count: faces.length });
  }
  const side = Math.max(detected.box.width, detected.box.height);
  const minSide = options.minFaceSide ?? MIN_FACE_SIDE;
  if (side < minSide) {
    throw new PortraitError('face.too_small', `main face is ${Math.round(side)} px, under ${minSide}`, {
      selfie,
      got: `${Math.round(side)} px`,
      limit: `${minSide} px`,
    });
  }
  // The main face gets refined landmarks (a level eye line matters for every later stage); the list keeps
  // it at the same position, so `faces.indexOf(mainFace)` still finds it.
  const mainFace = await refineLandmarks(image, detected);
  faces[index] = mainFace;
  return { faces, mainFace };
}
