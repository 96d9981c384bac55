/**
 * Seeded, reproducible latent noise on the project's PRNG (src/core/random.ts): the same seed gives the same
 * initial latents and the same ancestral noise on every machine. Independent streams (initial latents, VAE
 * sampling, sampler noise) come from labelled derived seeds so they never correlate.
 */
import { deriveSeed, mulberry32, type Random } from '../../core/random.js';

export type { Random } from '../../core/random.js';

/** A generator for one purpose of one seed, e.g. `noiseStream(seed, 'latents')`. */
export function noiseStream(seed: number, label: string): Random {
  return mulberry32(deriveSeed(seed, `diffusion:${label}`));
}

/** Fills `out` with standard normal deviates from `rng` and returns it. */
export function fillNormal(rng: Random, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/** `count` standard normal values for `seed` and `label`. */
export function gaussianNoise(count: number, seed: number, label: string): Float32Array {
  return fillNormal(noiseStream(seed, label), new Float32Array(count));
}
