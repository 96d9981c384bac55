/**
 * The samplers: DDIM (eta 0), Euler, Euler ancestral, DPM-Solver++ 2M (optionally on Karras sigmas) and LCM,
 * for epsilon and v-prediction UNets. Each is created for a number of steps and then stepped in order; the
 * arithmetic runs in float64 scalars over float32 latents, in place, so a step allocates nothing.
 */
import { PortraitError } from '../../errors.js';
import { fillNormal, type Random } from './noise.js';
import {
  alphasCumprod,
  dpmTimesteps,
  karrasSigmas,
  lcmTimesteps,
  sigmaAt,
  sigmaToT,
  spacedTimesteps,
  trainSigmas,
} from './schedule.js';
import type { PredictionType, SchedulerConfig, SchedulerName, TimestepSpacing } from './scheduler-config.js';

export interface Scheduler {
  readonly name: SchedulerName;
  /** Timesteps fed to the UNet, one per step, noisiest first (fractional for Euler's linspace). */
  readonly timesteps: readonly number[];
  /** Sigmas per step plus the final one, for sigma-space samplers (Euler, DPM++); empty for DDIM and LCM. */
  readonly sigmas: readonly number[];
  /** Standard deviation of the initial latent noise. */
  readonly initNoiseSigma: number;
  /** Factor the latent is multiplied by before the UNet call at step `i` (1/sqrt(sigma^2+1) for Euler). */
  inputScale(i: number): number;
  /**
   * One denoising step from step `i` to the next: reads the (guided) model output, updates `sample` in place.
   * `rng` supplies the fresh noise of ancestral samplers (Euler ancestral, LCM).
   */
  step(modelOutput: Float32Array, i: number, sample: Float32Array, rng: Random): void;
  /** `original` noised to the level of step `i` (img2img start), written into `out`. */
  addNoise(original: Float32Array, noise: Float32Array, i: number, out: Float32Array): void;
}

export interface SchedulerOptions {
  /** Karras sigmas (Euler family, DPM++); defaults to the config's `use_karras_sigmas`. */
  karras?: boolean;
  /** Overrides the config's (and the sampler's default) timestep spacing. */
  spacing?: TimestepSpacing;
  /** Overrides the config's prediction type (portrait-pack.json can state it). */
  predictionType?: PredictionType;
}

/** The spacing each sampler uses when the config names none (diffusers class defaults). */
const DEFAULT_SPACING: Record<SchedulerName, TimestepSpacing> = {
  ddim: 'leading',
  euler: 'linspace',
  'euler-ancestral': 'linspace',
  'dpmpp-2m': 'linspace',
  lcm: 'leading',
};

