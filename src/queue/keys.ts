import { createHash } from 'node:crypto';
import type { Platform, Requester } from '../core/request.js';

/** BullMQ queue of portrait jobs (its keys live under `<prefix>:portraits:`). */
export const PORTRAIT_QUEUE = 'portraits';

/**
 * Every Redis key of src/queue outside BullMQ's own, in one place so submit, worker and forget agree. All start with
 * the configured prefix, so several bots (or tests) share one Redis without meeting.
 */
export function queueKeys(prefix: string) {
  const who = (r: Pick<Requester, 'platform' | 'userId'>) => `${r.platform}:${r.userId}`;
  return {
    prefix,
    blobPrefix: `${prefix}:blob:`,
    /** Set of every blob key a requester owns (selfies and results), for `forget`. */
    owner: (r: Pick<Requester, 'platform' | 'userId'>) => `${prefix}:owner:${who(r)}`,
    /** Sorted set of the requester's queued or running job ids; score = when the reservation lapses. */
    userInFlight: (r: Pick<Requester, 'platform' | 'userId'>) => `${prefix}:inflight:user:${who(r)}`,
    /** The same for a community (guild, team). */
    scopeInFlight: (r: Pick<Requester, 'platform' | 'scopeId'>) =>
      `${prefix}:inflight:scope:${r.platform}:${r.scopeId}`,
    /** Hash jobId -> JSON summary of the requester's jobs, for listJobs and ownership checks. */
    userJobs: (r: Pick<Requester, 'platform' | 'userId'>) => `${prefix}:jobs:${who(r)}`,
    /**
     * Sorted set of when the requester's requests were accepted (rate-limit.ts). Named by a hash and holding random
     * members, so it says nothing about who; `forget` leaves it to expire so forgetting cannot reset the limit.
     */
    userRate: (r: Pick<Requester, 'platform' | 'userId'>) =>
      `${prefix}:rate:${createHash('sha256').update(who(r)).digest('base64url').slice(0, 22)}`,
    /** Set when a job is cancelled ('cancel') or forgotten ('forget'); a worker checks it when the job starts. */
    cancelMark: (jobId: string) => `${prefix}:cancel:${jobId}`,
    /** Pub/sub channel telling workers to abort a running job. */
    cancelChannel: `${prefix}:cancel`,
  };
}
export type QueueKeys = ReturnType<typeof queueKeys>;

/**
 * The BullMQ job id for an idempotency key. BullMQ refuses ids with ':' and ids that are all digits (those clash with
 * its own counter), and callers' keys are arbitrary text, so the id is a hash, namespaced by platform so two platforms'
 * keys never meet.
 */
export function jobIdFor(platform: Platform, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${platform}\0${idempotencyKey}`).digest('base64url').slice(0, 22);
  return `${platform}-${digest}`;
}
