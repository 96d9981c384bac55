import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Platform } from '../core/request.js';
import type { Logger } from '../log.js';
import type { RedisHandle } from './connection.js';
import { type Delivery, deliverySchema } from './jobs.js';
import type { QueueMetrics } from './metrics.js';
import { startRetentionSweeper } from './retention.js';
import type { DeliveryConsumer, DeliveryHandler } from './service.js';

/**
 * The durable way back from the worker to the submitting side: one BullMQ queue per platform (plus private inboxes,
 * e.g. one per CLI run). Answers (`result`, `failure`) use the job id `<jobId>-result`, so BullMQ refuses a second
 * answer for the same job (a job that re-runs after a stall, a backstop failure) for as long as the first is kept.
 * Progress messages are best effort: one pending slot per job and stage, dropped when stale.
 */
export type Answer = Extract<Delivery, { kind: 'result' | 'failure' }>;
export type ProgressDelivery = Extract<Delivery, { kind: 'progress' }>;

export const INBOX_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * How long a consumed answer is kept at most: the window in which a duplicate answer is recognised and dropped. An
 * answer names its requester and carries the result, so it goes sooner when the blob TTL is shorter.
 */
const KEEP_ANSWERS_SECONDS = 24 * 3600;
/** An answer whose handler keeps failing is retried this often (with the consumer's backoff, about an hour). */
const ANSWER_ATTEMPTS = 15;
/**
 * How often a delivery may be found stalled (its consumer died while posting it) and still be handed out again.
 * BullMQ's default of 1 drops an answer when bots crash twice in a row with it in flight (a deploy, then a crash):
 * a lost answer is worse than a few more restarts, so only a delivery that keeps killing its consumer is given up.
 */
const DELIVERY_STALL_LIMIT = 5;
const BACKOFF_TYPE = 'delivery';

export function deliveryQueueName(platform: Platform, inbox?: string): string {
  return inbox ? `deliveries-${platform}-${inbox}` : `deliveries-${platform}`;
}

export function answerJobId(jobId: string): string {
  return `${jobId}-result`;
}

