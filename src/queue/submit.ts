import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { type Platform, type PortraitRequest, portraitRequestSchema, type Requester } from '../core/request.js';
import { PortraitError } from '../errors.js';
import type { Logger } from '../log.js';
import { createBlobStore, throwOnFailure } from './blobs.js';
import type { RedisHandle } from './connection.js';
import {
  answerJobId,
  type ConsumeOptions,
  consumeDeliveries,
  createDeliveryProducer,
  deliveryQueueName,
  INBOX_PATTERN,
} from './deliveries.js';
import { purgeJobEvents } from './events-stream-purge.js';
import type { PortraitJobData } from './jobs.js';
import { jobIdFor, PORTRAIT_QUEUE, queueKeys } from './keys.js';
import type { QueueMetrics } from './metrics.js';
import { rateLimitedError, rateLimitOf } from './rate-limit.js';
import type {
  DeliveryConsumer,
  DeliveryHandler,
  JobState,
  JobSummary,
  PortraitService,
  SubmitOptions,
  SubmitReceipt,
} from './service.js';
import { reconcileSlots, releaseSlot, reserveSlot } from './slots.js';

/** PortraitService plus the delivery side, so an adapter gets everything queue-related from one object. */
export interface PortraitQueueService extends PortraitService {
  consumeDeliveries(platform: Platform, handler: DeliveryHandler, options?: ConsumeOptions): Promise<DeliveryConsumer>;
}

/** What the requester's job list keeps per job (the job itself may already be gone from BullMQ). */
interface JobRecord {
  submittedAt: number;
  pose: string;
  lighting: string;
  cancelled?: boolean;
}

/**
 * The producer side of the portrait queue: what adapters and the CLI call. Owns one client connection (commands fail
 * fast, answered as `service.unavailable`) and never touches pipeline code.
 */
