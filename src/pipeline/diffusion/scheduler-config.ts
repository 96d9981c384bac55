/**
 * `scheduler/scheduler_config.json` as diffusers writes it, parsed into one typed shape. Unknown keys are ignored
 * (diffusers adds some every release); the ones the samplers use get the diffusers defaults when absent.
 */
import { z } from 'zod';

export const SCHEDULER_NAMES = ['ddim', 'euler', 'euler-ancestral', 'dpmpp-2m', 'lcm'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** diffusers class names -> our sampler. PNDM (SD1.5's shipped default) and LMS run as DDIM and Euler. */
export const SCHEDULER_CLASSES: Readonly<Record<string, SchedulerName>> = {
  DDIMScheduler: 'ddim',
  PNDMScheduler: 'ddim',
  EulerDiscreteScheduler: 'euler',
  LMSDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler-ancestral',
  DPMSolverMultistepScheduler: 'dpmpp-2m',
  LCMScheduler: 'lcm',
};

export const PREDICTION_TYPES = ['epsilon', 'v_prediction'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];
export const TIMESTEP_SPACINGS = ['leading', 'linspace', 'trailing'] as const;
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

const schema = z.object({
  _class_name: z.string().optional(),
  num_train_timesteps: z.number().int().min(2).max(100_000).default(1000),
  beta_start: z.number().positive().max(1).default(0.00085),
  beta_end: z.number().positive().max(1).default(0.012),
  beta_schedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']).default('scaled_linear'),
  trained_betas: z.array(z.number()).nullable().optional(),
  prediction_type: z.enum(PREDICTION_TYPES).default('epsilon'),
  steps_offset: z.number().int().min(0).default(0),
  timestep_spacing: z.enum(TIMESTEP_SPACINGS).optional(),
  set_alpha_to_one: z.boolean().optional(),
  use_karras_sigmas: z.boolean().nullable().optional(),
  original_inference_steps: z.number().int().positive().default(50),
  timestep_scaling: z.number().positive().default(10),
  rescale_betas_zero_snr: z.boolean().default(false),
});

export interface SchedulerConfig {
  /** The diffusers class the file names, when it names one. */
  className: string | undefined;
  trainSteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
  trainedBetas: number[] | undefined;
  predictionType: PredictionType;
  stepsOffset: number;
  /** Spacing as written in the file; each sampler falls back to its own diffusers default when absent. */
  timestepSpacing: TimestepSpacing | undefined;
  setAlphaToOne: boolean | undefined;
  karras: boolean;
  originalInferenceSteps: number;
  timestepScaling: number;
  rescaleZeroSnr: boolean;
}

/** SD1.5's scheduler config, the default for packs that ship none and the reference for the unit tests. */
export const SD15_SCHEDULER: SchedulerConfig = Object.freeze({
  className: 'PNDMScheduler',
  trainSteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  trainedBetas: undefined,
  predictionType: 'epsilon',
  stepsOffset: 1,
  timestepSpacing: undefined,
  setAlphaToOne: false,
  karras: false,
  originalInferenceSteps: 50,
  timestepScaling: 10,
  rescaleZeroSnr: false,
});

export type SchedulerConfigResult = { ok: true; config: SchedulerConfig } | { ok: false; error: string };

export function parseSchedulerConfig(json: unknown): SchedulerConfigResult {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
  }
  const c = parsed.data;
  if (c.trained_betas && c.trained_betas.length !== c.num_train_timesteps) {
    return {
      ok: false,
      error: `trained_betas has ${c.trained_betas.length} values, expected ${c.num_train_timesteps}`,
    };
  }
  if (c.beta_end < c.beta_start) return { ok: false, error: 'beta_end is below beta_start' };
  return {
    ok: true,
    config: {
      className: c._class_name,
      trainSteps: c.num_train_timesteps,
      betaStart: c.beta_start,
      betaEnd: c.beta_end,
      betaSchedule: c.beta_schedule,
      trainedBetas: c.trained_betas ?? undefined,
      predictionType: c.prediction_type,
      stepsOffset: c.steps_offset,
      timestepSpacing: c.timestep_spacing,
      setAlphaToOne: c.set_alpha_to_one,
      karras: c.use_karras_sigmas === true,
      originalInferenceSteps: c.original_inference_steps,
      timestepScaling: c.timestep_scaling,
      rescaleZeroSnr: c.rescale_betas_zero_snr,
    },
  };
}

/** The sampler a config's class name implies, `undefined` for a class we do not run. */
export function schedulerForClass(className: string | undefined): SchedulerName | undefined {
  return className === undefined ? undefined : SCHEDULER_CLASSES[className];
}
