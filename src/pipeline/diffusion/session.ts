/**
 * ONNX Runtime sessions for a diffusion pack: execution providers in order of preference with a clean fallback
 * to CPU (a CPU-only onnxruntime-node build throws when asked for CUDA), thread settings for small CPUs, and the
 * input/output metadata every feed is built from.
 *
 * When src/pipeline/models/ grows a shared session cache, `openSession` is the one function to route through it.
 */
import * as ort from 'onnxruntime-node';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';

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

/** Providers to try, best first; each attempt lists its own fallbacks so ORT can place unsupported nodes. */
const ATTEMPTS: Record<ExecutionProvider, ExecutionProvider[][]> = {
  tensorrt: [['tensorrt', 'cuda', 'cpu'], ['cuda', 'cpu'], ['cpu']],
  cuda: [['cuda', 'cpu'], ['cpu']],
  cpu: [['cpu']],
};

function sessionOptions(providers: ExecutionProvider[], threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers.map((p) => (p === 'cpu' ? 'cpu' : { name: p, deviceId: 0 })),
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Spinning threads would starve sharp and the event loop on a 2-core machine.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/**
 * Opens `file` on the preferred provider, falling back towards CPU. Logs one line saying which provider runs
 * and, after a fallback, why. Errors from the CPU attempt (a corrupt or unsupported model) propagate.
 */
export async function openSession(file: string, settings: SessionSettings): Promise<OpenedSession> {
  const logger = settings.logger ?? silentLogger;
  let lastReason = '';
  const attempts = ATTEMPTS[settings.provider];
  for (const [i, providers] of attempts.entries()) {
    try {
      const session = await ort.InferenceSession.create(file, sessionOptions(providers, settings.threads));
      const provider = providers[0]!;
      if (provider === settings.provider) {
        logger.info({ model: file, provider }, `ONNX Runtime runs ${provider}`);
      } else {
        logger.warn(
          { model: file, provider, wanted: settings.provider, reason: lastReason },
          `ONNX Runtime runs ${provider}: ${settings.provider} is unavailable (${lastReason})`,
        );
      }
      return { session, provider };
    } catch (err) {
      if (i === attempts.length - 1) throw err;
      lastReason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
    }
  }
  throw new Error('unreachable: the CPU attempt either returns or throws');
}
