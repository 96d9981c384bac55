import type { Redis } from 'ioredis';
import type { Requester } from '../core/request.js';
import { throwOnFailure } from './blobs.js';
import type { QueueKeys } from './keys.js';
import { RATE_LUA, type RateLimit, rateMember } from './rate-limit.js';

/**
 * Per-user and per-community caps on jobs in flight (queued or running), as reservations in two sorted sets. The
 * check and the reservation are one Lua script, so two concurrent submits cannot both slip under a cap (and the
 * duplicate and selfie checks and the per-user rate limit of rate-limit.ts ride along, keeping submit at three
 * round trips). A
 * reservation is released when the job ends (worker), is cancelled or forgotten; if a process dies before that, the
 * score (a deadline) lets it lapse, and `reconcile` drops reservations whose job is already finished or gone.
 */
const RESERVE = `${RATE_LUA}
if redis.call('EXISTS', KEYS[4]) == 1 or redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {'duplicate', 0} end
for i = 7, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {'missing', i - 6} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return {'user', 0} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {'scope', 0} end
local wait = rate_check(KEYS[6], tonumber(ARGV[2]), tonumber(ARGV[9]), tonumber(ARGV[8]))
if wait > 0 then return {'rate', wait} end
rate_take(KEYS[6], ARGV[10], tonumber(ARGV[2]), tonumber(ARGV[9]), tonumber(ARGV[8]))
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
-- The job list's own TTL restarts with every submit: records older than the TTL go one by one.
local records = redis.call('HGETALL', KEYS[3])
local oldest = tonumber(ARGV[2]) - tonumber(ARGV[6]) * 1000
for i = 1, #records, 2 do
  local ok, record = pcall(cjson.decode, records[i + 1])
  local at = ok and type(record) == 'table' and tonumber(record.submittedAt)
  if at and at <= oldest then redis.call('HDEL', KEYS[3], records[i]) end
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return {'ok', redis.call('LLEN', KEYS[5])}
`;

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
  // Defined once per connection: later calls send the script's SHA (EVALSHA), not its text.
  if (!('portraitReserve' in redis)) redis.defineCommand('portraitReserve', { lua: RESERVE });
  const call = (redis as unknown as { portraitReserve(n: number, ...args: (string | number)[]): Promise<unknown> })
    .portraitReserve;
  const [outcome, n] = (await call.call(
    redis,
    6 + a.selfieKeys.length,
    keys.userInFlight(a.requester),
    keys.scopeInFlight(a.requester),
    keys.userJobs(a.requester),
    a.jobKey,
    a.waitKey,
    a.rate?.key ?? keys.userRate(a.requester),
    ...a.selfieKeys,
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
  )) as [string, number];
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
