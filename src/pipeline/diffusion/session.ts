/**
 * ONNX Runtime sessions for a diffusion pack: execution providers in order of preference with a clean fallback
 * to CPU (a CPU-only onnxruntime-node build throws when asked for CUDA), thread settings for small CPUs, and the
 * input/output metadata every feed is built from.
 */
import type * as ort from 'onnxruntime-node';
import type { Logger } from '../../log.js';
import { openSession as openModelSession } from '../models/sessions.js';

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

export interface SessionSettings {
  /** The operator's preferred provider (PORTRAIT_EXECUTION_PROVIDER). */
  provider: ExecutionProvider;
  /** Intra-op threads (PORTRAIT_ORT_THREADS). */
  threads: number;
  logger?: Logger;
}

/** What the pack needs from a session: onnxruntime-node's InferenceSession satisfies it; tests can wrap one. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.OnnxValue>>;
  release(): Promise<void>;
}

export interface OpenedSession {
  session: ModelSession;
  /** The provider that actually runs it. */
  provider: ExecutionProvider;
}

/**
 * Opens `file` on the preferred provider with the project's session settings and CPU fallback
 * (src/pipeline/models/sessions.ts logs which provider runs and why). Pack sessions are not cached there:
 * the diffusion engine owns them and releases them on dispose.
 */
export async function openSession(file: string, settings: SessionSettings): Promise<OpenedSession> {
  const opened = await openModelSession(file, {
    provider: settings.provider,
    threads: settings.threads,
    ...(settings.logger ? { logger: settings.logger } : {}),
  });
  return opened;
}