export interface DeliveryProducer {
  answer(delivery: Answer, inbox?: string): Promise<void>;
  /** Whether an answer for this job was already queued (and is still kept). */
  answered(jobId: string, platform: Platform, inbox?: string): Promise<boolean>;
  /** Best effort: resolves when queued or dropped (a previous progress of that stage is still pending). */
  progress(delivery: ProgressDelivery, inbox?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Producer side, used by the worker (answers, progress) and by submit (cancellations). `ttlSeconds` (the blob TTL)
 * caps how long a delivered or given-up answer is kept.
 */
export function createDeliveryProducer(connection: Redis, prefix: string, ttlSeconds?: number): DeliveryProducer {
  const keepSeconds = Math.min(KEEP_ANSWERS_SECONDS, ttlSeconds ?? KEEP_ANSWERS_SECONDS);
  const keepFailedSeconds = Math.min(7 * 24 * 3600, ttlSeconds ?? 7 * 24 * 3600);
  // Private inboxes come and go (one per CLI run): keep a bounded set of open queue handles.
  const queues = new Map<string, Queue>();
  const queueFor = (platform: Platform, inbox?: string): Queue => {
    const name = deliveryQueueName(platform, inbox);
    let queue = queues.get(name);
    if (queue) {
      queues.delete(name);
    } else {
      queue = new Queue(name, { connection, prefix });
      queue.on('error', () => {});
    }
    queues.set(name, queue);
    if (queues.size > 64) {
      const [oldest, q] = queues.entries().next().value as [string, Queue];
      queues.delete(oldest);
      void q.close().catch(() => {});
    }
    return queue;
  };
  return {
    async answer(delivery, inbox) {
      await queueFor(delivery.platform, inbox).add(delivery.kind, delivery, {
        jobId: answerJobId(delivery.jobId),
        attempts: ANSWER_ATTEMPTS,
        backoff: { type: BACKOFF_TYPE },
        removeOnComplete: { age: keepSeconds },
        removeOnFail: { age: keepFailedSeconds },
      });
    },
    async answered(jobId, platform, inbox) {
      return (await queueFor(platform, inbox).getJobState(answerJobId(jobId))) !== 'unknown';
    },
    async progress(delivery, inbox) {
      // One slot per job and stage: while a stage's message waits, newer steps of that stage are dropped, so a
      // stopped consumer finds at most one message per stage of a job; consumed ones are removed at once.
      await queueFor(delivery.platform, inbox).add('progress', delivery, {
        jobId: `${delivery.jobId}-progress-${delivery.stage}`,
        attempts: 1,
        removeOnComplete: true,
        removeOnFail: true,
      });
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      queues.clear();
    },
  };
}

export interface ConsumeOptions {
  /** Consume a private inbox (see SubmitOptions.inbox) instead of the platform's shared queue. */
  inbox?: string;
  /** Deliveries handled at once. Default 4. */
  concurrency?: number;
  /** First retry delay of a failed answer, doubled per try up to 5 minutes. Default 1000 ms. */
  retryDelayMs?: number;
  /** Progress older than this is dropped unseen. Default 30 s. */
  progressMaxAgeMs?: number;
  /** Delete the inbox's queue on close (private inboxes that will not be consumed again). */
  removeOnClose?: boolean;
  /** Lock on a delivery being handled, renewed while the handler runs. Default 30 s (tests shorten it). */
  lockDurationMs?: number;
  /** How often deliveries whose consumer died are looked for and handed out again. Default 30 s (tests shorten it). */
  stalledIntervalMs?: number;
  /** Counts handled and failed deliveries per platform and kind. */
  metrics?: QueueMetrics;
  /** How often answers past the blob TTL (and events as old) are swept from this queue. Default: retention.ts. */
  retentionSweepMs?: number;
}

/**
 * Consumes one platform's deliveries. The handler resolving acknowledges the delivery; a throw retries an answer with
 * backoff (progress is not retried). Answers reach a successful handler once: a restarted consumer picks up the
 * unacknowledged ones, acknowledged ones are never handed out again. The one gap is a crash between the handler
 * resolving and the acknowledgement reaching Redis (a few milliseconds): that answer is handed out again.
 */
export async function consumeDeliveries(
  // Without the blob TTL, finished deliveries are left to BullMQ's own removal (no sweeper).
  config: Pick<Config, 'PORTRAIT_QUEUE_PREFIX'> & Partial<Pick<Config, 'PORTRAIT_BLOB_TTL_SECONDS'>>,
  redis: RedisHandle,
  log: Logger,
  platform: Platform,
  handler: DeliveryHandler,
  options: ConsumeOptions = {},
): Promise<DeliveryConsumer> {
  if (options.inbox !== undefined && !INBOX_PATTERN.test(options.inbox)) {
    throw new Error(`delivery inbox '${options.inbox}' must be 1-64 letters, digits, - or _`);
  }
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const progressMaxAgeMs = options.progressMaxAgeMs ?? 30_000;
  const name = deliveryQueueName(platform, options.inbox);
  // Jobs answered through this consumer, so late progress for them is not shown after the answer.
  const answered = new BoundedSet(10_000);
  const lastProgressAt = new Map<string, number>();

  const handle = async (job: Job): Promise<void> => {
    const parsed = deliverySchema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ deliveryId: job.id, issues: parsed.error.issues.length }, 'dropping a malformed delivery');
      return;
    }
    const delivery = parsed.data;
    if (delivery.kind === 'progress') {
      if (Date.now() - delivery.at > progressMaxAgeMs || answered.has(delivery.jobId)) return;
      if ((lastProgressAt.get(delivery.jobId) ?? 0) > delivery.at) return;
      lastProgressAt.set(delivery.jobId, delivery.at);
      if (lastProgressAt.size > 10_000) lastProgressAt.delete(lastProgressAt.keys().next().value as string);
      try {
        await handler(delivery);
        options.metrics?.deliveryHandled(platform, delivery.kind, true);
      } catch (err) {
        options.metrics?.deliveryHandled(platform, delivery.kind, false);
        log.warn({ err, ...ids(delivery) }, 'progress delivery handler failed (not retried)');
      }
      return;
    }
    try {
      await handler(delivery);
      options.metrics?.deliveryHandled(platform, delivery.kind, true);
    } catch (err) {
      options.metrics?.deliveryHandled(platform, delivery.kind, false);
      log.warn({ err, ...ids(delivery), attempt: job.attemptsMade + 1 }, 'delivery handler failed; will retry');
      throw err;
    }
    answered.add(delivery.jobId);
    lastProgressAt.delete(delivery.jobId);
  };

  const connection = redis.connection('worker');
  const worker = new Worker(name, handle, {
    connection,
    prefix: config.PORTRAIT_QUEUE_PREFIX,
    concurrency: options.concurrency ?? 4,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: DELIVERY_STALL_LIMIT,
    settings: {
      backoffStrategy: (attemptsMade: number) => Math.min(retryDelayMs * 2 ** Math.max(0, attemptsMade - 1), 300_000),
    },
  });
  worker.on('error', (err) => log.error({ err, queue: name }, 'delivery consumer error'));
  worker.on('failed', (job, err) => {
    if (!job || job.name === 'progress') return;
    if (job.attemptsMade >= (job.opts.attempts ?? 1)) {
      log.error({ err, deliveryId: job.id, ...idsOf(job.data) }, 'gave up on a delivery after its last retry');
    } else if (job.stalledCounter > DELIVERY_STALL_LIMIT) {
      log.error(
        { err, deliveryId: job.id, ...idsOf(job.data) },
        'gave up on a delivery whose consumer died with it every time',
      );
    }
  });
  await worker.waitUntilReady();
  // Delivered answers name the requester and hold the result: swept once past the TTL, even on a quiet bot.
  const ttlSeconds = config.PORTRAIT_BLOB_TTL_SECONDS;
  const finished = ttlSeconds ? new Queue(name, { connection, prefix: config.PORTRAIT_QUEUE_PREFIX }) : undefined;
  finished?.on('error', () => {});
  const retention =
    finished && ttlSeconds
      ? startRetentionSweeper(connection, () => [finished], ttlSeconds * 1000, log, options.retentionSweepMs)
      : undefined;
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      retention?.stop();
      await finished?.close().catch(() => {});
      await worker.close();
      if (options.removeOnClose) {
        const queue = new Queue(name, { connection, prefix: config.PORTRAIT_QUEUE_PREFIX });
        await queue.obliterate({ force: true });
        await queue.close();
      }
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** The ids a delivery's log lines carry (the job's, and its request's when the worker sent it). */
function ids(d: Delivery): { jobId: string; requestId?: string } {
  return d.requestId === undefined ? { jobId: d.jobId } : { jobId: d.jobId, requestId: d.requestId };
}

/** The same from a delivery's raw job data, which may not parse. */
function idsOf(data: unknown): { jobId?: string; requestId?: string } {
  const d = (data ?? {}) as { jobId?: unknown; requestId?: unknown };
  return {
    ...(typeof d.jobId === 'string' ? { jobId: d.jobId } : {}),
    ...(typeof d.requestId === 'string' ? { requestId: d.requestId } : {}),
  };
}

class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly limit: number) {}
  has(item: string): boolean {
    return this.items.has(item);
  }
  add(item: string): void {
    this.items.add(item);
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value as string);
  }
}
