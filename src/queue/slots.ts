import type { Redis } from 'ioredis';
import type { Requester } from '../core/request.js';
import { throwOnFailure } from './blobs.js';
import type { QueueKeys } from './keys.js';
import { type RateLimit, rateMember } from './rate-limit.js';
import { runScript } from './scripts.js';

/**
 * - ok: reserved; `waiting` is the wait list's length just before the job joins it.
 * - duplicate: the job exists (or a concurrent submit with the same key holds the reservation).
 * - missing: selfie number `selfie` (1-based) expired or never existed.
 * - user / scope: over the cap.
 * - rate: over the per-user rate limit; a slot frees up in `retryAfterMs`.
 */
export type ReserveOutcome =
  | { outcome: 'ok'; waiting: number }
  | { outcome: 'duplicate' | 'user' | 'scope' }
  | { outcome: 'missing'; selfie: number }
  | { outcome: 'rate'; retryAfterMs: number };

export interface ReserveArgs {
  requester: Requester;
  jobId: string;
  /** BullMQ's hash key of the job (its existence means a duplicate) and its wait list. */
  jobKey: string;
  waitKey: string;
  selfieKeys: readonly string[];
  userCap: number;
  scopeCap: number;
  /** How long a reservation (and the job summary) lives at most, seconds. */
  ttlSeconds: number;
  /** JSON summary stored in the requester's job list; its `submittedAt` (ms) ages it out after `ttlSeconds`. */
  summary: string;
  /** The per-user rate limit and its sliding-log key (rate-limit.ts); left out, no limit. */
  rate?: RateLimit & { key: string };
}

/** Checks for a duplicate, the selfies and both caps, and reserves, in one atomic round trip. */
export async function reserveSlot(redis: Redis, keys: QueueKeys, a: ReserveArgs): Promise<ReserveOutcome> {
  const now = Date.now();
  const [outcome, n] = await runScript(
    redis,
    'reserveSlot',
    [
      keys.userInFlight(a.requester),
      keys.scopeInFlight(a.requester),
      keys.userJobs(a.requester),
      a.jobKey,
      a.waitKey,
      a.rate?.key ?? keys.userRate(a.requester),
      ...a.selfieKeys,
    ],
    [
      a.jobId,
      now,
      now + a.ttlSeconds * 1000,
      a.userCap,
      a.scopeCap,
      a.ttlSeconds,
      a.summary,
      a.rate?.limit ?? 0,
      a.rate?.windowMs ?? 0,
      rateMember(),
    ],
  );
  switch (outcome) {
    case 'ok':
      return { outcome, waiting: n };
    case 'missing':
      return { outcome, selfie: n };
    case 'rate':
      return { outcome, retryAfterMs: n };
    case 'duplicate':
    case 'user':
    case 'scope':
      return { outcome };
    default:
      throw new Error(`unexpected reservation reply ${outcome}`);
  }
}

export async function releaseSlot(redis: Redis, keys: QueueKeys, requester: Requester, jobId: string): Promise<void> {
  await redis
    .multi()
    .zrem(keys.userInFlight(requester), jobId)
    .zrem(keys.scopeInFlight(requester), jobId)
    .exec()
    .then(throwOnFailure);
}

/**
 * Drops reservations whose job is finished or gone (a process died between the job's end and the release). Called
 * only when a cap refuses a request, so the common path stays one round trip. Returns how many were dropped.
 */
export async function reconcileSlots(
  redis: Redis,
  keys: QueueKeys,
  requester: Requester,
  isLive: (jobId: string) => Promise<boolean>,
): Promise<number> {
  let dropped = 0;
  for (const key of [keys.userInFlight(requester), keys.scopeInFlight(requester)]) {
    for (const jobId of await redis.zrange(key, 0, -1)) {
      if (!(await isLive(jobId))) dropped += await redis.zrem(key, jobId);
    }
  }
  return dropped;
}