export function createPortraitService(
  config: Config,
  redis: RedisHandle,
  log: Logger,
  options: { metrics?: QueueMetrics } = {},
): PortraitQueueService {
  const metrics = options.metrics;
  const keys = queueKeys(config.PORTRAIT_QUEUE_PREFIX);
  const client = redis.connection('client');
  const ttl = config.PORTRAIT_BLOB_TTL_SECONDS;
  const blobs = createBlobStore(client, keys, ttl);
  const queue = new Queue<PortraitJobData>(PORTRAIT_QUEUE, {
    connection: client,
    prefix: config.PORTRAIT_QUEUE_PREFIX,
  });
  queue.on('error', (err) => log.warn({ err }, 'portrait queue connection error'));
  const deliveries = createDeliveryProducer(client, config.PORTRAIT_QUEUE_PREFIX, ttl);
  const consumers = new Set<DeliveryConsumer>();
  const rate = rateLimitOf(config);

  /**
   * The in-flight caps and the rate limit share the workers fairly among chat members (and playground visitors).
   * The operator at the machine (`portrait generate`) sets those limits and owns the workers: their runs still go
   * through the reservation (duplicate and selfie checks, the job list) but are never counted against a cap or a
   * rate.
   */
  function limitsFor(operator: boolean): { userCap: number; scopeCap: number; rate?: typeof rate } {
    if (operator) return { userCap: Number.MAX_SAFE_INTEGER, scopeCap: Number.MAX_SAFE_INTEGER };
    return {
      userCap: config.PORTRAIT_USER_IN_FLIGHT,
      scopeCap: config.PORTRAIT_SCOPE_QUEUE_CAP,
      ...(rate ? { rate } : {}),
    };
  }

  const isLive = async (jobId: string) => {
    const state = await queue.getJobState(jobId);
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  };

  async function position(jobId: string): Promise<number> {
    const [llen, lpos, zrank, delayed, zcard] = throwOnFailure(
      await client
        .multi()
        .llen(queue.keys.wait ?? '')
        .lpos(queue.keys.wait ?? '', jobId)
        .zrank(queue.keys.prioritized ?? '', jobId)
        .zscore(queue.keys.delayed ?? '', jobId)
        .zcard(queue.keys.prioritized ?? '')
        .exec(),
    ) as [number, number | null, number | null, string | null, number];
    // Workers take the wait list from its right end, then prioritized jobs by rank (BullMQ's moveToActive).
    if (lpos !== null) return llen - lpos;
    if (zrank !== null) return llen + zrank + 1;
    // Waiting out a retry backoff: behind everything queued now.
    if (delayed !== null) return llen + zcard + 1;
    return 0;
  }

  /** Counts what submit answered: accepted new jobs, refusals by code. */
  async function submit(options: SubmitOptions): Promise<SubmitReceipt> {
    try {
      const receipt = await submitOnce(options);
      if (!receipt.duplicate) metrics?.requestAccepted(options.request.requester.platform);
      return receipt;
    } catch (err) {
      if (err instanceof PortraitError) metrics?.requestRefused(err.code);
      throw err;
    }
  }

  async function submitOnce(options: SubmitOptions): Promise<SubmitReceipt> {
    const request = parseRequest(options);
    const requester = request.requester;
    const jobId = jobIdFor(requester.platform, options.idempotencyKey);
    return withAvailability(async () => {
      if (!request.selfieKeys.every((key) => blobs.isBlobKey(key))) {
        throw new PortraitError('job.expired', 'a selfie key is not a blob key', {});
      }
      const record: JobRecord = { submittedAt: Date.now(), pose: request.pose, lighting: request.lighting };
      const limits = limitsFor(options.operator === true);
      const reserve = () =>
        reserveSlot(client, keys, {
          requester,
          jobId,
          jobKey: queue.toKey(jobId),
          waitKey: queue.keys.wait ?? '',
          selfieKeys: request.selfieKeys,
          userCap: limits.userCap,
          scopeCap: limits.scopeCap,
          ttlSeconds: ttl,
          summary: JSON.stringify(record),
          ...(limits.rate ? { rate: { ...limits.rate, key: keys.userRate(requester) } } : {}),
        });
      let reserved = await reserve();
      if (reserved.outcome === 'user' || reserved.outcome === 'scope') {
        // A refusal might come from reservations a crashed process never released: drop those and look again.
        if ((await reconcileSlots(client, keys, requester, isLive)) > 0) reserved = await reserve();
      }
      switch (reserved.outcome) {
        case 'duplicate':
          return { jobId, duplicate: true, position: await position(jobId) };
        case 'missing':
          throw new PortraitError('job.expired', 'a selfie blob is missing or expired', { selfie: reserved.selfie });
        case 'user':
          throw new PortraitError('quota.user_in_flight', 'too many portraits in flight for this requester', {
            limit: limits.userCap,
          });
        case 'scope':
          throw new PortraitError('quota.queue_full', 'the community queue is full', {
            limit: limits.scopeCap,
          });
        case 'rate':
          throw rateLimitedError(limits.rate ?? { limit: 0, windowMs: 0 }, reserved.retryAfterMs);
      }

      const data: PortraitJobData = {
        request,
        idempotencyKey: options.idempotencyKey,
        submittedAt: record.submittedAt,
        ...(options.inbox ? { inbox: options.inbox } : {}),
      };
      try {
        await queue.add('portrait', data, {
          jobId,
          attempts: config.PORTRAIT_JOB_ATTEMPTS,
          // The delay schedule is the worker's (its backoffStrategy); the job only names it.
          backoff: { type: 'portrait' },
          removeOnComplete: { age: ttl },
          removeOnFail: { age: ttl },
          ...(options.priority === undefined ? {} : { priority: options.priority }),
        });
      } catch (err) {
        await releaseSlot(client, keys, requester, jobId).catch(() => {});
        throw err;
      }
      log.debug({ jobId, requestId: options.idempotencyKey }, 'portrait queued');
      // A plain job joins the wait list's far end: its place is known without asking again. A prioritized one is
      // ranked among the others by BullMQ, so look it up.
      const place = options.priority === undefined ? reserved.waiting + 1 : await position(jobId);
      return { jobId, duplicate: false, position: place };
    });
  }

  async function listJobs(requester: Requester): Promise<JobSummary[]> {
    return withAvailability(async () => {
      const records = await client.hgetall(keys.userJobs(requester));
      const out: JobSummary[] = [];
      for (const [jobId, json] of Object.entries(records)) {
        const record = JSON.parse(json) as JobRecord;
        const state = record.cancelled ? 'cancelled' : stateOf(await queue.getJobState(jobId));
        if (!state) {
          // The job aged out of BullMQ: nothing left to show.
          await client.hdel(keys.userJobs(requester), jobId);
          continue;
        }
        const pos = state === 'queued' ? await position(jobId) : 0;
        out.push({
          jobId,
          state,
          position: pos,
          submittedAt: record.submittedAt,
          pose: record.pose,
          lighting: record.lighting,
        });
      }
      return out.sort((a, b) => a.submittedAt - b.submittedAt);
    });
  }

  async function cancel(jobId: string, requester: Requester): Promise<boolean> {
    return withAvailability(async () => {
      const json = await client.hget(keys.userJobs(requester), jobId);
      if (!json) return false;
      const record = JSON.parse(json) as JobRecord;
      if (record.cancelled || !(await isLive(jobId))) return false;
      const job = await queue.getJob(jobId);
      if (!job) return false;
      // The mark first: a worker that picks the job up from now on refuses to run it.
      await client.set(keys.cancelMark(jobId), 'cancel', 'EX', ttl);
      await client.hset(keys.userJobs(requester), jobId, JSON.stringify({ ...record, cancelled: true }));
      if ((await queue.remove(jobId)) === 1) {
        await releaseSlot(client, keys, requester, jobId);
        // The same answer a running job gets, so adapters close their status message in one place.
        await deliveries.answer(
          {
            kind: 'failure',
            jobId,
            platform: requester.platform,
            route: job.data.request.route,
            requester: job.data.request.requester,
            requestId: job.data.idempotencyKey,
            error: { code: 'job.cancelled', message: 'cancelled while queued', details: {} },
          },
          job.data.inbox,
        );
      } else {
        // Running (locked): its worker aborts it and answers job.cancelled.
        await client.publish(keys.cancelChannel, jobId);
      }
      log.info({ jobId, requestId: job.data.idempotencyKey }, 'portrait cancelled');
      return true;
    });
  }

  async function forget(requester: Requester): Promise<number> {
    return withAvailability(async () => {
      let removed = 0;
      const jobIds = Object.keys(await client.hgetall(keys.userJobs(requester)));
      const eventStreams = new Set([queue.keys.events ?? '']);
      for (const jobId of jobIds) {
        await client.set(keys.cancelMark(jobId), 'forget', 'EX', ttl);
        const job = await queue.getJob(jobId);
        let running = false;
        if (job) {
          const inbox = job.data.inbox;
          if ((await queue.remove(jobId)) === 1) removed++;
          else {
            // Running: the worker stops it, answers nobody and removes the record when it lets go.
            running = true;
            await client.publish(keys.cancelChannel, jobId);
          }
          const answers = new Queue(deliveryQueueName(requester.platform, inbox), {
            connection: client,
            prefix: config.PORTRAIT_QUEUE_PREFIX,
          });
          removed += await answers.remove(answerJobId(jobId)).catch(() => 0);
          eventStreams.add(answers.keys.events ?? '');
          await answers.close();
        }
        // Only a running job still needs the mark (its worker reads it when it lets go); a removed one is gone.
        if (!running) await client.del(keys.cancelMark(jobId));
        await releaseSlot(client, keys, requester, jobId);
      }
      // The queues' event streams name the jobs and hold what they returned: drop those entries too.
      await purgeJobEvents(client, [...eventStreams].filter(Boolean), jobIds);
      removed += await blobs.forget(requester);
      removed += await client.del(keys.userJobs(requester), keys.userInFlight(requester));
      log.info({ platform: requester.platform, removed }, 'forgot a requester');
      return removed;
    });
  }

  return {
    putBlob: (bytes, owner) => withAvailability(() => blobs.put(bytes, owner)),
    getBlob: (key) => withAvailability(() => blobs.get(key)),
    submit,
    position: (jobId) => withAvailability(() => position(jobId)),
    listJobs,
    cancel,
    forget,
    async consumeDeliveries(platform, handler, options) {
      const consumer = await consumeDeliveries(config, redis, log, platform, handler, {
        ...options,
        ...(metrics ? { metrics } : {}),
      });
      consumers.add(consumer);
      return {
        async close() {
          consumers.delete(consumer);
          await consumer.close();
        },
      };
    },
    async close() {
      await Promise.all([...consumers].map((c) => c.close()));
      await queue.close();
      await deliveries.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}

function stateOf(state: string): JobState | undefined {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'delayed':
    case 'waiting-children':
      return 'queued';
    case 'active':
      return 'running';
    case 'completed':
      return 'done';
    case 'failed':
      return 'failed';
    default:
      return undefined;
  }
}

function parseRequest(options: SubmitOptions): PortraitRequest {
  if (
    typeof options.idempotencyKey !== 'string' ||
    options.idempotencyKey.length < 1 ||
    options.idempotencyKey.length > 200
  ) {
    throw new PortraitError('request.bad_option', 'idempotency key must be 1-200 characters', {
      option: 'idempotencyKey',
      expected: '1 to 200 characters',
    });
  }
  if (options.inbox !== undefined && !INBOX_PATTERN.test(options.inbox)) {
    throw new PortraitError('request.bad_option', 'bad delivery inbox', {
      option: 'inbox',
      expected: '1-64 letters, digits, - or _',
    });
  }
  const parsed = portraitRequestSchema.safeParse(options.request);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  if (path.startsWith('selfieKeys')) {
    const tooMany = issue?.code === 'too_big';
    throw new PortraitError(
      tooMany ? 'request.too_many_selfies' : 'request.no_selfie',
      issue?.message ?? 'bad selfies',
      tooMany ? { limit: 4 } : {},
    );
  }
  throw new PortraitError('request.bad_option', `invalid request: ${path}: ${issue?.message ?? ''}`, {
    option: path || 'request',
    expected: issue?.message ?? 'a valid value',
  });
}

/** Redis being unreachable is an outage the user can be told about, not a bug. */
async function withAvailability<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PortraitError) throw err;
    if (isConnectionError(err)) {
      throw new PortraitError('service.unavailable', 'Redis is unreachable', {}, { cause: err });
    }
    throw err;
  }
}

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (
    typeof e.code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(e.code)
  ) {
    return true;
  }
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    (typeof e.message === 'string' && /Connection is closed|Reached the max retries/i.test(e.message))
  );
}
