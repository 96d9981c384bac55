import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { throwOnFailure } from './blobs.js';

/**
 * Retention of BullMQ's own records. A finished job's hash names its requester and route (a delivered answer also
 * carries the result), and each queue's events stream names job ids; they must go when the selfies do
 * (PORTRAIT_BLOB_TTL_SECONDS). BullMQ applies `removeOnComplete: { age }` only when a later job of the queue finishes,
 * so on a quiet bot they would stay, and its events stream is capped by count, not age. A sweep removes finished
 * jobs older than the TTL and stream entries older than the TTL.
 *
 * Safe with several processes sweeping the same queue: BullMQ's clean and XTRIM are each one atomic command or
 * script, and a second sweeper just finds less to do. Cheap: two scripts that walk only the expired end of the
 * finished sets, and one XTRIM.
 */

/** How many finished jobs one clean call may remove; a backlog is taken a batch per sweep. */
const CLEAN_BATCH = 1000;

/** Removes the queue's completed and failed jobs that finished more than `ttlMs` ago and trims its events stream. */
export async function sweepQueue(redis: Redis, queue: Queue, ttlMs: number, now = Date.now()): Promise<number> {
  const cutoff = now - ttlMs;
  // Finished sets are scored by finishing time. Look first: BullMQ's clean writes a 'cleaned' event even when it
  // found nothing, and an idle bot's sweeps should leave no trace.
  const due = throwOnFailure(
    await redis
      .pipeline()
      .zcount(queue.keys.completed ?? '', '-inf', `(${cutoff}`)
      .zcount(queue.keys.failed ?? '', '-inf', `(${cutoff}`)
      .exec(),
  ) as [number, number];
  const completed = due[0] > 0 ? await queue.clean(ttlMs, CLEAN_BATCH, 'completed') : [];
  const failed = due[1] > 0 ? await queue.clean(ttlMs, CLEAN_BATCH, 'failed') : [];
  const events = queue.keys.events;
  let trimmed = 0;
  if (events) {
    // Stream ids start with the entry's time in ms: everything older than the TTL goes.
    trimmed = Number(await redis.xtrim(events, 'MINID', String(Math.max(0, cutoff))));
  }
  return completed.length + failed.length + trimmed;
}

export interface RetentionSweeper {
  /** One sweep now (also what the timer runs). */
  sweep(): Promise<number>;
  stop(): void;
}

/**
 * Sweeps `queues` every `intervalMs` (default a quarter of the TTL, at most a minute, so nothing outlives the TTL by
 * more than that). The timer is unref'd: it never keeps a process alive. Failures (Redis down) are logged at debug
 * and retried at the next tick.
 */
export function startRetentionSweeper(
  redis: Redis,
  queues: () => readonly Queue[],
  ttlMs: number,
  log: Logger,
  intervalMs = Math.max(1000, Math.min(60_000, Math.floor(ttlMs / 4))),
): RetentionSweeper {
  let running: Promise<number> | undefined;
  const sweep = () => {
    // One sweep at a time per process: a slow Redis must not pile them up.
    running ??= Promise.all(queues().map((q) => sweepQueue(redis, q, ttlMs)))
      .then((counts) => counts.reduce((a, b) => a + b, 0))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    sweep().then(
      (removed) => {
        if (removed > 0) log.debug({ removed }, 'retention sweep removed expired job records');
      },
      (err: unknown) => log.debug({ err }, 'retention sweep failed; retried at the next tick'),
    );
  }, intervalMs);
  timer.unref();
  return {
    sweep,
    stop: () => clearInterval(timer),
  };
}
