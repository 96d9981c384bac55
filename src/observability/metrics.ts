import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { QueueMetrics } from '../queue/metrics.js';
import type { QueueSnapshot } from './queue-probe.js';

/** Prometheus metrics of one process: the queue hooks plus what is read on scrape. */
export interface PortraitMetrics extends QueueMetrics {
  readonly registry: Registry;
  /** Reads queue depth and pending deliveries through `probe` on each scrape (never per job). */
  watchQueue(probe: () => Promise<QueueSnapshot>): void;
  /** The text exposition format. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Node's process metrics (CPU, RSS, heap, event-loop lag, GC) as prom-client collects them. Default true. */
  processMetrics?: boolean;
  /** Where a failed queue probe is noted (at debug: a scrape every few seconds must not flood the log). */
  log?: Logger;
}

// Seconds. Waits run from instant to the better part of an hour behind a backlog; stages from milliseconds (encode)
// to minutes (diffusion on a CPU).
const WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const STAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * A registry of its own per call (tests and several services in one process do not meet in prom-client's global
 * one). Label values come from closed sets only (stage names, error codes, platforms, delivery kinds), so the
 * series count stays bounded.
 */
export function createMetrics(options: MetricsOptions = {}): PortraitMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const queueWait = new Histogram({
    name: 'portrait_queue_wait_seconds',
    help: 'Time from submit to the start of a job’s first try.',
    buckets: WAIT_BUCKETS,
    registers,
  });
  const stageDuration = new Histogram({
    name: 'portrait_stage_duration_seconds',
    help: 'Duration of each pipeline stage of completed jobs.',
    labelNames: ['stage'] as const,
    buckets: STAGE_BUCKETS,
    registers,
  });
  const jobDuration = new Histogram({
    name: 'portrait_job_duration_seconds',
    help: 'Worker time of a completed job (selfies read, pipeline, results stored, answer queued).',
    labelNames: ['engine'] as const,
    buckets: STAGE_BUCKETS,
    registers,
  });
  const completed = new Counter({
    name: 'portrait_jobs_completed_total',
    help: 'Jobs answered with a portrait.',
    labelNames: ['engine'] as const,
    registers,
  });
  const failed = new Counter({
    name: 'portrait_jobs_failed_total',
    help: 'Jobs answered with an error, by error code (user errors and internal errors after their last try).',
    labelNames: ['code'] as const,
    registers,
  });
  const retried = new Counter({
    name: 'portrait_job_retries_total',
    help: 'Tries that failed with an internal error and were retried.',
    labelNames: ['code'] as const,
    registers,
  });
  const accepted = new Counter({
    name: 'portrait_requests_accepted_total',
    help: 'Requests queued as new jobs.',
    labelNames: ['platform'] as const,
    registers,
  });
  const refused = new Counter({
    name: 'portrait_requests_refused_total',
    help: 'Requests refused at submit, by error code (quotas, rate limit, Redis outage).',
    labelNames: ['code'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: 'portrait_deliveries_total',
    help: 'Deliveries handled by an adapter; outcome="error" ones are retried (answers) or dropped (progress).',
    labelNames: ['platform', 'kind', 'outcome'] as const,
    registers,
  });

  // Scrape-time gauges share one probe call per scrape: prom-client collects every metric in parallel.
  let probe: (() => Promise<QueueSnapshot>) | undefined;
  let inFlight: Promise<QueueSnapshot | undefined> | undefined;
  const snapshot = () => {
    if (!probe) return Promise.resolve(undefined);
    const read = probe;
    inFlight ??= read()
      .catch((err: unknown) => {
        options.log?.debug({ err }, 'queue probe failed');
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  new Gauge({
    name: 'portrait_queue_jobs',
    help: 'Portrait jobs in the queue by state, read on scrape.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (s) for (const [state, n] of Object.entries(s.portraits)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'portrait_deliveries_pending',
    help: 'Answers and progress messages not yet handled by an adapter, per platform, read on scrape.',
    labelNames: ['platform'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (s) for (const [platform, n] of Object.entries(s.deliveriesPending)) this.set({ platform }, n);
    },
  });
  new Gauge({
    name: 'portrait_queue_probe_up',
    help: '1 when the last scrape could read the queue from Redis, else 0.',
    registers,
    async collect() {
      if (probe) this.set((await snapshot()) ? 1 : 0);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    watchQueue(p) {
      probe = p;
    },
    jobStarted(waitMs) {
      queueWait.observe(Math.max(0, waitMs) / 1000);
    },
    jobCompleted(engine, stageMs, runMs) {
      for (const [stage, ms] of Object.entries(stageMs)) stageDuration.observe({ stage }, ms / 1000);
      jobDuration.observe({ engine }, runMs / 1000);
      completed.inc({ engine });
    },
    jobFailed(code, final) {
      (final ? failed : retried).inc({ code });
    },
    requestAccepted(platform) {
      accepted.inc({ platform });
    },
    requestRefused(code) {
      refused.inc({ code });
    },
    deliveryHandled(platform, kind, ok) {
      deliveries.inc({ platform, kind, outcome: ok ? 'ok' : 'error' });
    },
  };
}
