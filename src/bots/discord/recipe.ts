import { z } from 'zod';
import { MAX_SELFIES, MAX_VARIATIONS, type Requester } from '../../core/request.js';
import { PortraitError } from '../../errors.js';
import type { PortraitService } from '../../queue/service.js';

/**
 * What a result's buttons redo (Reroll, Variations, Relight): the selfie blob keys and the options of the job.
 * Too big for a 100-character custom id, so it is stored as a small blob owned by the requester (same TTL as the
 * selfies, deleted by /portrait-forget) and the buttons carry its key. This keeps the buttons working after a
 * restart without any state in the bot process.
 */
export const recipeSchema = z.object({
  v: z.literal(1),
  userId: z.string().min(1),
  scopeId: z.string().min(1),
  selfieKeys: z.array(z.string().min(1)).min(1).max(MAX_SELFIES),
  pose: z.string().max(200),
  lighting: z.string().max(200),
  style: z.string().max(500),
  variations: z.number().int().min(1).max(MAX_VARIATIONS),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
});
export type Recipe = z.infer<typeof recipeSchema>;

export async function storeRecipe(service: PortraitService, recipe: Recipe, owner: Requester): Promise<string> {
  return service.putBlob(new TextEncoder().encode(JSON.stringify(recipe)), owner);
}

/** The recipe, or PortraitError `job.expired` once its blob is gone (TTL, /portrait-forget). */
export async function loadRecipe(service: PortraitService, key: string): Promise<Recipe> {
  const bytes = await service.getBlob(key);
  if (!bytes) throw new PortraitError('job.expired', 'recipe blob expired');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new PortraitError('job.expired', 'recipe blob unreadable');
  }
  const parsed = recipeSchema.safeParse(json);
  if (!parsed.success) throw new PortraitError('job.expired', 'recipe blob of another version');
  return parsed.data;
}
