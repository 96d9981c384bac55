import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../src/core/random.js';
import { gaussianNoise } from '../../src/pipeline/diffusion/noise.js';
import { alphasCumprod, roundHalfEven } from '../../src/pipeline/diffusion/schedule.js';
import {
  parseSchedulerConfig,
  SCHEDULER_NAMES,
  type SchedulerConfig,
  SD15_SCHEDULER,
} from '../../src/pipeline/diffusion/scheduler-config.js';
import { createScheduler, img2imgStartStep, type Scheduler } from '../../src/pipeline/diffusion/schedulers.js';

// Expected values are computed here, in float64, straight from the published formulas for SD1.5's config
// (scaled_linear betas 0.00085..0.012, 1000 steps, steps_offset 1), independently of src/.
const N = 1000;
const ref = (() => {
  const sb = Math.sqrt(0.00085);
  const se = Math.sqrt(0.012);
  const acp: number[] = [];
  let prod = 1;
  for (let i = 0; i < N; i++) {
    const beta = (sb + ((se - sb) * i) / (N - 1)) ** 2;
    prod *= 1 - beta;
    acp.push(prod);
  }
  const sigmas = acp.map((a) => Math.sqrt((1 - a) / a));
  return { acp, sigmas };
})();

function sigmaAtRef(t: number): number {
  const lo = Math.floor(t);
  if (lo >= N - 1) return ref.sigmas[N - 1]!;
  return ref.sigmas[lo]! + (t - lo) * (ref.sigmas[lo + 1]! - ref.sigmas[lo]!);
}

function karrasRef(min: number, max: number, n: number): number[] {
  const rho = 7;
  return Array.from({ length: n }, (_, i) => {
    const r = n === 1 ? 0 : i / (n - 1);
    return (max ** (1 / rho) + r * (min ** (1 / rho) - max ** (1 / rho))) ** rho;
  });
}

function close(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

describe('noise schedule (SD1.5 config)', () => {
  it('alphas_cumprod follow the scaled-linear betas', () => {
    close(Array.from(alphasCumprod(SD15_SCHEDULER)), ref.acp, 1e-12, 'alphas_cumprod');
    // Published: SD's sigma range is 0.0292 .. 14.6146.
    assert.ok(Math.abs(ref.sigmas[0]! - 0.0292) < 5e-5);
    assert.ok(Math.abs(ref.sigmas[N - 1]! - 14.6146) < 5e-4);
  });

  it('parses diffusers scheduler_config.json with defaults and refuses nonsense', () => {
    const r = parseSchedulerConfig({
      _class_name: 'EulerAncestralDiscreteScheduler',
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      steps_offset: 1,
      prediction_type: 'v_prediction',
      skip_prk_steps: true,
      unknown_future_key: 1,
    });
    assert.ok(r.ok);
    assert.equal(r.config.predictionType, 'v_prediction');
    assert.equal(r.config.trainSteps, 1000);
    const bad = parseSchedulerConfig({ beta_schedule: 'cosine-ish' });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /beta_schedule/);
  });

  it('rounds like numpy (half to even)', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -2.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -2, 2, 3]);
  });
});

