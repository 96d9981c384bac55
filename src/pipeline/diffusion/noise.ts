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

/**
 * Fills `out` with standard normal deviates from `rng` and returns it. Marsaglia's polar method: twice as fast
 * as Box-Muller's log + sqrt + sin + cos per pair, which matters for ancestral samplers (16k values a step).
 */
export function fillNormal(rng: Random, out: Float32Array): Float32Array {
  const n = out.length;
  for (let i = 0; i < n; ) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rng.next() - 1;
      v = 2 * rng.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    out[i++] = u * f;
    if (i < n) out[i++] = v * f;
  }
  return out;
}

/** `count` standard normal values for `seed` and `label`. */
export function gaussianNoise(count: number, seed: number, label: string): Float32Array {
  return fillNormal(noiseStream(seed, label), new Float32Array(count));
}
