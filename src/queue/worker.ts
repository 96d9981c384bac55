import { type Job, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Requester } from '../core/request.js';
import {
  INTERNAL_ERROR_CODES,
  type InternalErrorCode,
  newReferenceId,
  PortraitError,
  toErrorPayload,
} from '../errors.js';
import type { Logger } from '../log.js';
import type { PipelineInput, PipelineOutput, Progress } from '../pipeline/types.js';
import { createBlobStore } from './blobs.js';
import type { RedisHandle } from './connection.js';
import { createDeliveryProducer, type DeliveryProducer, type ProgressDelivery } from './deliveries.js';
import { type PortraitJobData, type PortraitResult, portraitJobSchema } from './jobs.js';
import { PORTRAIT_QUEUE, type QueueKeys, queueKeys } from './keys.js';
import type { QueueMetrics } from './metrics.js';
import { DEFAULT_PIPELINE_MODULE, PipelineThreads } from './pipeline-threads.js';
import { storePreview } from './previews.js';
import { startRetentionSweeper } from './retention.js';
import { releaseSlot } from './slots.js';

export interface WorkerOptions {
  /** Module (URL or file URL string) exporting `createPipeline(config)`. Default: src/pipeline/run.ts. */
  pipelineModule?: string | URL;
  /** Jobs (and pipeline threads) at once. Default PORTRAIT_WORKER_CONCURRENCY. */
  concurrency?: number;
  /** Default PORTRAIT_JOB_TIMEOUT_SECONDS. */
  jobTimeoutMs?: number;
  /** First retry delay after an internal error, doubled per try up to 5 minutes. Default 2000 ms. */
  retryDelayMs?: number;
  /** BullMQ job lock, renewed every half of it while the job runs. Default 30 s. */
  lockDurationMs?: number;
  /** How often stalled jobs (their worker died) are looked for. Default 15 s. */
  stalledIntervalMs?: number;
  /** How long a cancelled pipeline may take to reach its next progress report before its thread is ended. Default 2 s. */
  cancelGraceMs?: number;
  /** Minimum time between two progress messages within one stage. Default 1000 ms. */
  progressIntervalMs?: number;
  /**
   * Start even when the pipeline cannot be created (a missing model): jobs are then answered with its error code
   * after their tries. Default false: startWorker rejects with the pipeline's error (e.g. model.missing).
   */
  tolerateBrokenPipeline?: boolean;
  /** Called when a job's processing starts on this worker (metrics, benchmarks). */
  onJobStart?: (jobId: string) => void;
  /**
   * Runs the follow-up of a job that failed for good (default: at once). Tests wrap it to run it after a consumer
   * has left, and to await it.
   */
  failureFollowUp?: (jobId: string, followUp: () => Promise<void>) => Promise<void>;
  /** Queue wait, stage durations, completions and failures by code (src/observability). */
  metrics?: QueueMetrics;
  /**
   * How often finished jobs past PORTRAIT_BLOB_TTL_SECONDS (and events stream entries as old) are swept away.
   * Default a quarter of the TTL, at most a minute (retention.ts).
   */
  retentionSweepMs?: number;
}

export interface PortraitWorker {
  /**
   * Stops taking jobs and lets the running ones finish for up to `timeoutMs` (default PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS);
   * jobs still running then are stopped and handed back: they go to the front of the queue at once, unanswered, with
   * neither a try nor a stall counted, and run again on the next worker. Then the pipeline threads end.
   * `force` ends the threads at once instead: their jobs keep their place and run again once their lock lapses.
   */
  close(options?: { force?: boolean; timeoutMs?: number }): Promise<void>;
}

/**
 * How often a job may be found stalled (its worker died or froze) and still be re-run. A job that kills its worker
 * every time would otherwise take every worker down in turn.
 */
const STALL_LIMIT = 1;

/**
 * The portrait worker: takes jobs from BullMQ, runs the pipeline in worker threads (the main thread only moves bytes
 * and keeps BullMQ's lock alive), stores results as blobs keyed by job id and answers through the delivery queue.
 *
 * Errors: a user error (bad photo, no face, cancel, timeout) is answered at once and never retried. An internal error
 * is retried with exponential backoff; the last try answers `internal.error` with a reference id that is also logged.
 */
