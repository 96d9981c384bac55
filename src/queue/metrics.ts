/**
 * What the queue's moving parts report to metrics, as plain calls. src/queue depends on this interface only (no
 * prom-client); src/observability/metrics.ts implements it. Every hook is optional to call sites: an unset
 * `metrics` option costs nothing.
 */
export interface QueueMetrics {
  /** A job's first try started on a worker, `waitMs` after it was submitted. */
  jobStarted(waitMs: number): void;
  /** A job answered with its portrait: per-stage durations (ms, as the pipeline reports them) and its run time. */
  jobCompleted(engine: string, stageMs: Readonly<Record<string, number>>, runMs: number): void;
  /** A try failed: `final` when the requester was answered with this code, else it is retried. */
  jobFailed(code: string, final: boolean): void;
  /** submit() queued a new job (not a duplicate). */
  requestAccepted(platform: string): void;
  /** submit() refused a request with this code (quota, rate, outage ...). */
  requestRefused(code: string): void;
  /** An adapter handled (ok) or failed to handle (retried) one delivery. */
  deliveryHandled(platform: string, kind: string, ok: boolean): void;
}