export function createScheduler(
  name: SchedulerName,
  config: SchedulerConfig,
  steps: number,
  options: SchedulerOptions = {},
): Scheduler {
  const maxSteps = name === 'lcm' ? config.originalInferenceSteps : config.trainSteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > maxSteps) {
    throw new PortraitError('request.bad_option', `steps must be 1-${maxSteps} for ${name}, got ${steps}`, {
      option: 'steps',
      expected: `a whole number from 1 to ${maxSteps}`,
    });
  }
  const spacing = options.spacing ?? config.timestepSpacing ?? DEFAULT_SPACING[name];
  const prediction = options.predictionType ?? config.predictionType;
  const karras = options.karras ?? config.karras;
  const acp = alphasCumprod(config);
  switch (name) {
    case 'ddim':
      return new Ddim(acp, spacedTimesteps(spacing, config.trainSteps, steps, config.stepsOffset, true), {
        prediction,
        stepRatio: Math.floor(config.trainSteps / steps),
        finalAlpha: config.setAlphaToOne === false ? acp[0]! : 1,
      });
    case 'euler':
    case 'euler-ancestral': {
      const train = trainSigmas(acp);
      let ts = spacedTimesteps(spacing, config.trainSteps, steps, config.stepsOffset, false);
      let sigmas = ts.map((t) => sigmaAt(t, train));
      if (karras) {
        sigmas = karrasSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, steps);
        const logSigmas = train.map(Math.log);
        ts = sigmas.map((s) => sigmaToT(s, logSigmas));
      }
      const max = Math.max(...sigmas);
      // diffusers: linspace/trailing start from sigma_max; leading from sqrt(sigma_max^2 + 1).
      const init = spacing === 'leading' ? Math.sqrt(max * max + 1) : max;
      return new Euler(name, ts, [...sigmas, 0], init, prediction);
    }
    case 'dpmpp-2m': {
      const train = trainSigmas(acp);
      let ts = dpmTimesteps(spacing, config.trainSteps, steps, config.stepsOffset);
      let sigmas: number[];
      if (karras) {
        sigmas = karrasSigmas(train[0]!, train[train.length - 1]!, steps);
        const logSigmas = train.map(Math.log);
        ts = sigmas.map((s) => Math.round(sigmaToT(s, logSigmas)));
      } else {
        sigmas = ts.map((t) => sigmaAt(t, train));
      }
      return new DpmSolverPP2M(ts, [...sigmas, 0], prediction);
    }
    case 'lcm':
      return new Lcm(acp, lcmTimesteps(config.trainSteps, steps, config.originalInferenceSteps), {
        prediction,
        finalAlpha: config.setAlphaToOne === false ? acp[0]! : 1,
        timestepScaling: config.timestepScaling,
      });
  }
}

/**
 * The first step index of an img2img run at `strength` (diffusers: the last floor(steps * strength) steps run).
 * strength 1 starts from pure noise at step 0.
 */
export function img2imgStartStep(steps: number, strength: number): number {
  const init = Math.min(Math.floor(steps * strength), steps);
  return Math.max(steps - init, 0);
}

/**
 * x0 and epsilon as linear combinations of the sample x and the model output o, in alpha-bar form (DDIM, LCM):
 * x0 = x0x * x + x0o * o, eps = epsx * x + epso * o. Coefficients per step, so the per-element loop is two FMAs.
 */
function predictionCoefficients(prediction: PredictionType, sqrtA: number, sqrtB: number) {
  if (prediction === 'epsilon') return { x0x: 1 / sqrtA, x0o: -sqrtB / sqrtA, epsx: 0, epso: 1 };
  // v = sqrt(a) * eps - sqrt(1 - a) * x0 (Salimans & Ho 2022)
  return { x0x: sqrtA, x0o: -sqrtB, epsx: sqrtB, epso: sqrtA };
}

class Ddim implements Scheduler {
  readonly name = 'ddim' as const;
  readonly sigmas: readonly number[] = [];
  readonly initNoiseSigma = 1;
  constructor(
    private readonly acp: Float64Array,
    readonly timesteps: readonly number[],
    private readonly opts: { prediction: PredictionType; stepRatio: number; finalAlpha: number },
  ) {}

  inputScale(): number {
    return 1;
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array): void {
    const t = this.timesteps[i]!;
    const prevT = t - this.opts.stepRatio;
    const a = this.acp[t]!;
    const aPrev = prevT >= 0 ? this.acp[prevT]! : this.opts.finalAlpha;
    const sqrtA = Math.sqrt(a);
    const sqrtB = Math.sqrt(1 - a);
    const sqrtAPrev = Math.sqrt(aPrev);
    const dirCoef = Math.sqrt(1 - aPrev);
    const c = predictionCoefficients(this.opts.prediction, sqrtA, sqrtB);
    // prev = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps, folded into one linear map of (x, o).
    const cx = sqrtAPrev * c.x0x + dirCoef * c.epsx;
    const co = sqrtAPrev * c.x0o + dirCoef * c.epso;
    for (let k = 0; k < sample.length; k++) sample[k] = cx * sample[k]! + co * modelOutput[k]!;
  }

  addNoise(original: Float32Array, noise: Float32Array, i: number, out: Float32Array): void {
    addNoiseAlphaBar(this.acp[this.timesteps[i]!]!, original, noise, out);
  }
}

