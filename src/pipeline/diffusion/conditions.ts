/**
 * The conditions a diffusion run starts from, and the tensor plumbing between them and the UNet: RGB <-> NCHW
 * [-1, 1], the side-by-side canvas, the mask at latent resolution, and the extra UNet channels assembled in the
 * order the pack declares.
 *
 * The stitch (src/pipeline/incontext/) produces these; the engine only needs this shape.
 */
import type { RgbImage } from '../types.js';
import type { CanvasLayout, ChannelSource } from './manifest.js';
import { LATENT_FACTOR } from './pack.js';

export interface DiffusionConditions {
  /** Pixels per view (S); every tensor below is at this size. */
  size: number;
  /** The reference face, NCHW [1, 3, S, S] in [-1, 1]. */
  reference: Float32Array;
  /** The reference warped to the target pose and relit, NCHW [1, 3, S, S] in [-1, 1]. */
  warpedTarget: Float32Array;
  /** The stitch canvas NCHW [1, 3, S, 2S] in [-1, 1]: reference on the left, target on the right. */
  canvas: Float32Array;
  /** The stitch mask [1, 1, S, 2S] in [0, 1], 1 where the model generates. */
  mask: Float32Array;
}

/** NCHW float in [-1, 1] (columns x0..x0+outWidth of a width-wide image) -> interleaved RGB. */
export function tensorToRgb(tensor: Float32Array, width: number, height: number, x0 = 0, outWidth = width): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(outWidth * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      const src = y * width + x0 + x;
      const dst = (y * outWidth + x) * 3;
      for (let c = 0; c < 3; c++) {
        data[dst + c] = Math.max(0, Math.min(255, Math.round((tensor[c * plane + src]! + 1) * 127.5)));
      }
    }
  }
  return { data, width: outWidth, height, channels: 3 };
}

/** Two [c, S, S] tensors side by side -> [c, S, 2S]. */
export function sideBySide(left: Float32Array, right: Float32Array, size: number, channels = 3): Float32Array {
  const out = new Float32Array(channels * size * 2 * size);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      const src = c * size * size + y * size;
      const dst = c * size * 2 * size + y * 2 * size;
      out.set(left.subarray(src, src + size), dst);
      out.set(right.subarray(src, src + size), dst + size);
    }
  }
  return out;
}

/** The right half of a [c, S, 2S] tensor -> [c, S, S]. */
export function rightHalf(tensor: Float32Array, size: number, channels: number): Float32Array {
  const out = new Float32Array(channels * size * size);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      const src = c * size * 2 * size + y * 2 * size + size;
      out.set(tensor.subarray(src, src + size), c * size * size + y * size);
    }
  }
  return out;
}

/** The image with masked pixels blanked to 0 (mid grey), as diffusers builds the inpainting masked image. */
export function maskImage(image: Float32Array, mask: Float32Array): Float32Array {
  const plane = mask.length;
  const out = new Float32Array(image.length);
  for (let c = 0; c < image.length / plane; c++) {
    for (let p = 0; p < plane; p++) out[c * plane + p] = mask[p]! >= 0.5 ? 0 : image[c * plane + p]!;
  }
  return out;
}

/** Nearest-neighbour downsample of a [1, H, W] mask to latent resolution (diffusers' F.interpolate default). */
export function latentMask(mask: Float32Array, width: number, height: number): Float32Array {
  const lw = width / LATENT_FACTOR;
  const lh = height / LATENT_FACTOR;
  const out = new Float32Array(lw * lh);
  for (let y = 0; y < lh; y++) {
    for (let x = 0; x < lw; x++) out[y * lw + x] = mask[y * LATENT_FACTOR * width + x * LATENT_FACTOR]!;
  }
  return out;
}

/** The image each source encodes, in the pack's layout (side by side: S x 2S; single: the target view, S x S). */
export function sourceImage(
  source: Exclude<ChannelSource, 'stitch_mask'>,
  conditions: DiffusionConditions,
  layout: CanvasLayout,
): Float32Array {
  const { size, reference, warpedTarget, canvas, mask } = conditions;
  const single = layout === 'single';
  switch (source) {
    case 'stitch_latent':
      return single ? rightHalf(canvas, size, 3) : canvas;
    case 'masked_stitch_latent':
      return single ? maskImage(rightHalf(canvas, size, 3), rightHalf(mask, size, 1)) : maskImage(canvas, mask);
    case 'warped_view_latent':
      return single ? warpedTarget : sideBySide(reference, warpedTarget, size);
    case 'reference_latent':
      return single ? reference : sideBySide(reference, reference, size);
  }
}

/** The stitch mask in the pack's layout, at latent resolution. */
export function layoutMask(conditions: DiffusionConditions, layout: CanvasLayout): Float32Array {
  const { size, mask } = conditions;
  return layout === 'single' ? latentMask(rightHalf(mask, size, 1), size, size) : latentMask(mask, 2 * size, size);
}

/** Checks that conditions have the sizes their `size` promises; returns a problem or undefined. */
export function checkConditions(c: DiffusionConditions): string | undefined {
  const s = c.size;
  if (!Number.isInteger(s) || s % LATENT_FACTOR !== 0) return `size ${s} is not a multiple of ${LATENT_FACTOR}`;
  if (c.reference.length !== 3 * s * s) return `reference has ${c.reference.length} values, expected 3x${s}x${s}`;
  if (c.warpedTarget.length !== 3 * s * s)
    return `warpedTarget has ${c.warpedTarget.length} values, expected 3x${s}x${s}`;
  if (c.canvas.length !== 3 * s * 2 * s) return `canvas has ${c.canvas.length} values, expected 3x${s}x${2 * s}`;
  if (c.mask.length !== s * 2 * s) return `mask has ${c.mask.length} values, expected 1x${s}x${2 * s}`;
  return undefined;
}
