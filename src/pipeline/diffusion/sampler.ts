/**
 * The denoising loop: seeded initial latents (pure noise, or an img2img start at `strength`), the UNet input
 * assembled as [scaled latent | conditioning channels] per batch item, classifier-free guidance over a
 * [negative, positive] batch, one scheduler step per iteration, a progress event per step and cancellation
 * between steps. Everything outside the UNet call is a few passes over the latent, allocation-free per step.
 */
import { PortraitError } from '../../errors.js';
import type { RgbImage } from '../types.js';
import type { UnetCall } from './models.js';
import { fillNormal, noiseStream } from './noise.js';
import { img2imgStartStep, type Scheduler } from './schedulers.js';

export interface StepEvent {
  /** 1-based step within this run, and the run's step count (fewer than requested for img2img). */
  step: number;
  steps: number;
  timestep: number;
  /** A latent-resolution RGB preview (linear projection), when previews were asked for. */
  preview?: RgbImage;
}

export interface SampleOptions {
  scheduler: Scheduler;
  unet: UnetCall;
  /** Latent shape of one sample. */
  channels: number;
  height: number;
  width: number;
  /** Extra UNet channels [extra, h, w] appended after the latent in every batch item (empty for 4-channel UNets). */
  conditioning: Float32Array;
  /** Classifier-free guidance scale; above 1 the batch is [negative, positive] and the UNet sees batch 2. */
  guidance: number;
  seed: number;
  /** img2img / in-context start: latents the run begins from, noised to the level of the first step run. */
  init?: Float32Array;
  /** Fraction of the schedule to run from `init` (1 = from pure noise, ignoring init). */
  strength?: number;
  onStep?: (event: StepEvent) => void;
  /** Previews on every step (true), or on the steps this returns true for (a caller throttling them by time). */
  preview?: boolean | (() => boolean);
  signal?: AbortSignal;
}

export function usesGuidance(guidance: number): boolean {
  return guidance > 1;
}

export function cancelled(): PortraitError {
  return new PortraitError('job.cancelled', 'generation cancelled');
}

/** Runs the loop and returns the final latents [channels, h, w]. */
export async function sample(options: SampleOptions): Promise<Float32Array> {
  const { scheduler, channels, height, width, conditioning, guidance } = options;
  const plane = height * width;
  const latentSize = channels * plane;
  const extra = conditioning.length;
  if (extra % plane !== 0) throw new Error(`conditioning has ${extra} values, not a multiple of ${height}x${width}`);
  const itemSize = latentSize + extra;
  const cfg = usesGuidance(guidance);
  const batch = cfg ? 2 : 1;
  const total = scheduler.timesteps.length;

  const noise = fillNormal(noiseStream(options.seed, 'latents'), new Float32Array(latentSize));
  const stepRng = noiseStream(options.seed, 'sampler');
  const strength = options.strength ?? 1;
  const start = options.init && strength < 1 ? img2imgStartStep(total, strength) : 0;
  if (start >= total)
    throw new PortraitError('request.bad_option', 'strength is too low to run any step', {
      option: 'strength',
      expected: 'a larger strength',
    });
  const latents = new Float32Array(latentSize);
  if (options.init && strength < 1) {
    scheduler.addNoise(options.init, noise, start, latents);
  } else {
    const sigma = scheduler.initNoiseSigma;
    for (let k = 0; k < latentSize; k++) latents[k] = noise[k]! * sigma;
  }

  // The UNet input buffer: conditioning is written once, the latent part every step.
  const input = new Float32Array(batch * itemSize);
  for (let b = 0; b < batch; b++) input.set(conditioning, b * itemSize + latentSize);
  const guided = cfg ? new Float32Array(latentSize) : undefined;

  for (let i = start; i < total; i++) {
    if (options.signal?.aborted) throw cancelled();
    const scale = scheduler.inputScale(i);
    for (let b = 0; b < batch; b++) {
      const o = b * itemSize;
      for (let k = 0; k < latentSize; k++) input[o + k] = latents[k]! * scale;
    }
    const t = scheduler.timesteps[i]!;
    const out = await options.unet(input, t);
    let prediction: Float32Array;
    if (guided) {
      // out = [negative | positive]: eps = neg + g * (pos - neg)
      for (let k = 0; k < latentSize; k++) {
        const neg = out[k]!;
        guided[k] = neg + guidance * (out[latentSize + k]! - neg);
      }
      prediction = guided;
    } else {
      prediction = out.length === latentSize ? out : out.subarray(0, latentSize);
    }
    scheduler.step(prediction, i, latents, stepRng);
    if (options.onStep) {
      const event: StepEvent = { step: i - start + 1, steps: total - start, timestep: t };
      const wanted = typeof options.preview === 'function' ? options.preview() : options.preview;
      if (wanted) event.preview = latentPreview(latents, channels, height, width);
      options.onStep(event);
    }
  }
  if (options.signal?.aborted) throw cancelled();
  return latents;
}

/**
 * SD 1.x/2.x latent -> RGB linear factors (a least-squares fit widely used for live previews). Good enough to
 * show the composition forming; never used for the result.
 */
const PREVIEW_FACTORS = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
] as const;

/** A cheap preview of latents [c, h, w] at latent resolution (one RGB pixel per latent position). */
export function latentPreview(latents: Float32Array, channels: number, height: number, width: number): RgbImage {
  const plane = height * width;
  const data = new Uint8Array(plane * 3);
  const used = Math.min(channels, PREVIEW_FACTORS.length);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let l = 0; l < used; l++) v += latents[l * plane + p]! * PREVIEW_FACTORS[l]![c]!;
      data[p * 3 + c] = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
    }
  }
  return { data, width, height, channels: 3 };
}