function addNoiseAlphaBar(a: number, original: Float32Array, noise: Float32Array, out: Float32Array): void {
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  for (let k = 0; k < out.length; k++) out[k] = sa * original[k]! + sb * noise[k]!;
}

/** x0 = x0x * x + x0o * o from a model output in sigma form (Euler family: x = x0 + sigma * eps). */
function sigmaCoefficients(prediction: PredictionType, sigma: number): { x0x: number; x0o: number } {
  if (prediction === 'epsilon') return { x0x: 1, x0o: -sigma };
  const s2 = sigma * sigma + 1;
  return { x0x: 1 / s2, x0o: -sigma / Math.sqrt(s2) };
}

class Euler implements Scheduler {
  private noise: Float32Array | undefined;
  constructor(
    readonly name: 'euler' | 'euler-ancestral',
    readonly timesteps: readonly number[],
    readonly sigmas: readonly number[],
    readonly initNoiseSigma: number,
    private readonly prediction: PredictionType,
  ) {}

  inputScale(i: number): number {
    const s = this.sigmas[i]!;
    return 1 / Math.sqrt(s * s + 1);
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array, rng: Random): void {
    const sigma = this.sigmas[i]!;
    const next = this.sigmas[i + 1]!;
    let target = next;
    let up = 0;
    if (this.name === 'euler-ancestral') {
      // Ancestral: step down to sigma_down, then add fresh noise of sigma_up (k-diffusion get_ancestral_step).
      up = Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma));
      target = Math.sqrt(next * next - up * up);
    }
    const dt = target - sigma;
    // x + (x - x0) / sigma * dt, with x0 linear in (x, o).
    const c = sigmaCoefficients(this.prediction, sigma);
    const cx = 1 + ((1 - c.x0x) * dt) / sigma;
    const co = (-c.x0o * dt) / sigma;
    for (let k = 0; k < sample.length; k++) sample[k] = cx * sample[k]! + co * modelOutput[k]!;
    if (up > 0) {
      if (this.noise?.length !== sample.length) this.noise = new Float32Array(sample.length);
      const noise = fillNormal(rng, this.noise);
      for (let k = 0; k < sample.length; k++) sample[k] = sample[k]! + noise[k]! * up;
    }
  }

  addNoise(original: Float32Array, noise: Float32Array, i: number, out: Float32Array): void {
    const s = this.sigmas[i]!;
    for (let k = 0; k < out.length; k++) out[k] = original[k]! + noise[k]! * s;
  }
}

/** DPM-Solver++ 2M (Lu et al. 2022), data prediction, midpoint second order, first order at both ends. */
class DpmSolverPP2M implements Scheduler {
  readonly name = 'dpmpp-2m' as const;
  readonly initNoiseSigma = 1;
  private previousX0: Float32Array | undefined;
  private spareX0: Float32Array | undefined;
  private lastStep = -1;

  constructor(
    readonly timesteps: readonly number[],
    readonly sigmas: readonly number[],
    private readonly prediction: PredictionType,
  ) {}

  inputScale(): number {
    return 1;
  }

