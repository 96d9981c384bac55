import sharp from 'sharp';
import { deriveSeed, mulberry32 } from '../../core/random.js';
import type { RgbImage } from '../types.js';

/**
 * Lighting-aware stitching (IC-Portrait sec. 3.2): one canvas holding the reference and the target side by side,
 * with most of the target side masked, so a diffusion model reads identity and lighting from the reference half
 * "in context" and paints the masked target half.
 *
 * LAYOUT (what the diffusion engine consumes; S = `size`, default 512, a multiple of 8 for the SD VAE):
 *
 *   x:   0 ........ S-1 | S ....... 2S-1
 *        reference      | target (the reference warped to the target pose and relit to the target lighting)
 *
 * - `canvas`        Float32Array [1, 3, S, 2S], NCHW, RGB, values in [-1, 1] (v / 127.5 - 1): ready for vae_encoder.
 * - `mask`          Float32Array [1, 1, S, 2S], 1 = masked (to be generated), 0 = kept. The left half is all 0.
 *                   Inpainting convention (diffusers' 9-channel UNet). Made of `patch` x `patch` squares (default
 *                   32 px = 4 latent cells) chosen by a PRNG seeded from the request seed, covering `maskRatio` of
 *                   the target side (default 0.8) up to one patch of rounding.
 * - `maskedCanvas`  Float32Array [1, 3, S, 2S]: `canvas` with masked pixels set to 0 (mid grey), exactly
 *                   diffusers' `masked_image = image * (mask < 0.5)`; vae-encode it for the masked-image latent.
 * - `warpedTarget`  Float32Array [1, 3, S, S], [-1, 1]: the target side alone (the view-consistent condition),
 *                   vae-encode it for the extra conditioning channels.
 * - `reference`     Float32Array [1, 3, S, S], [-1, 1]: the reference side alone.
 * `StitchConditions` is a superset of the diffusion engine's `DiffusionConditions` (size, reference,
 * warpedTarget, canvas, mask), so it can be handed over as is.
 * - `latentMask(c)` gives the mask at latent resolution [1, 1, S/8, 2S/8] (max-pooled: a cell is masked when any
 *                   of its pixels is).
 * Generated pixels for the portrait are the right half: crop x in [S, 2S) from the decoded canvas.
 */
export interface StitchConditions {
  canvas: Float32Array;
  mask: Float32Array;
  maskedCanvas: Float32Array;
  warpedTarget: Float32Array;
  reference: Float32Array;
  /** 2S */
  width: number;
  /** S */
  height: number;
  /** S: the side of each half. */
  size: number;
  /** The share of the target side actually masked. */
  maskRatio: number;
  patch: number;
  seed: number;
}

export interface StitchOptions {
  /** Side of each half in pixels (multiple of 8). @defaultValue 512 */
  size?: number;
  /** Share of the target side to mask, 0..1. @defaultValue 0.8 */
  maskRatio?: number;
  /** Mask patch side in pixels. @defaultValue 32 */
  patch?: number;
  /** Request seed; the mask uses its own stream derived from it. */
  seed: number;
}

export const DEFAULT_STITCH_SIZE = 512;
export const DEFAULT_MASK_RATIO = 0.8;
export const DEFAULT_MASK_PATCH = 32;

/**
 * The patch mask of the target side alone: Float32Array [S * S], 1 = masked. Deterministic in (size, ratio, patch,
 * seed). Exactly round(ratio * patches) patches are masked.
 */
export function patchMask(size: number, ratio: number, patch: number, seed: number): Float32Array {
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`mask ratio ${ratio} is outside 0..1`);
  if (!(patch >= 1 && Number.isInteger(patch))) throw new RangeError(`mask patch ${patch} must be a positive integer`);
  const cells = Math.ceil(size / patch);
  const order = mulberry32(deriveSeed(seed, 'stitch-mask')).shuffle(Array.from({ length: cells * cells }, (_, i) => i));
  const masked = order.slice(0, Math.round(ratio * cells * cells));
  const out = new Float32Array(size * size);
  for (const cell of masked) {
    const cx = (cell % cells) * patch;
    const cy = Math.floor(cell / cells) * patch;
    for (let y = cy; y < Math.min(size, cy + patch); y++)
      out.fill(1, y * size + cx, y * size + Math.min(size, cx + patch));
  }
  return out;
}

/** HWC uint8 RGB -> CHW float in [-1, 1], written into `out` (planes of `outWidth` x height) at column `x0`. */
function toPlanes(img: RgbImage, out: Float32Array, outWidth: number, x0: number): void {
  const { width, height, data } = img;
  const plane = outWidth * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      const d = y * outWidth + x0 + x;
      out[d] = (data[s] ?? 0) / 127.5 - 1;
      out[plane + d] = (data[s + 1] ?? 0) / 127.5 - 1;
      out[2 * plane + d] = (data[s + 2] ?? 0) / 127.5 - 1;
    }
  }
}