export async function startWorker(
  config: Config,
  redis: RedisHandle,
  log: Logger,
  options: WorkerOptions = {},
): Promise<PortraitWorker> {
  const keys = queueKeys(config.PORTRAIT_QUEUE_PREFIX);
  const client = redis.connection('client');
  const blobs = createBlobStore(client, keys, config.PORTRAIT_BLOB_TTL_SECONDS);
  const deliveries = createDeliveryProducer(client, config.PORTRAIT_QUEUE_PREFIX, config.PORTRAIT_BLOB_TTL_SECONDS);
  const concurrency = options.concurrency ?? config.PORTRAIT_WORKER_CONCURRENCY;
  const pipelineModule = String(options.pipelineModule ?? DEFAULT_PIPELINE_MODULE);
  const threads = new PipelineThreads(concurrency, pipelineModule, config, log);
  try {
    await threads.ready(options.tolerateBrokenPipeline ?? false);
  } catch (err) {
    await threads.close(0);
    await client.quit().catch(() => client.disconnect());
    throw err;
  }

  const retryDelayMs = options.retryDelayMs ?? 2000;
  const ctx: JobContext = {
    config,
    log,
    keys,
    client,
    deliveries,
    threads,
    store: blobs,
    jobTimeoutMs: options.jobTimeoutMs ?? config.PORTRAIT_JOB_TIMEOUT_SECONDS * 1000,
    cancelGraceMs: options.cancelGraceMs ?? 2000,
    progressIntervalMs: options.progressIntervalMs ?? 1000,
    stopping: false,
    handBack: new AbortController(),
    metrics: options.metrics,
    answeredFailures: new WeakSet(),
  };
  // Request ids of the jobs running here, for the lines logged about them outside processJob (a cancel).
  const running = new Map<string, string>();

  const workerConnection = redis.connection('worker');
  const worker = new Worker<PortraitJobData, StoredOutcome>(
    PORTRAIT_QUEUE,
    (job, token, signal) => {
      const jobId = job.id ?? '';
      options.onJobStart?.(jobId);
      running.set(jobId, String(job.data?.idempotencyKey ?? ''));
      return processJob(ctx, job, token, signal).finally(() => running.delete(jobId));
    },
    {
      connection: workerConnection,
      prefix: config.PORTRAIT_QUEUE_PREFIX,
      concurrency,
      autorun: false,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 15_000,
      // BullMQ fails a job past this many stalls without running our code; we stop one earlier (STALL_LIMIT) inside
      // the processor, where the requester can still be answered.
      maxStalledCount: STALL_LIMIT + 1,
      settings: {
        backoffStrategy: (attemptsMade: number) => Math.min(retryDelayMs * 2 ** Math.max(0, attemptsMade - 1), 300_000),
      },
    },
  );
  worker.on('error', (err) => log.error({ err }, 'portrait worker error'));
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled (its worker stopped); it runs again'));
  const runFollowUp = options.failureFollowUp ?? ((_jobId, followUp) => followUp());
  worker.on('failed', (job, err) => {
    if (job?.finishedOn) {
      void runFollowUp(job.id ?? '', () => afterFinalFailure(ctx, job, err)).catch((e: unknown) =>
        log.error({ err: e }, 'failure follow-up'),
      );
    }
  });

  // Cancels reach whichever worker runs the job: a pub/sub message aborts the job's signal here.
  const subscriber = redis.connection('worker');
  subscriber.on('message', (_channel: string, jobId: string) => {
    if (worker.cancelJob(jobId, 'cancelled'))
      log.info({ jobId, requestId: running.get(jobId) }, 'cancelling a running job');
  });
  await subscriber.subscribe(keys.cancelChannel);

  void worker.run().catch((err: unknown) => log.error({ err }, 'portrait worker stopped'));
  await worker.waitUntilReady();
  // Finished jobs name their requester and route: gone with the selfies, even when no later job comes to remove them.
  const finished = new Queue(PORTRAIT_QUEUE, { connection: client, prefix: config.PORTRAIT_QUEUE_PREFIX });
  finished.on('error', () => {});
  const retention = startRetentionSweeper(
    client,
    () => [finished],
    config.PORTRAIT_BLOB_TTL_SECONDS * 1000,
    log,
    options.retentionSweepMs,
  );
  log.info({ concurrency, pipelineModule }, 'portrait worker ready');

  const shutdownMs = config.PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS * 1000;
  let closing: Promise<void> | undefined;
  const close = async (force: boolean, timeoutMs: number) => {
    ctx.stopping = force;
    const stopped = worker.close(force);
    // A forced close leaves its jobs to the stall check; a graceful one hands back what outlives the timeout.
    const handBack = force
      ? undefined
      : setTimeout(() => {
          log.warn({ timeoutMs }, 'shutdown timeout: handing running jobs back to the queue');
          ctx.handBack.abort();
        }, timeoutMs);
    await stopped;
    clearTimeout(handBack);
    await threads.close(force ? 0 : 5000);
    retention.stop();
    await finished.close().catch(() => {});
    await subscriber.quit().catch(() => subscriber.disconnect());
    await workerConnection.quit().catch(() => workerConnection.disconnect());
    await deliveries.close();
    await client.quit().catch(() => client.disconnect());
  };
  return {
    close({ force = false, timeoutMs = shutdownMs } = {}) {
      closing ??= close(force, timeoutMs);
      return closing;
    },
  };
}

