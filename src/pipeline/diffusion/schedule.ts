/**
 * Noise schedules: betas, cumulative alphas, timestep spacings and sigma tables, in float64, following the
 * published formulas as diffusers implements them (DDPM/DDIM, Karras et al. 2022, DPM-Solver++, LCM).
 * Pure functions; the samplers in schedulers.ts step with them.
 */
import type { SchedulerConfig, TimestepSpacing } from './scheduler-config.js';

/** n evenly spaced values from a to b inclusive (numpy.linspace). */
export function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/** numpy's round(): half to even, so spacings match diffusers exactly at .5 boundaries. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function betas(config: SchedulerConfig): Float64Array {
  const n = config.trainSteps;
  if (config.trainedBetas) return Float64Array.from(config.trainedBetas);
  switch (config.betaSchedule) {
    case 'linear':
      return Float64Array.from(linspace(config.betaStart, config.betaEnd, n));
    case 'scaled_linear':
      // Stable Diffusion's schedule: linear in sqrt(beta).
      return Float64Array.from(linspace(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), n), (v) => v * v);
    case 'squaredcos_cap_v2': {
      const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      return Float64Array.from({ length: n }, (_, i) => Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999));
    }
  }
}

/** alpha_bar_t = prod(1 - beta_s, s <= t); with `rescaleZeroSnr`, rescaled so the last step is pure noise. */
export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const b = betas(config);
  const out = new Float64Array(b.length);
  let prod = 1;
  for (let i = 0; i < b.length; i++) {
    prod *= 1 - b[i]!;
    out[i] = prod;
  }
  if (!config.rescaleZeroSnr) return out;
  // Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", algorithm 1.
  const sqrtAcp = Array.from(out, Math.sqrt);
  const first = sqrtAcp[0]!;
  const last = sqrtAcp[sqrtAcp.length - 1]!;
  const rescaled = sqrtAcp.map((v) => ((v - last) * first) / (first - last));
  const acp = rescaled.map((v) => v * v);
  acp[acp.length - 1] = 2 ** -24; // diffusers' guard against an infinite sigma
  return Float64Array.from(acp);
}

/** Training sigmas sqrt((1 - alpha_bar) / alpha_bar), increasing with t. */
export function trainSigmas(acp: Float64Array): Float64Array {
  return acp.map((a) => Math.sqrt((1 - a) / a));
}

/** Sigma at a (fractional) training timestep, interpolated linearly in t as diffusers does. */
export function sigmaAt(t: number, sigmas: Float64Array): number {
  const n = sigmas.length;
  if (t <= 0) return sigmas[0]!;
  if (t >= n - 1) return sigmas[n - 1]!;
  const lo = Math.floor(t);
  const w = t - lo;
  return sigmas[lo]! + w * (sigmas[lo + 1]! - sigmas[lo]!);
}

/** Karras et al. 2022 eq. 5: sigmas evenly spaced in sigma^(1/rho), from sigmaMax down to sigmaMin. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): number[] {
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** The (fractional) training timestep of a sigma: linear interpolation in log-sigma (diffusers `_sigma_to_t`). */
export function sigmaToT(sigma: number, logSigmas: Float64Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let count = 0;
  for (const ls of logSigmas) if (logSigma - ls >= 0) count++;
  const low = Math.min(Math.max(count - 1, 0), logSigmas.length - 2);
  const high = low + 1;
  const lowV = logSigmas[low]!;
  const highV = logSigmas[high]!;
  const w = Math.min(Math.max((lowV - logSigma) / (lowV - highV), 0), 1);
  return (1 - w) * low + w * high;
}

/**
 * Timesteps for `steps` inference steps, from noisiest to cleanest (diffusers `set_timesteps`).
 * `integer` rounds linspace as DDIM does; Euler keeps fractional timesteps.
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  trainSteps: number,
  steps: number,
  stepsOffset: number,
  integer: boolean,
): number[] {
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(trainSteps / steps);
      return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + stepsOffset);
    }
    case 'trailing': {
      const ratio = trainSteps / steps;
      return Array.from({ length: steps }, (_, i) => roundHalfEven(trainSteps - i * ratio) - 1);
    }
    case 'linspace': {
      const ts = linspace(0, trainSteps - 1, steps).reverse();
      return integer ? ts.map(roundHalfEven) : ts;
    }
  }
}

/**
 * DPM-Solver's spacings: diffusers divides the range into steps + 1 points and drops the last (t = 0)
 * for linspace and leading, so a 25-step linspace run starts at 999 and ends at 40.
 */
export function dpmTimesteps(
  spacing: TimestepSpacing,
  trainSteps: number,
  steps: number,
  stepsOffset: number,
): number[] {
  switch (spacing) {
    case 'linspace':
      return linspace(0, trainSteps - 1, steps + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, steps);
    case 'leading': {
      const ratio = Math.floor(trainSteps / (steps + 1));
      return Array.from({ length: steps }, (_, i) => (steps - i) * ratio + stepsOffset);
    }
    case 'trailing':
      return spacedTimesteps('trailing', trainSteps, steps, stepsOffset, true);
  }
}

/** LCM's timesteps: a skipping schedule over the distillation's original steps (diffusers LCMScheduler). */
export function lcmTimesteps(trainSteps: number, steps: number, originalSteps: number): number[] {
  const k = Math.floor(trainSteps / originalSteps);
  const origin = Array.from({ length: originalSteps }, (_, i) => (i + 1) * k - 1).reverse();
  const indices = Array.from({ length: steps }, (_, i) => Math.floor((i * originalSteps) / steps));
  return indices.map((i) => origin[i]!);
}
