import { z } from 'zod';

/**
 * The platform-neutral request every adapter builds (Discord slash command, Slack mention, CLI) and the queue
 * carries. Images are blob keys, never bytes. Pose and lighting stay as the user typed them; the pipeline parses
 * them (src/core/pose.ts, src/core/lighting.ts) and adapters call the same parsers to refuse typos at once.
 */
export const PLATFORMS = ['discord', 'slack', 'cli'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const OUTPUT_FORMATS = ['webp', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const ENGINE_NAMES = ['compositor', 'crop', 'diffusion'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export const MAX_SELFIES = 4;
export const MAX_VARIATIONS = 4;

export const requesterSchema = z.object({
  platform: z.enum(PLATFORMS),
  /** Platform user id (Discord snowflake, Slack user id, local user name for the CLI). */
  userId: z.string().min(1).max(64),
  /** Community scope for quotas: Discord guild id, Slack team id, 'local' for the CLI. */
  scopeId: z.string().min(1).max(64),
});
export type Requester = z.infer<typeof requesterSchema>;

export const portraitRequestSchema = z.object({
  requester: requesterSchema,
  selfieKeys: z.array(z.string().min(1)).min(1).max(MAX_SELFIES),
  pose: z.string().max(200).default('front'),
  lighting: z.string().max(200).default('studio'),
  style: z.string().max(500).default(''),
  variations: z.number().int().min(1).max(MAX_VARIATIONS).default(1),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  engine: z.enum(ENGINE_NAMES).optional(),
  output: z.object({ size: z.number().int().min(64).max(2048), format: z.enum(OUTPUT_FORMATS) }).optional(),
  /**
   * Where the adapter posts the answer (channel, thread, interaction token ...). Opaque to the queue and the
   * worker; only the adapter that wrote it reads it back.
   */
  route: z.record(z.string(), z.string()).default({}),
  /** Keep generated images for the debug sheet (CLI `--debug`). */
  debug: z.boolean().default(false),
});
export type PortraitRequest = z.infer<typeof portraitRequestSchema>;
export type PortraitRequestInput = z.input<typeof portraitRequestSchema>;

/** A fresh 32-bit seed for requests that did not ask for one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
