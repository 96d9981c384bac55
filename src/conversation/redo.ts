import { z } from 'zod';
import { MAX_SELFIES, MAX_VARIATIONS, type Requester } from '../core/request.js';
import { PortraitError } from '../errors.js';
import type { PortraitService } from '../queue/service.js';
import type { Catalogue } from './catalogue.js';

/**
 * What a result's buttons redo (Reroll, Variations, Relight): the selfie blob keys and the options of the job, and
 * who may use them. One record for every platform; how it travels is the platform's business (Discord's 100-character
 * custom ids carry the key of a small blob owned by the requester, Slack's 2000-character button values the record
 * itself). Either way nothing lives in the bot process, so the buttons keep working after a restart.
 */
export const redoRecordSchema = z.object({
  v: z.literal(1),
  userId: z.string().min(1).max(64),
  scopeId: z.string().min(1).max(64),
  /** Selfie blob keys; they expire with the blob TTL, after which a redo answers job.expired. */
  selfieKeys: z.array(z.string().min(1).max(200)).min(1).max(MAX_SELFIES),
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
export type RedoRecord = z.infer<typeof redoRecordSchema>;

export type RedoAction = 'reroll' | 'vary' | 'relight';

/** The options of the new job a button asks for. Throws the catalogue's error for a lighting it refuses. */
export function redoRequest(
  record: RedoRecord,
  action: RedoAction,
  o: { newSeed: () => number; catalogue: Pick<Catalogue, 'checkLighting'>; lighting?: string | undefined },
): Pick<RedoRecord, 'selfieKeys' | 'pose' | 'lighting' | 'style' | 'variations' | 'seed'> {
  const base = {
    selfieKeys: record.selfieKeys,
    pose: record.pose,
    lighting: record.lighting,
    style: record.style,
    variations: record.variations,
    seed: record.seed,
  };
  switch (action) {
    case 'reroll':
      return { ...base, seed: o.newSeed() };
    case 'vary':
      return { ...base, seed: o.newSeed(), variations: MAX_VARIATIONS };
    case 'relight': {
      // Same seed: only the light changes.
      const lighting = o.lighting ?? record.lighting;
      const bad = o.catalogue.checkLighting(lighting);
      if (bad) throw bad;
      return { ...base, lighting };
    }
  }
}

/** Whether `userId` may use the buttons of this record: selfies are biometric, only their owner reruns them. */
export function mayRedo(record: Pick<RedoRecord, 'userId'>, userId: string): boolean {
  return record.userId === userId;
}

/** Stores the record as a blob owned by the requester (same TTL as the selfies, removed by forget). */
export async function storeRedoRecord(
  service: Pick<PortraitService, 'putBlob'>,
  record: RedoRecord,
  owner: Requester,
): Promise<string> {
  return service.putBlob(new TextEncoder().encode(JSON.stringify(record)), owner);
}

/** The record, or PortraitError `job.expired` once its blob is gone (TTL, forget) or unreadable. */
export async function loadRedoRecord(service: Pick<PortraitService, 'getBlob'>, key: string): Promise<RedoRecord> {
  const bytes = await service.getBlob(key);
  if (!bytes) throw new PortraitError('job.expired', 'redo record expired');
  const parsed = parseRedoRecord(new TextDecoder().decode(bytes));
  if (!parsed) throw new PortraitError('job.expired', 'redo record unreadable or of another version');
  return parsed;
}

/** Parses a record from JSON text; undefined when it is not one. */
export function parseRedoRecord(text: string | undefined): RedoRecord | undefined {
  if (!text) return undefined;
  try {
    const parsed = redoRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
