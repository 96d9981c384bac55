import type { Config } from '../config.js';
import { type ErrorCode, type ErrorDetails, isErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { PipelineInput, PipelineOutput, Progress, ProgressFn } from '../pipeline/types.js';

/**
 * The messages between the worker's main thread and a pipeline thread. The pipeline is structurally what
 * src/pipeline/run.ts exports; the queue depends on its shape only.
 */
export interface PipelineLike {
  run(input: PipelineInput, onProgress: ProgressFn, signal?: AbortSignal): Promise<PipelineOutput>;
  dispose(): Promise<void>;
}
export interface PipelineModule {
  /** `deps.logger` forwards the pipeline's log lines to the worker's main thread (see PipelineThreads). */
  createPipeline(config: Config, deps?: { logger?: Logger }): Promise<PipelineLike>;
}

export interface ThreadData {
  /** URL of the thread's entry module (pipeline-thread.ts or .js). */
  entry: string;
  /** URL of the module exporting createPipeline. */
  pipelineModule: string;
  config: Config;
  /** Int32 flag: 1 asks the running job to stop at its next progress report. */
  cancelFlag: SharedArrayBuffer;
  /** The worker logger's level: lines below it are not sent across at all. */
  logLevel: string;
}

export type ToThread = { type: 'run'; input: PipelineInput } | { type: 'cancel' } | { type: 'dispose' };

export type FromThread =
  | { type: 'ready' }
  | { type: 'init-error'; error: ThreadError }
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; output: PipelineOutput }
  | { type: 'error'; error: ThreadError }
  /** One JSON log line of the pipeline; the main thread logs it with the running job's context. */
  | { type: 'log'; line: string };

/** An error as it crosses the thread boundary (classes do not survive structured clone). */
export interface ThreadError {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
  stack?: string;
}

export function toThreadError(err: unknown): ThreadError {
  const e = err as { code?: unknown; message?: unknown; details?: unknown; stack?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const stack = typeof e?.stack === 'string' ? { stack: e.stack } : {};
  // Duck-typed rather than instanceof: a pipeline module may load its own copy of errors.ts.
  if (e && isErrorCode(e.code)) {
    const details = e.details && typeof e.details === 'object' ? (e.details as ErrorDetails) : {};
    return { code: e.code, message, details, ...stack };
  }
  return { code: 'internal.error', message, details: {}, ...stack };
}
