/**
 * In-context generation on a loaded pack: encode the prompt pair once, encode the conditioning images once,
 * assemble the UNet's extra channels exactly as the pack declares them, then denoise and decode once per seed
 * (variations = seeds) and keep the target view.
 *
 * How each UNet variant is driven:
 *   text-to-image (4)     img2img from the warped, relit target at the pack's strength
 *   inpainting (9)        in context: side-by-side canvas, stitch mask, masked-canvas latents; output right half
 *   instruct-pix2pix (8)  the warped target's latents as image conditioning
 *   ic-portrait           the channels portrait-pack.json declares, in its layout
 */
import { PortraitError } from '../../errors.js';
import type { RgbImage } from '../types.js';
import {
  checkConditions,
  type DiffusionConditions,
  layoutMask,
  rightHalf,
  sourceImage,
  tensorToRgb,
} from './conditions.js';
import type { ChannelSource } from './manifest.js';
import { decodeLatents, encodeImage, encodeText, unetCaller } from './models.js';
import { noiseStream } from './noise.js';
import { type DiffusionPack, LATENT_FACTOR } from './pack.js';
import { type StepEvent, sample, usesGuidance } from './sampler.js';
import type { SchedulerName } from './scheduler-config.js';
import { createScheduler } from './schedulers.js';

export interface GenerateOptions {
  prompt: string;
  negativePrompt?: string;
  /** One image per seed. */
  seeds: readonly number[];
  steps?: number;
  guidance?: number;
  strength?: number;
  scheduler?: SchedulerName;
  karras?: boolean;
  /** Progress per step; `variation` is the 0-based index into `seeds`. */
  onStep?: (event: StepEvent & { variation: number }) => void;
  /** Previews on every step, or on the steps this returns true for (see SampleOptions.preview). */
  preview?: boolean | (() => boolean);
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** One target view per seed, resolution x resolution. */
  images: RgbImage[];
  /** Milliseconds: text encoding, VAE encoding, denoising (all seeds), VAE decoding (all seeds). */
  timings: { text: number; encode: number; denoise: number; decode: number };
  /** UNet steps run per image. */
  steps: number;
  /** UNet batch per step (2 with classifier-free guidance). */
  batch: number;
}

/** Fills a prompt template's {style}, {pose} and {lighting}, dropping empty parts and their commas. */
export function fillPrompt(template: string, parts: { style: string; pose: string; lighting: string }): string {
  return template
    .replace(/\{(style|pose|lighting)\}/g, (_, key: 'style' | 'pose' | 'lighting') => parts[key].trim())
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'lighting' && s !== 'pose')
    .join(', ');
}

export async function generate(
  pack: DiffusionPack,
  conditions: DiffusionConditions,
  options: GenerateOptions,
): Promise<GenerateResult> {
  const info = pack.info;
  const problem = checkConditions(conditions);
  if (problem) throw new Error(`diffusion conditions: ${problem}`);
  if (conditions.size !== info.resolution) {
    throw new Error(`diffusion conditions are ${conditions.size}px, the pack runs at ${info.resolution}px`);
  }
  if (options.seeds.length === 0) throw new Error('generate needs at least one seed');
  const abort = (): void => {
    if (options.signal?.aborted) throw new PortraitError('job.cancelled', 'generation cancelled');
  };
  const size = info.resolution;
  const side = info.layout === 'side-by-side';
  const pixelW = side ? 2 * size : size;
  const h = size / LATENT_FACTOR;
  const w = pixelW / LATENT_FACTOR;
  const plane = h * w;
  const guidance = options.guidance ?? info.defaults.guidance;
  const cfg = usesGuidance(guidance);
  const steps = options.steps ?? info.defaults.steps;
  const scheduler = () =>
    createScheduler(options.scheduler ?? info.scheduler, info.schedulerConfig, steps, {
      karras: options.karras ?? info.karras,
      predictionType: info.predictionType,
    });
  scheduler(); // validates the step count before any model runs

  let t0 = performance.now();
  abort();
  const prompts = cfg ? [options.negativePrompt ?? info.defaults.negativePrompt, options.prompt] : [options.prompt];
  const text = await encodeText(pack, prompts);
  const timings = { text: performance.now() - t0, encode: 0, denoise: 0, decode: 0 };

  // Each conditioning image is encoded once, whichever groups use it. VAE sampling noise is seeded by the
  // first seed, so variations differ only in their diffusion noise.
  t0 = performance.now();
  const vaeRng = noiseStream(options.seeds[0]!, 'vae');
  const encoded = new Map<ChannelSource, Promise<Float32Array>>();
  const latentOf = (source: Exclude<ChannelSource, 'stitch_mask'>): Promise<Float32Array> => {
    let p = encoded.get(source);
    if (!p) {
      p = encodeImage(pack, sourceImage(source, conditions, info.layout), size, pixelW, vaeRng);
      encoded.set(source, p);
    }
    return p;
  };
  const extraCount = info.extraChannels.reduce((n, g) => n + g.channels, 0);
  const conditioning = new Float32Array(extraCount * plane);
  let offset = 0;
  for (const group of info.extraChannels) {
    abort();
    const data = group.source === 'stitch_mask' ? layoutMask(conditions, info.layout) : await latentOf(group.source);
    conditioning.set(data, offset);
    offset += group.channels * plane;
  }
  const strength = options.strength ?? info.defaults.strength;
  const init = strength < 1 ? await latentOf('warped_view_latent') : undefined;
  timings.encode = performance.now() - t0;

  const batch = cfg ? 2 : 1;
  const unet = unetCaller(pack, text, batch, info.unetChannels, h, w);
  const images: RgbImage[] = [];
  let stepsRun = 0;
  for (const [variation, seed] of options.seeds.entries()) {
    abort();
    t0 = performance.now();
    const latents = await sample({
      scheduler: scheduler(),
      unet,
      channels: info.latentChannels,
      height: h,
      width: w,
      conditioning,
      guidance,
      seed,
      ...(init ? { init, strength } : {}),
      ...(options.preview ? { preview: options.preview } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: (e) => {
        stepsRun = e.steps;
        options.onStep?.({ ...e, variation });
      },
    });
    timings.denoise += performance.now() - t0;
    abort();
    t0 = performance.now();
    const decoded = await decodeLatents(pack, latents, h, w);
    const target = side ? rightHalf(decoded, size, 3) : decoded;
    images.push(tensorToRgb(target, size, size));
    timings.decode += performance.now() - t0;
  }
  return { images, timings, steps: stepsRun, batch };
}