async function toSquare(img: RgbImage, size: number): Promise<RgbImage> {
  if (img.width === size && img.height === size) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: size, height: size, channels: 3 };
}

/**
 * Builds the stitched conditions from the reference (already framed like the target) and the warped, relit
 * target. Either image is resized to S x S when it is not already (both should be square: the caller frames them).
 */
export async function buildStitch(
  reference: RgbImage,
  target: RgbImage,
  options: StitchOptions,
): Promise<StitchConditions> {
  const size = options.size ?? DEFAULT_STITCH_SIZE;
  if (size % 8 !== 0 || size < 64) throw new RangeError(`stitch size ${size} must be a multiple of 8, at least 64`);
  const ratio = options.maskRatio ?? DEFAULT_MASK_RATIO;
  const patch = options.patch ?? DEFAULT_MASK_PATCH;
  const [ref, tgt] = await Promise.all([toSquare(reference, size), toSquare(target, size)]);
  const width = 2 * size;
  const plane = width * size;

  const canvas = new Float32Array(3 * plane);
  toPlanes(ref, canvas, width, 0);
  toPlanes(tgt, canvas, width, size);
  const warpedTarget = new Float32Array(3 * size * size);
  toPlanes(tgt, warpedTarget, size, 0);
  const referencePlanes = new Float32Array(3 * size * size);
  toPlanes(ref, referencePlanes, size, 0);

  const side = patchMask(size, ratio, patch, options.seed);
  const mask = new Float32Array(plane);
  let maskedCount = 0;
  for (let y = 0; y < size; y++) {
    const row = side.subarray(y * size, (y + 1) * size);
    mask.set(row, y * width + size);
    for (const v of row) maskedCount += v;
  }
  const maskedCanvas = new Float32Array(canvas);
  for (let i = 0; i < plane; i++) {
    if ((mask[i] ?? 0) >= 0.5) {
      maskedCanvas[i] = 0;
      maskedCanvas[plane + i] = 0;
      maskedCanvas[2 * plane + i] = 0;
    }
  }
  return {
    canvas,
    mask,
    maskedCanvas,
    warpedTarget,
    reference: referencePlanes,
    width,
    height: size,
    size,
    maskRatio: maskedCount / (size * size),
    patch,
    seed: options.seed,
  };
}

/** The mask at latent resolution: [1, 1, S/f, 2S/f], a cell is 1 when any pixel under it is masked. */
export function latentMask(c: Pick<StitchConditions, 'mask' | 'width' | 'height'>, factor = 8): Float32Array {
  const w = Math.floor(c.width / factor);
  const h = Math.floor(c.height / factor);
  const out = new Float32Array(w * h);
  for (let y = 0; y < c.height; y++) {
    const ly = Math.floor(y / factor);
    if (ly >= h) break;
    for (let x = 0; x < c.width; x++) {
      const lx = Math.floor(x / factor);
      if (lx < w && (c.mask[y * c.width + x] ?? 0) >= 0.5) out[ly * w + lx] = 1;
    }
  }
  return out;
}

/** CHW [-1, 1] planes -> HWC uint8 image. */
export function planesToImage(planes: Float32Array, width: number, height: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.round(((planes[c * plane + i] ?? 0) + 1) * 127.5);
      data[i * 3 + c] = Math.min(255, Math.max(0, v));
    }
  }
  return { data, width, height, channels: 3 };
}

/**
 * Debug views: the canvas, and the canvas with the mask drawn over it (masked patches tinted magenta at 55% so
 * the target underneath stays visible, with the seam between the halves marked).
 */
export function stitchDebugImages(c: StitchConditions): { canvas: RgbImage; masked: RgbImage } {
  const canvas = planesToImage(c.canvas, c.width, c.height);
  const masked = new Uint8Array(canvas.data);
  const tint = [255, 0, 200];
  for (let i = 0; i < c.width * c.height; i++) {
    if ((c.mask[i] ?? 0) < 0.5) continue;
    for (let k = 0; k < 3; k++) {
      masked[i * 3 + k] = Math.round(0.45 * (masked[i * 3 + k] ?? 0) + 0.55 * (tint[k] ?? 0));
    }
  }
  for (let y = 0; y < c.height; y++) {
    for (const x of [c.size - 1, c.size]) masked.fill(255, (y * c.width + x) * 3, (y * c.width + x) * 3 + 3);
  }
  return { canvas, masked: { data: masked, width: c.width, height: c.height, channels: 3 } };
}
