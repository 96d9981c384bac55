import { z } from 'zod';
import { ENGINE_NAMES, OUTPUT_FORMATS, PLATFORMS, portraitRequestSchema } from '../core/request.js';
import { INTERNAL_ERROR_CODES, USER_ERROR_CODES } from '../errors.js';
import { STAGES } from '../pipeline/types.js';

/**
 * The one schema shared by producer (submit.ts), worker (worker.ts) and consumers (deliveries.ts). Job data holds
 * blob keys, never image bytes.
 */
export const portraitJobSchema = z.object({
  request: portraitRequestSchema,
  /**
   * Caller's idempotency key (Discord interaction id, Slack event id); the BullMQ job id derives from it. It is also
   * the request id every log line of the job carries (`requestId`).
   */
  idempotencyKey: z.string().min(1).max(200),
  submittedAt: z.number(),
  /**
   * Private delivery inbox of the submitting process (the CLI waits on its own); unset, answers go to the platform's
   * shared delivery queue.
   */
  inbox: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
});
export type PortraitJobData = z.infer<typeof portraitJobSchema>;

export const errorPayloadSchema = z.object({
  code: z.enum([...USER_ERROR_CODES, ...INTERNAL_ERROR_CODES]),
  message: z.string(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  refId: z.string().optional(),
});

export const portraitResultSchema = z.object({
  /** Blob keys of the encoded portraits, one per variation. */
  outputKeys: z.array(z.string()).min(1),
  format: z.enum(OUTPUT_FORMATS),
  width: z.number().int(),
  height: z.number().int(),
  engine: z.enum(ENGINE_NAMES),
  facesPerSelfie: z.array(z.number().int()),
  timings: z.record(z.string(), z.number()),
  report: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  debugSheetKey: z.string().optional(),
});
export type PortraitResult = z.infer<typeof portraitResultSchema>;

const deliveryBase = {
  jobId: z.string(),
  /** The job's idempotency key, so the adapter's lines about the answer carry the same requestId as the rest. */
  requestId: z.string().optional(),
  platform: z.enum(PLATFORMS),
  route: z.record(z.string(), z.string()),
  requester: portraitRequestSchema.shape.requester,
};

/**
 * What the worker sends back to the submitting side through the durable delivery queue, one queue per platform.
 * `progress` messages are best-effort status; `result` and `failure` are the answer and are delivered exactly once.
 */
export const deliverySchema = z.discriminatedUnion('kind', [
  z.object({
    ...deliveryBase,
    kind: z.literal('progress'),
    stage: z.enum(STAGES),
    step: z.number().int().optional(),
    steps: z.number().int().optional(),
    /** Blob key of a small WebP preview of the image forming (diffusion), kept minutes, owned by the requester. */
    previewKey: z.string().optional(),
    at: z.number(),
  }),
  z.object({ ...deliveryBase, kind: z.literal('result'), result: portraitResultSchema, seed: z.number() }),
  z.object({ ...deliveryBase, kind: z.literal('failure'), error: errorPayloadSchema }),
]);
export type Delivery = z.infer<typeof deliverySchema>;
