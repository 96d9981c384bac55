import * as ort from 'onnxruntime-node';
import { resizeImage } from '../image.js';
import { getSession } from '../models/index.js';
import type { RgbImage } from '../types.js';
import type { Plane } from './plane.js';

/**
 * The three segmentation-side models, each fed as its model card (src/pipeline/models/cards.ts) says (their layouts differ) and
 * answering in its own resolution; callers resample to the photo.
 */

export const SELFIE_SIZE = 256;
export const PARTS_SIZE = 512;
export const DEPTH_WIDTH = 320;
export const DEPTH_HEIGHT = 192;

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

function output(outputs: ort.InferenceSession.OnnxValueMapType, name: string, length: number): Float32Array {
  const t = outputs[name];
  if (!t || !(t.data instanceof Float32Array) || t.data.length !== length) {
    throw new Error(`segmentation model output ${name} is missing or not ${length} float32 values`);
  }
  return t.data;
}

/** MediaPipe selfie segmentation: NHWC RGB 0..1, the whole image stretched to 256x256. */
export async function runSelfieSegmentation(image: RgbImage): Promise<Plane> {
  const small = await resizeImage(image, SELFIE_SIZE, SELFIE_SIZE);
  const n = SELFIE_SIZE * SELFIE_SIZE;
  const input = new Float32Array(n * 3);
  const src = small.data;
  for (let i = 0; i < n * 3; i++) input[i] = (src[i] ?? 0) / 255;
  const session = await getSession('selfie-segmentation');
  const out = await session.run({ 'input_1:0': new ort.Tensor('float32', input, [1, SELFIE_SIZE, SELFIE_SIZE, 3]) });
  return { width: SELFIE_SIZE, height: SELFIE_SIZE, data: output(out, 'activation_10', n) };
}

/** Skin, clothes and hair probabilities at 512x512 (PAN): NCHW RGB with ImageNet mean and std. */
export interface PartPlanes {
  skin: Plane;
  clothes: Plane;
  hair: Plane;
}

export async function runSkinClothesHair(image: RgbImage): Promise<PartPlanes> {
  const small = await resizeImage(image, PARTS_SIZE, PARTS_SIZE);
  const n = PARTS_SIZE * PARTS_SIZE;
  const input = new Float32Array(n * 3);
  const src = small.data;
  for (let c = 0; c < 3; c++) {
    const mean = IMAGENET_MEAN[c] ?? 0;
    const scale = 1 / (255 * (IMAGENET_STD[c] ?? 1));
    const bias = mean / (IMAGENET_STD[c] ?? 1);
    const base = c * n;
    for (let i = 0; i < n; i++) input[base + i] = (src[i * 3 + c] ?? 0) * scale - bias;
  }
  const session = await getSession('skin-clothes-hair');
  const out = await session.run({ 'x.1': new ort.Tensor('float32', input, [1, 3, PARTS_SIZE, PARTS_SIZE]) });
  const all = output(out, '1273', 3 * n);
  const at = (c: number): Plane => ({ width: PARTS_SIZE, height: PARTS_SIZE, data: all.subarray(c * n, (c + 1) * n) });
  return { skin: at(0), clothes: at(1), hair: at(2) };
}

/** TCMonoDepth: NCHW RGB raw 0..255 at 320x192; relative inverse depth (larger = nearer), not normalised. */
export async function runDepth(image: RgbImage): Promise<Plane> {
  const small = await resizeImage(image, DEPTH_WIDTH, DEPTH_HEIGHT);
  const n = DEPTH_WIDTH * DEPTH_HEIGHT;
  const input = new Float32Array(n * 3);
  const src = small.data;
  for (let c = 0; c < 3; c++) {
    const base = c * n;
    for (let i = 0; i < n; i++) input[base + i] = src[i * 3 + c] ?? 0;
  }
  const session = await getSession('depth');
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, DEPTH_HEIGHT, DEPTH_WIDTH]) });
  return { width: DEPTH_WIDTH, height: DEPTH_HEIGHT, data: output(out, 'output', n) };
}
