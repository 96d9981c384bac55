/**
 * The `diffusion` engine: IC-Portrait generation on an ONNX model pack. The pack is loaded and validated once
 * when the engine is created (a broken pack fails the worker's start, never a job); sessions live until dispose.
 *
 * Conditions (reference view, warped + relit target, stitch canvas and mask) come from a `ConditionsBuilder`:
 * the engine factory (engines/index.ts) passes the compositor's warp + relight (`compositorConditions`).
 * `faceCropConditions` (below), the unwarped face crop as both views, is the fallback for callers that give none.
 */

import sharp from 'sharp';
import { stylePrompt } from '../../core/style.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { type DiffusionConditions, tensorToRgb } from '../diffusion/conditions.js';
import { fillPrompt, generate } from '../diffusion/generate.js';
import { type DiffusionPack, loadPack } from '../diffusion/pack.js';
import type { SchedulerName } from '../diffusion/scheduler-config.js';
import type { ExecutionProvider } from '../diffusion/session.js';
import { buildStitch } from '../incontext/stitch.js';
import type { Progress, ProgressFn, RgbImage } from '../types.js';
import type { Engine, EngineRequest, EngineResult } from './engine.js';

/** Builds the stitch conditions for a request at `size` pixels per view. */
export type ConditionsBuilder = (request: EngineRequest, size: number) => Promise<DiffusionConditions>;

export interface SamplingOverrides {
  steps?: number;
  guidance?: number;
  strength?: number;
  scheduler?: SchedulerName;
  karras?: boolean;
}

export interface DiffusionEngineOptions {
  /** The pack folder (PORTRAIT_DIFFUSION_PACK or `--pack`). */
  packDir: string;
  provider: ExecutionProvider;
  threads: number;
  logger?: Logger;
  /** Pixels per view, overriding the pack's. */
  resolution?: number;
  conditions?: ConditionsBuilder;
  sampling?: SamplingOverrides;
  /**
   * Least milliseconds between two progress previews (PORTRAIT_PREVIEW_INTERVAL_MS); 0 gives one every step.
   * Unset, progress carries no previews.
   */
  previewIntervalMs?: number;
}

export class DiffusionEngine implements Engine {
  readonly name = 'diffusion' as const;

  constructor(
    readonly pack: DiffusionPack,
    private readonly conditions: ConditionsBuilder = faceCropConditions,
    private readonly sampling: SamplingOverrides = {},
    private readonly previewIntervalMs?: number,
  ) {}

  async generate(request: EngineRequest, onProgress: ProgressFn): Promise<EngineResult> {
    const info = this.pack.info;
    const timings: Record<string, number> = {};
    let t0 = performance.now();
    onProgress({ stage: 'stitch' });
    const conditions = await this.conditions(request, info.resolution);
    timings['stitch'] = performance.now() - t0;

    t0 = performance.now();
    const seeds = Array.from({ length: request.variations }, (_, i) => (request.seed + i) >>> 0);
    let stepsPerImage = 0;
    // Previews by time, not by step: one every interval whatever the step speed (a GPU step takes milliseconds,
    // a CPU step seconds), the first one an interval into denoising (step 1 is noise).
    const interval = this.previewIntervalMs;
    let lastPreview = performance.now();
    const preview = interval === undefined ? undefined : () => performance.now() - lastPreview >= interval;
    const sideBySide = info.layout === 'side-by-side';
    const result = await generate(this.pack, conditions, {
      prompt: fillPrompt(info.defaults.prompt, {
        // A catalogue style becomes its prompt words ("b&w" -> "black and white photograph, monochrome").
        style: stylePrompt(request.style),
        pose: request.pose,
        lighting: request.lighting,
      }),
      negativePrompt: info.defaults.negativePrompt,
      seeds,
      ...this.sampling,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(preview ? { preview } : {}),
      onStep: (e) => {
        stepsPerImage = e.steps;
        const progress: Progress = {
          stage: 'generate',
          step: e.variation * e.steps + e.step,
          steps: seeds.length * e.steps,
        };
        if (e.preview) {
          lastPreview = performance.now();
          progress.preview = sideBySide ? rightHalfRgb(e.preview) : e.preview;
        }
        onProgress(progress);
      },
    });
    timings['generate'] = performance.now() - t0;

    const images = await Promise.all(result.images.map((img) => resizeRgb(img, request.outputSize)));
    const debugImages = request.debug
      ? [
          { label: 'reference', image: tensorToRgb(conditions.reference, conditions.size, conditions.size) },
          { label: 'warped target', image: tensorToRgb(conditions.warpedTarget, conditions.size, conditions.size) },
          ...result.images.map((image, i) => ({ label: `diffusion seed ${seeds[i]}`, image })),
        ]
      : undefined;
    return {
      images,
      report: {
        engine: 'diffusion',
        variant: info.variant,
        resolution: info.resolution,
        steps: stepsPerImage,
        guidanceBatch: result.batch,
        provider: this.pack.providers.unet,
        textMs: Math.round(result.timings.text),
        vaeEncodeMs: Math.round(result.timings.encode),
        denoiseMs: Math.round(result.timings.denoise),
        vaeDecodeMs: Math.round(result.timings.decode),
      },
      timings,
      ...(debugImages ? { debugImages } : {}),
    };
  }

  async dispose(): Promise<void> {
    await this.pack.dispose();
  }
}

/** Loads and validates the pack, then builds the engine. Throws model.missing / model.invalid for a bad pack. */
export async function createDiffusionEngine(options: DiffusionEngineOptions): Promise<DiffusionEngine> {
  const pack = await loadPack(options.packDir, {
    provider: options.provider,
    threads: options.threads,
    logger: options.logger ?? silentLogger,
    ...(options.resolution ? { resolution: options.resolution } : {}),
  });
  return new DiffusionEngine(pack, options.conditions, options.sampling, options.previewIntervalMs);
}

/** The target (right) view of a side-by-side canvas preview: what the user's portrait will become. */
function rightHalfRgb(image: RgbImage): RgbImage {
  const half = Math.floor(image.width / 2);
  const width = image.width - half;
  const data = new Uint8Array(width * image.height * 3);
  for (let y = 0; y < image.height; y++) {
    const from = (y * image.width + half) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height: image.height, channels: 3 };
}

async function resizeRgb(image: RgbImage, size: number): Promise<RgbImage> {
  if (image.width === size && image.height === size) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}

/**
 * Stand-in conditions until the warp (geometry/) and relight (lighting/) stages are connected here: a square
 * crop around the main face of the first selfie, resized to `size`, used as the reference and as the (unwarped,
 * unrelit) target, stitched by incontext/ with its seeded patch mask over the target side. The lead replaces this
 * with buildStitch(reference, warpedRelitTarget, { size, seed }): StitchConditions is a DiffusionConditions.
 */
export async function faceCropConditions(request: EngineRequest, size: number): Promise<DiffusionConditions> {
  const selfie = request.selfies[0];
  if (!selfie) throw new Error('diffusion engine: no selfie');
  const { image, mainFace } = selfie;
  const box = mainFace.box;
  const side = Math.min(Math.round(Math.max(box.width, box.height) * 1.8), image.width, image.height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const left = Math.round(Math.min(Math.max(cx - side / 2, 0), image.width - side));
  const top = Math.round(Math.min(Math.max(cy - side / 2, 0), image.height - side));
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left, top, width: side, height: side })
    .resize(size, size, { kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const crop: RgbImage = {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: size,
    height: size,
    channels: 3,
  };
  return buildStitch(crop, crop, { size, seed: request.seed });
}