  /** Variance-preserving alpha_t, sigma_t and lambda_t = log(alpha_t / sigma_t) of a Karras-style sigma. */
  private coefficients(sigma: number): { alpha: number; sigmaT: number; lambda: number } {
    const alpha = 1 / Math.sqrt(sigma * sigma + 1);
    const sigmaT = sigma * alpha;
    return { alpha, sigmaT, lambda: Math.log(alpha) - Math.log(sigmaT) };
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array): void {
    const s0 = this.coefficients(this.sigmas[i]!);
    const t = this.coefficients(this.sigmas[i + 1]!);
    // Two x0 buffers in turn: this step's and the previous one's.
    const x0 = this.spareX0?.length === sample.length ? this.spareX0 : new Float32Array(sample.length);
    const [x0x, x0o] = this.prediction === 'epsilon' ? [1 / s0.alpha, -s0.sigmaT / s0.alpha] : [s0.alpha, -s0.sigmaT];
    for (let k = 0; k < sample.length; k++) x0[k] = x0x * sample[k]! + x0o * modelOutput[k]!;
    const h = t.lambda - s0.lambda; // +Infinity at the final sigma 0: exp(-h) = 0 and the step returns x0
    const ratio = this.sigmas[i + 1]! === 0 ? 0 : t.sigmaT / s0.sigmaT;
    const c = -t.alpha * Math.expm1(-h);
    const isLast = i === this.timesteps.length - 1;
    const prev = this.previousX0;
    // Second order needs the previous step's x0; the first step of a run (or an img2img start) has none.
    if (!prev || this.lastStep !== i - 1 || isLast) {
      for (let k = 0; k < sample.length; k++) sample[k] = ratio * sample[k]! + c * x0[k]!;
    } else {
      const s1 = this.coefficients(this.sigmas[i - 1]!);
      const r0 = (s0.lambda - s1.lambda) / h;
      const half = (0.5 * c) / r0;
      for (let k = 0; k < sample.length; k++) {
        const d1 = x0[k]! - prev[k]!;
        sample[k] = ratio * sample[k]! + c * x0[k]! + half * d1;
      }
    }
    this.spareX0 = this.previousX0;
    this.previousX0 = x0;
    this.lastStep = i;
  }

  addNoise(original: Float32Array, noise: Float32Array, i: number, out: Float32Array): void {
    const { alpha, sigmaT } = this.coefficients(this.sigmas[i]!);
    for (let k = 0; k < out.length; k++) out[k] = alpha * original[k]! + sigmaT * noise[k]!;
  }
}

/** Latent Consistency Model multistep sampling (Luo et al. 2023): consistency boundary scalings, fresh noise. */
class Lcm implements Scheduler {
  readonly name = 'lcm' as const;
  private noise: Float32Array | undefined;
  readonly sigmas: readonly number[] = [];
  readonly initNoiseSigma = 1;
  constructor(
    private readonly acp: Float64Array,
    readonly timesteps: readonly number[],
    private readonly opts: { prediction: PredictionType; finalAlpha: number; timestepScaling: number },
  ) {}

  inputScale(): number {
    return 1;
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array, rng: Random): void {
    const t = this.timesteps[i]!;
    const isLast = i === this.timesteps.length - 1;
    const prevT = isLast ? t : this.timesteps[i + 1]!;
    const a = this.acp[t]!;
    const aPrev = prevT >= 0 ? this.acp[prevT]! : this.opts.finalAlpha;
    const sigmaData = 0.5;
    const scaled = t * this.opts.timestepScaling;
    const cSkip = sigmaData ** 2 / (scaled ** 2 + sigmaData ** 2);
    const cOut = scaled / Math.sqrt(scaled ** 2 + sigmaData ** 2);
    const sqrtA = Math.sqrt(a);
    const sqrtB = Math.sqrt(1 - a);
    const sqrtAPrev = Math.sqrt(aPrev);
    const sqrtBPrev = Math.sqrt(1 - aPrev);
    if (!isLast && this.noise?.length !== sample.length) this.noise = new Float32Array(sample.length);
    const noise = isLast ? undefined : fillNormal(rng, this.noise!);
    const c = predictionCoefficients(this.opts.prediction, sqrtA, sqrtB);
    // denoised = c_out * x0 + c_skip * x
    const dx = cOut * c.x0x + cSkip;
    const dO = cOut * c.x0o;
    for (let k = 0; k < sample.length; k++) {
      const denoised = dx * sample[k]! + dO * modelOutput[k]!;
      sample[k] = noise ? sqrtAPrev * denoised + sqrtBPrev * noise[k]! : denoised;
    }
  }

  addNoise(original: Float32Array, noise: Float32Array, i: number, out: Float32Array): void {
    addNoiseAlphaBar(this.acp[this.timesteps[i]!]!, original, noise, out);
  }
}