describe('timesteps and sigmas against the formulas', () => {
  it('DDIM 50 steps, leading spacing: 981, 961, ..., 1 (published)', () => {
    const s = createScheduler('ddim', SD15_SCHEDULER, 50);
    const expected = Array.from({ length: 50 }, (_, i) => 981 - 20 * i);
    assert.deepEqual(s.timesteps, expected);
    assert.equal(s.timesteps[0], 981);
    assert.equal(s.timesteps[49], 1);
    assert.equal(s.initNoiseSigma, 1);
  });

  it('DDIM trailing and linspace spacings', () => {
    const trailing = createScheduler('ddim', { ...SD15_SCHEDULER, timestepSpacing: 'trailing' }, 4);
    assert.deepEqual(trailing.timesteps, [999, 749, 499, 249]);
    const lin = createScheduler('ddim', { ...SD15_SCHEDULER, timestepSpacing: 'linspace' }, 3);
    assert.deepEqual(lin.timesteps, [999, 500, 0]); // numpy: round(499.5) = 500 (half to even)
  });

  it('Euler 30 steps, linspace: fractional timesteps, sigma_max 14.6146 (published), final 0', () => {
    for (const name of ['euler', 'euler-ancestral'] as const) {
      const s = createScheduler(name, SD15_SCHEDULER, 30);
      const ts = Array.from({ length: 30 }, (_, i) => 999 - (999 * i) / 29);
      close(s.timesteps, ts, 1e-12, `${name} timesteps`);
      close(s.sigmas, [...ts.map(sigmaAtRef), 0], 1e-9, `${name} sigmas`);
      assert.ok(Math.abs(s.initNoiseSigma - 14.6146) < 5e-4, 'linspace starts from sigma_max');
      assert.ok(Math.abs(s.inputScale(0) - 1 / Math.sqrt(s.sigmas[0]! ** 2 + 1)) < 1e-12);
    }
    const leading = createScheduler('euler', { ...SD15_SCHEDULER, timestepSpacing: 'leading' }, 10);
    assert.deepEqual(leading.timesteps, [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    assert.ok(Math.abs(leading.initNoiseSigma - Math.sqrt(sigmaAtRef(901) ** 2 + 1)) < 1e-9);
  });

  it('Euler with Karras sigmas: rho 7 between the schedule ends', () => {
    const s = createScheduler('euler', SD15_SCHEDULER, 10, { karras: true });
    const expected = karrasRef(ref.sigmas[0]!, ref.sigmas[N - 1]!, 10);
    close(s.sigmas, [...expected, 0], 1e-9, 'karras sigmas');
    // The timesteps map back onto the same sigmas (log-sigma interpolation), within interpolation error.
    for (const [i, t] of s.timesteps.entries()) {
      assert.ok(Math.abs(sigmaAtRef(t) - expected[i]!) / expected[i]! < 0.01, `t ${t}`);
    }
    assert.ok(s.timesteps[0]! > 998 && s.timesteps[9]! < 1);
  });

  it('DPM++ 2M 25 steps, linspace over steps + 1 points: 999, 959, ... 40', () => {
    const s = createScheduler('dpmpp-2m', SD15_SCHEDULER, 25);
    const expected = Array.from({ length: 26 }, (_, i) => roundHalfEven((999 * i) / 25))
      .reverse()
      .slice(0, 25);
    assert.deepEqual(s.timesteps, expected);
    assert.equal(s.timesteps[0], 999);
    assert.equal(s.timesteps[24], 40);
    close(s.sigmas, [...expected.map((t) => ref.sigmas[t]!), 0], 1e-12, 'dpm sigmas');
    const k = createScheduler('dpmpp-2m', SD15_SCHEDULER, 20, { karras: true });
    close(k.sigmas, [...karrasRef(ref.sigmas[0]!, ref.sigmas[N - 1]!, 20), 0], 1e-9, 'dpm karras sigmas');
    assert.ok(k.timesteps.every((t) => Number.isInteger(t)));
  });

  it('LCM 4 steps: 999, 759, 499, 259 (published)', () => {
    assert.deepEqual(createScheduler('lcm', SD15_SCHEDULER, 4).timesteps, [999, 759, 499, 259]);
    assert.deepEqual(createScheduler('lcm', SD15_SCHEDULER, 1).timesteps, [999]);
    assert.throws(() => createScheduler('lcm', SD15_SCHEDULER, 60), /steps must be 1-50/);
  });

  it('img2img starts at floor(steps * strength) from the end', () => {
    assert.equal(img2imgStartStep(50, 0.6), 20);
    assert.equal(img2imgStartStep(4, 1), 0);
    assert.equal(img2imgStartStep(10, 0.05), 10);
  });
});

/**
 * An oracle denoiser that knows the clean latent x0: every deterministic sampler must then land on x0 (DDIM
 * with set_alpha_to_one false stops at alpha_bar[0], a hair away). Checks the step arithmetic for epsilon and
 * v-prediction end to end.
 */
function runOracle(s: Scheduler, config: SchedulerConfig, x0: Float32Array, prediction: 'epsilon' | 'v_prediction') {
  const acp = alphasCumprod(config);
  const sample = Float32Array.from(gaussianNoise(x0.length, 7, 'oracle'), (v) => v * s.initNoiseSigma);
  const out = new Float32Array(x0.length);
  const rng = mulberry32(3);
  for (let i = 0; i < s.timesteps.length; i++) {
    // The VP view of the current sample: x_vp = alpha * x0 + sigma * eps.
    let alpha: number;
    let sig: number;
    let vpScale: number;
    if (s.sigmas.length > 0) {
      const sigma = s.sigmas[i]!;
      alpha = 1 / Math.sqrt(sigma * sigma + 1);
      sig = sigma * alpha;
      vpScale = s.name === 'dpmpp-2m' ? 1 : alpha; // Euler latents are x0 + sigma * eps (unscaled)
    } else {
      const a = acp[s.timesteps[i]!]!;
      alpha = Math.sqrt(a);
      sig = Math.sqrt(1 - a);
      vpScale = 1;
    }
    for (let k = 0; k < x0.length; k++) {
      const xvp = sample[k]! * vpScale;
      const eps = (xvp - alpha * x0[k]!) / sig;
      out[k] = prediction === 'epsilon' ? eps : alpha * eps - sig * x0[k]!;
    }
    s.step(out, i, sample, rng);
  }
  return sample;
}

describe('sampler steps with an oracle denoiser', () => {
  const x0 = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.8);
  for (const prediction of ['epsilon', 'v_prediction'] as const) {
    for (const name of SCHEDULER_NAMES) {
      it(`${name} (${prediction}) converges to x0`, () => {
        const config = { ...SD15_SCHEDULER, predictionType: prediction };
        const steps = name === 'lcm' ? 4 : 12;
        for (const karras of name === 'euler' || name === 'dpmpp-2m' ? [false, true] : [false]) {
          const s = createScheduler(name, config, steps, { karras });
          const result = runOracle(s, config, x0, prediction);
          const tol = name === 'ddim' ? 0.15 : 1e-3;
          for (let k = 0; k < x0.length; k++) {
            assert.ok(Math.abs(result[k]! - x0[k]!) < tol, `${name} karras=${karras} [${k}] ${result[k]} vs ${x0[k]}`);
          }
        }
      });
    }
  }

  it('DPM++ 2M second step uses the midpoint correction on the previous x0', () => {
    // Lu et al. 2022 (DPM-Solver++(2M)), written out here for steps 0 and 1 with arbitrary model outputs.
    const s = createScheduler('dpmpp-2m', SD15_SCHEDULER, 10);
    const vp = (sigma: number) => {
      const alpha = 1 / Math.sqrt(sigma * sigma + 1);
      return { alpha, sig: sigma * alpha, lambda: Math.log(alpha) - Math.log(sigma * alpha) };
    };
    const x = Float32Array.of(0.7, -1.2);
    const e0 = Float32Array.of(0.3, 0.9);
    const e1 = Float32Array.of(-0.4, 0.2);
    const [p0, p1, p2] = [vp(s.sigmas[0]!), vp(s.sigmas[1]!), vp(s.sigmas[2]!)];
    const expected = Array.from(x, (xi, k) => {
      const d0 = (xi - p0.sig * e0[k]!) / p0.alpha;
      const h1 = p1.lambda - p0.lambda;
      const x1 = (p1.sig / p0.sig) * xi - p1.alpha * (Math.exp(-h1) - 1) * d0;
      const d1 = (x1 - p1.sig * e1[k]!) / p1.alpha;
      const h = p2.lambda - p1.lambda;
      const r0 = h1 / h;
      const D1 = (d1 - d0) / r0;
      return (p2.sig / p1.sig) * x1 - p2.alpha * (Math.exp(-h) - 1) * d1 - 0.5 * p2.alpha * (Math.exp(-h) - 1) * D1;
    });
    const sample = Float32Array.from(x);
    s.step(e0, 0, sample, mulberry32(1));
    s.step(e1, 1, sample, mulberry32(1));
    close(Array.from(sample), expected, 1e-5, 'dpm++ 2m');
  });

  it('Euler ancestral adds fresh noise of sigma_up and is reproducible per generator seed', () => {
    const s = createScheduler('euler-ancestral', SD15_SCHEDULER, 10);
    const model = new Float32Array(4096).fill(0.1);
    const a = new Float32Array(4096).fill(1);
    const b = new Float32Array(4096).fill(1);
    s.step(model, 3, a, mulberry32(5));
    s.step(model, 3, b, mulberry32(5));
    assert.deepEqual(a, b);
    const [sf, st] = [s.sigmas[3]!, s.sigmas[4]!];
    const up = Math.sqrt((st * st * (sf * sf - st * st)) / (sf * sf));
    const down = Math.sqrt(st * st - up * up);
    const mean = 1 + ((1 - (1 - sf * 0.1)) / sf) * (down - sf);
    const m = a.reduce((acc, v) => acc + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((acc, v) => acc + (v - m) ** 2, 0) / a.length);
    assert.ok(Math.abs(m - mean) < 0.05 * up + 1e-6, `mean ${m} vs ${mean}`);
    assert.ok(Math.abs(sd - up) < 0.05 * up, `sd ${sd} vs sigma_up ${up}`);
  });

  it('addNoise puts x0 at the noise level of the start step', () => {
    const noise = gaussianNoise(64, 1, 'n');
    const out = new Float32Array(64);
    const ddim = createScheduler('ddim', SD15_SCHEDULER, 50);
    ddim.addNoise(x0, noise, 20, out);
    const a = ref.acp[ddim.timesteps[20]!]!;
    assert.ok(Math.abs(out[5]! - (Math.sqrt(a) * x0[5]! + Math.sqrt(1 - a) * noise[5]!)) < 1e-5);
    const euler = createScheduler('euler', SD15_SCHEDULER, 50);
    euler.addNoise(x0, noise, 20, out);
    assert.ok(Math.abs(out[5]! - (x0[5]! + euler.sigmas[20]! * noise[5]!)) < 1e-5);
  });

  it('seeded noise is reproducible and seed-specific', () => {
    assert.deepEqual(gaussianNoise(16, 42, 'latents'), gaussianNoise(16, 42, 'latents'));
    assert.notDeepEqual(gaussianNoise(16, 42, 'latents'), gaussianNoise(16, 43, 'latents'));
    assert.notDeepEqual(gaussianNoise(16, 42, 'latents'), gaussianNoise(16, 42, 'sampler'));
    const many = gaussianNoise(20_000, 1, 'stats');
    const mean = many.reduce((s, v) => s + v, 0) / many.length;
    const variance = many.reduce((s, v) => s + (v - mean) ** 2, 0) / many.length;
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean} var ${variance}`);
  });
});
