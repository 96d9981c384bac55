import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { PortraitError } from '../errors.js';
import { runScript } from './scripts.js';

/**
 * Per-user rate limit: at most `limit` accepted portrait requests in any sliding window of `windowMs`
 * (PORTRAIT_USER_RATE per PORTRAIT_USER_RATE_WINDOW_SECONDS). The in-flight cap (slots.ts) bounds how much of the
 * queue one user holds at a time; this bounds how much worker time one user takes over an hour, which the in-flight
 * cap alone does not (a user can queue the next portrait the moment the last one is delivered).
 *
 * A sliding log in one sorted set per requester: one member per accepted request, scored with the time it was
 * accepted. Members are random tokens and the key is a hash of the requester, so the set says when, never who or
 * what: `forget` leaves it in place (forgetting must not reset a rate limit) and it expires one window after the
 * requester's last request. The check and the record run inside the reservation script (slots.ts), after the
 * duplicate check (a retried request is never counted twice or refused) and after the in-flight caps (a request
 * refused for those does not use up the rate), so concurrent submits cannot slip past the limit.
 */

export interface RateLimit {
  /** Requests accepted per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
}

/** The configured limit, or undefined when PORTRAIT_USER_RATE is 0. */
export function rateLimitOf(
  config: Pick<Config, 'PORTRAIT_USER_RATE' | 'PORTRAIT_USER_RATE_WINDOW_SECONDS'>,
): RateLimit | undefined {
  if (config.PORTRAIT_USER_RATE <= 0) return undefined;
  return { limit: config.PORTRAIT_USER_RATE, windowMs: config.PORTRAIT_USER_RATE_WINDOW_SECONDS * 1000 };
}

/** A fresh member for the sliding log: random, so the set holds no request or job ids. */
export function rateMember(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * Checks and records one request outside a reservation (for callers that are not portrait submits). Returns 0 when
 * it was recorded, else the milliseconds to wait. `now` is injectable so the window can be tested without waiting.
 */
export async function takeRate(redis: Redis, key: string, rate: RateLimit, now = Date.now()): Promise<number> {
  return runScript(redis, 'takeRate', [key], [now, rate.windowMs, rate.limit, rateMember()]);
}

/** "45 seconds", "13 minutes", "2 hours": rounded up, so the user never retries too early. */
export function formatRetryAfter(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.ceil(minutes / 60);
  return `${hours} hours`;
}

/** The refusal for a request over the limit: `retryAfter` fills the sentence, `retryAfterSeconds` is for code. */
export function rateLimitedError(rate: RateLimit, retryAfterMs: number): PortraitError {
  return new PortraitError('quota.rate_limited', `over ${rate.limit} requests per ${rate.windowMs} ms`, {
    limit: rate.limit,
    window: formatRetryAfter(rate.windowMs),
    retryAfter: formatRetryAfter(retryAfterMs),
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}