interface JobContext {
  config: Config;
  log: Logger;
  keys: QueueKeys;
  client: Redis;
  deliveries: DeliveryProducer;
  threads: PipelineThreads;
  store: ReturnType<typeof createBlobStore>;
  jobTimeoutMs: number;
  cancelGraceMs: number;
  progressIntervalMs: number;
  /** Set by a forced close: failures from here on are the shutdown's, and answer nobody. */
  stopping: boolean;
  /** Aborted when a closing worker's timeout passes: running jobs stop and go back to the queue. */
  handBack: AbortController;
  /**
   * The errors processJob threw after answering the requester itself. BullMQ's 'failed' event hands back that same
   * object, so the follow-up knows the answer went out without asking Redis: a CLI run removes its inbox (answer
   * included) the moment it reads the answer, and the follow-up looking there afterwards saw no answer and sent a
   * second failure with a second reference id.
   */
  answeredFailures: WeakSet<Error>;
  metrics: QueueMetrics | undefined;
}

/**
 * What BullMQ stores as the job's return value. The result itself travels in the delivery; BullMQ would keep a
 * copy in the job and in its events stream (capped by count, not age), where the report's face measurements and
 * the result keys would outlive the blob TTL and `forget`. So only this goes there.
 */
interface StoredOutcome {
  images: number;
  engine: string;
}

