import * as ort from 'onnxruntime-node';
import { PortraitError } from '../../errors.js';
import { getSession, getSessionForFile, isModelId } from '../models/index.js';
import type { Point, RgbImage } from '../types.js';

/**
 * Optional identity score: how much the output still looks like the reference, as the cosine similarity of two
 * face embeddings from any ArcFace-style model (input [1, 3, 112, 112] RGB, (x - 127.5) / 128, face aligned by a
 * 5-point similarity transform to the standard ArcFace template; output [1, D]). Nothing requires one: without a
 * configured model the engines simply report no identity figure.
 *
 * Same person is ~0.5-0.8 with the test model, different people ~0.0-0.2.
 */

/** ArcFace's 112 x 112 template (InsightFace `arcface_dst`): right eye, left eye, nose, right and left mouth corner
 * of the subject (image-left first), the same order as the detector's `Face.landmarks`. */
export const ARCFACE_TEMPLATE: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];
export const ARCFACE_SIZE = 112;

/** x' = a x - b y + tx, y' = b x + a y + ty (rotation, uniform scale, translation). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity transform mapping `src` points onto `dst` (Umeyama 1991, 2-D closed form). */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = Math.min(src.length, dst.length);
  if (n < 2) throw new RangeError('a similarity transform needs at least two point pairs');
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += (src[i] as Point).x;
    sy += (src[i] as Point).y;
    dx += (dst[i] as Point).x;
    dy += (dst[i] as Point).y;
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const px = (src[i] as Point).x - sx;
    const py = (src[i] as Point).y - sy;
    const qx = (dst[i] as Point).x - dx;
    const qy = (dst[i] as Point).y - dy;
    num1 += px * qx + py * qy;
    num2 += px * qy - py * qx;
    den += px * px + py * py;
  }
  if (den === 0) throw new RangeError('degenerate landmarks: all points coincide');
  const a = num1 / den;
  const b = num2 / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/**
 * The face cut out and aligned to the ArcFace template (size x size, bilinear, black outside the image).
 * `landmarks` are the 5 detector points in image pixels.
 */
export function alignFace(image: RgbImage, landmarks: readonly Point[], size = ARCFACE_SIZE): RgbImage {
  const scale = size / ARCFACE_SIZE;
  const template = ARCFACE_TEMPLATE.map((p) => ({ x: p.x * scale, y: p.y * scale }));
  // Map output pixels back into the image: the inverse of image -> template.
  const t = estimateSimilarity(template, landmarks);
  const { width, height, data } = image;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = t.a * x - t.b * y + t.tx;
      const v = t.b * x + t.a * y + t.ty;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      if (x0 < 0 || y0 < 0 || x0 >= width - 1 || y0 >= height - 1) continue;
      const fx = u - x0;
      const fy = v - y0;
      const i00 = (y0 * width + x0) * 3;
      const i10 = i00 + 3;
      const i01 = i00 + width * 3;
      const i11 = i01 + 3;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = (data[i00 + c] ?? 0) * (1 - fx) + (data[i10 + c] ?? 0) * fx;
        const bottom = (data[i01 + c] ?? 0) * (1 - fx) + (data[i11 + c] ?? 0) * fx;
        out[o + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { data: out, width: size, height: size, channels: 3 };
}

export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** The subset of an ORT session the embedder uses, so tests and the model registry can hand one in. */
export interface EmbeddingSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release?(): Promise<void>;
}

export interface IdentityEmbedder {
  /** A unit-length embedding of the face with these 5 landmarks. */
  embed(image: RgbImage, landmarks: readonly Point[]): Promise<Float32Array>;
  /** Cosine similarity of the faces in two images. */
  similarity(
    a: { image: RgbImage; landmarks: readonly Point[] },
    b: { image: RgbImage; landmarks: readonly Point[] },
  ): Promise<number>;
  dispose(): Promise<void>;
}

/** Wraps a loaded ArcFace-style session. `owned` sessions are released by `dispose()`. */
export function createIdentityEmbedder(session: EmbeddingSession, owned = false): IdentityEmbedder {
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (!inputName || !outputName) {
    throw new PortraitError('model.invalid', 'identity model has no input or output', { model: 'identity' });
  }
  const embed = async (image: RgbImage, landmarks: readonly Point[]): Promise<Float32Array> => {
    const face = alignFace(image, landmarks);
    const plane = ARCFACE_SIZE * ARCFACE_SIZE;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) input[c * plane + i] = ((face.data[i * 3 + c] ?? 0) - 127.5) / 128;
    }
    const result = await session.run({
      [inputName]: new ort.Tensor('float32', input, [1, 3, ARCFACE_SIZE, ARCFACE_SIZE]),
    });
    const output = result[outputName];
    if (output?.type !== 'float32') {
      throw new PortraitError('model.invalid', 'identity model returned no float32 embedding', { model: 'identity' });
    }
    const v = Float32Array.from(output.data as Float32Array);
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / norm;
    return v;
  };
  return {
    embed,
    async similarity(a, b) {
      const [ea, eb] = await Promise.all([embed(a.image, a.landmarks), embed(b.image, b.landmarks)]);
      return cosineSimilarity(ea, eb);
    },
    async dispose() {
      if (owned) await session.release?.();
    },
  };
}

/**
 * The embedder PORTRAIT_IDENTITY_MODEL asks for: a model id from the registry ('identity', resolved, checksummed
 * and cached like every model) or a path to any ArcFace-style .onnx. Undefined when the setting is empty.
 * Sessions come from the shared cache (src/pipeline/models), which owns and releases them.
 */
export async function identityEmbedderFor(setting: string | undefined): Promise<IdentityEmbedder | undefined> {
  if (!setting) return undefined;
  const session = isModelId(setting) ? await getSession(setting) : await getSessionForFile(setting);
  return createIdentityEmbedder(session, false);
}