async function processJob(
  ctx: JobContext,
  job: Job<PortraitJobData, StoredOutcome>,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<StoredOutcome> {
  const jobId = job.id ?? '';
  const parsed = portraitJobSchema.safeParse(job.data);
  if (!parsed.success) {
    // Nobody to answer without a valid requester; a producer bug, so say so loudly.
    const refId = newReferenceId();
    ctx.log.error({ jobId, refId, issues: parsed.error.issues }, 'malformed portrait job');
    throw new UnrecoverableError(`malformed job (reference ${refId})`);
  }
  const data = parsed.data;
  const { request } = data;
  // Every line about this job carries both ids; the pipeline thread's lines are written through this logger too.
  const log = ctx.log.child({ jobId, requestId: data.idempotencyKey, attempt: job.attemptsMade + 1 });
  const startedAt = Date.now();
  // The wait is the first try's: a retry's backoff or a stalled run's lock are not time spent in the queue.
  if (job.attemptsMade === 0 && job.stalledCounter === 0) ctx.metrics?.jobStarted(startedAt - data.submittedAt);
  log.debug({ waitMs: startedAt - data.submittedAt }, 'portrait started');
  // Its worker died (or froze) while running it more often than a worker ever should: most likely the job itself
  // kills the process (a native crash on this input). Answer it now instead of letting it take down the next one.
  const poisoned = job.stalledCounter > STALL_LIMIT;
  try {
    if (poisoned) {
      throw new PortraitError('internal.error', `job stalled ${job.stalledCounter} times; not running it again`);
    }
    // Concurrent commands share one round trip on the connection.
    const [cancelled, ...selfies] = await Promise.all([
      ctx.client.exists(ctx.keys.cancelMark(jobId)),
      ...request.selfieKeys.map((key) => ctx.store.get(key)),
    ]);
    if (cancelled) throw new PortraitError('job.cancelled', 'cancelled before it started');
    if (selfies.some((s) => s === null)) throw new PortraitError('job.expired', 'a selfie blob expired or was deleted');

    const input: PipelineInput = {
      selfies: selfies as Uint8Array[],
      pose: request.pose,
      lighting: request.lighting,
      style: request.style,
      seed: request.seed,
      variations: request.variations,
      engine: request.engine ?? ctx.config.PORTRAIT_ENGINE,
      // Unnamed, the pipeline may swap the operator's default for its fallback (diffusion without a pack).
      ...(request.engine ? {} : { engineDefaulted: true }),
      outputSize: request.output?.size ?? ctx.config.PORTRAIT_OUTPUT_SIZE,
      outputFormat: request.output?.format ?? ctx.config.PORTRAIT_OUTPUT_FORMAT,
      debug: request.debug,
    };
    const progress = progressReporter(ctx, job, data, log);
    const output = await ctx.threads.run(input, {
      onProgress: progress.report,
      signal: signal ? AbortSignal.any([signal, ctx.handBack.signal]) : ctx.handBack.signal,
      timeoutMs: ctx.jobTimeoutMs,
      cancelGraceMs: ctx.cancelGraceMs,
      log,
    });
    if (signal?.aborted) throw new PortraitError('job.cancelled', 'cancelled while running');

    // A preview still being stored is sent before the answer, not after it (a consumer drops progress of answered
    // jobs, and the late one would take the stage's slot from the previews before it).
    await progress.settled();
    const { result, writes } = storeResult(ctx, jobId, request.requester, output, startedAt - data.submittedAt);
    // The image writes were issued first on the same connection the answer goes out on, and Redis runs one
    // connection's commands in order: the answer never becomes visible before its images, without waiting a round
    // trip in between.
    await Promise.all([
      ...writes,
      ctx.deliveries.answer({ kind: 'result', jobId, ...address(data), result, seed: request.seed }, data.inbox),
      releaseSlot(ctx.client, ctx.keys, request.requester, jobId),
    ]);
    const runMs = Date.now() - startedAt;
    ctx.metrics?.jobCompleted(result.engine, stageTimings(output), runMs);
    log.info({ ms: runMs, engine: result.engine }, 'portrait done');
    return { images: result.outputKeys.length, engine: result.engine };
  } catch (err) {
    // A forced shutdown ended the thread: not the job's fault. It keeps its place and runs again after its lock lapses.
    if (ctx.stopping) throw err;
    // The shutdown timeout stopped it (and not the requester's cancel): back to the front of the queue, unanswered.
    if (ctx.handBack.signal.aborted && !signal?.aborted && token) {
      // Should that fail (Redis gone), the job stays active and its lapsing lock hands it back instead.
      await job
        .moveToWait(token)
        .catch((e: unknown) => log.warn({ err: e }, 'hand-back failed; the job waits out its lock'));
      log.info('handed back to the queue (shutdown)');
      throw new WaitingError();
    }
    const userError = err instanceof PortraitError && err.userError;
    const lastTry = userError || poisoned || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const refId = userError ? undefined : newReferenceId();
    ctx.metrics?.jobFailed(userError ? err.code : codeOf(asInternal(err)), lastTry);
    if (userError) log.info({ code: err.code }, 'portrait refused');
    else log.error({ err, refId, lastTry }, lastTry ? 'portrait failed' : 'portrait failed; will retry');
    const thrown = userError
      ? new UnrecoverableError(`${err.code}: ${err.message}`)
      : poisoned
        ? new UnrecoverableError(`poisoned: ${(err as Error).message}`)
        : err instanceof Error
          ? err
          : new Error(String(err));
    if (lastTry) {
      const mark = await ctx.client.get(ctx.keys.cancelMark(jobId));
      // A forgotten requester gets no message about the job they asked to erase.
      if (mark !== 'forget') {
        const payload = toErrorPayload(userError ? err : asInternal(err), refId);
        await ctx.deliveries.answer({ kind: 'failure', jobId, ...address(data), error: payload }, data.inbox);
      }
      await releaseSlot(ctx.client, ctx.keys, request.requester, jobId);
      ctx.answeredFailures.add(thrown);
    }
    throw thrown;
  }
}

/**
 * Runs after a job failed for good. A forgotten requester's job record goes as soon as the job lets go of its lock.
 * Otherwise this is the backstop answer for failures our processor never answered (BullMQ fails a job that stalled
 * too often without running it). A failure the processor answered is known by its error object; the answer's
 * fixed id covers an answer sent by another process.
 */
async function afterFinalFailure(ctx: JobContext, job: Job<PortraitJobData, StoredOutcome>, err: Error): Promise<void> {
  const jobId = job.id ?? '';
  if ((await ctx.client.get(ctx.keys.cancelMark(jobId))) === 'forget') {
    await job.remove().catch(() => {});
    return;
  }
  if (ctx.answeredFailures.has(err)) return;
  const parsed = portraitJobSchema.safeParse(job.data);
  if (!parsed.success) return;
  const { request, inbox } = parsed.data;
  if (await ctx.deliveries.answered(jobId, request.requester.platform, inbox)) return;
  const refId = newReferenceId();
  ctx.log.error(
    { jobId, requestId: parsed.data.idempotencyKey, refId, reason: err.message },
    'portrait failed outside the processor',
  );
  ctx.metrics?.jobFailed('internal.error', true);
  const error = toErrorPayload(new PortraitError('internal.error', err.message), refId);
  await ctx.deliveries.answer({ kind: 'failure', jobId, ...address(parsed.data), error }, inbox);
  await releaseSlot(ctx.client, ctx.keys, request.requester, jobId);
}

function address(data: PortraitJobData) {
  const { requester, route } = data.request;
  return { platform: requester.platform, route, requester, requestId: data.idempotencyKey };
}

/** The pipeline's per-stage milliseconds (stages it did not run are absent). */
function stageTimings(output: PipelineOutput): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stage, ms] of Object.entries(output.timings)) if (typeof ms === 'number') out[stage] = ms;
  return out;
}

function codeOf(err: unknown): string {
  return err instanceof PortraitError ? err.code : 'internal.error';
}

/** Internal errors keep their own code when it says more (model.missing ...); anything else is internal.error. */
function asInternal(err: unknown): unknown {
  const internal: readonly string[] = INTERNAL_ERROR_CODES;
  if (err instanceof PortraitError && internal.includes(err.code)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PortraitError('internal.error' satisfies InternalErrorCode, message);
}

/**
 * Starts writing the outputs (keyed by job id, so a job that re-runs after a stall overwrites its first try's blobs)
 * and returns the result that names them, with the writes still in flight.
 */
function storeResult(
  ctx: JobContext,
  jobId: string,
  owner: Requester,
  output: PipelineOutput,
  queuedMs: number,
): { result: PortraitResult; writes: Promise<string>[] } {
  const writes = output.images.map((img, i) => ctx.store.put(img, owner, `out:${jobId}:${i}`));
  if (output.debugSheet) writes.push(ctx.store.put(output.debugSheet, owner, `out:${jobId}:debug`));
  const timings: Record<string, number> = { queue: Math.max(0, queuedMs) };
  for (const [stage, ms] of Object.entries(output.timings)) if (typeof ms === 'number') timings[stage] = ms;
  const result: PortraitResult = {
    outputKeys: output.images.map((_, i) => ctx.store.keyFor(`out:${jobId}:${i}`)),
    format: output.format,
    width: output.width,
    height: output.height,
    engine: output.engine,
    facesPerSelfie: output.facesPerSelfie,
    timings,
    report: { ...output.report },
    ...(output.debugSheet ? { debugSheetKey: ctx.store.keyFor(`out:${jobId}:debug`) } : {}),
  };
  return { result, writes };
}

/**
 * Forwards stage changes at once and step updates within a stage at most every `progressIntervalMs`, to the job
 * (job.progress, for status queries) and to the requester's delivery queue. Best effort: failures are logged only.
 */
function progressReporter(
  ctx: JobContext,
  job: Job<PortraitJobData, StoredOutcome>,
  data: PortraitJobData,
  log: Logger,
) {
  let lastStage: string | undefined;
  let lastAt = 0;
  let previewing = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const report = (progress: Progress) => {
    const now = Date.now();
    // While a preview is being stored, it is this stage's newest news: a later step sent meanwhile would take the
    // stage's delivery slot and, being newer, make the consumer drop the preview.
    if (previewing && progress.stage === lastStage) return;
    // The engine already spaces previews out (PORTRAIT_PREVIEW_INTERVAL_MS), so one always goes through.
    const preview = previewing ? undefined : progress.preview;
    if (!preview && progress.stage === lastStage && now - lastAt < ctx.progressIntervalMs) return;
    lastStage = progress.stage;
    lastAt = now;
    const steps = {
      ...(progress.step === undefined ? {} : { step: progress.step }),
      ...(progress.steps === undefined ? {} : { steps: progress.steps }),
    };
    const fail = (err: unknown) => log.debug({ err }, 'progress not sent');
    job.updateProgress({ stage: progress.stage, ...steps }).catch(fail);
    // `at` is when the pipeline reported it: a consumer drops it should a later report overtake it while it is stored.
    const delivery: ProgressDelivery = {
      kind: 'progress',
      jobId: job.id ?? '',
      ...address(data),
      stage: progress.stage,
      ...steps,
      at: now,
    };
    const send = (d: ProgressDelivery) => ctx.deliveries.progress(d, data.inbox).catch(fail);
    // Deliveries leave in the order they were reported: a consumer drops a report older than one it has shown, so
    // a preview still being encoded must not be overtaken by the next stage's report.
    if (!preview) {
      inFlight = inFlight.then(() => send(delivery));
      return;
    }
    previewing = true;
    inFlight = inFlight
      .then(() => storePreview(ctx.store, job.id ?? '', data.request.requester, preview))
      .then(
        (previewKey) => send({ ...delivery, previewKey }),
        (err: unknown) => {
          log.debug({ err }, 'preview not stored');
          return send(delivery);
        },
      )
      .finally(() => {
        previewing = false;
      });
  };
  return { report, settled: () => inFlight };
}
