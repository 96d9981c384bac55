import { basename, dirname } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Config } from '../../config.js';
import { getConfig } from '../../config.js';
import { PortraitError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { ModelId } from './cards.js';
import { type ModelConfig, ModelRegistry } from './registry.js';

export type ExecutionProvider = Config['PORTRAIT_EXECUTION_PROVIDER'];
export type SessionConfig = ModelConfig & Pick<Config, 'PORTRAIT_EXECUTION_PROVIDER' | 'PORTRAIT_ORT_THREADS'>;

/** Providers to try, best first; each attempt lists its own fallbacks so ORT can place unsupported nodes. */
const ATTEMPTS: Record<ExecutionProvider, ExecutionProvider[][]> = {
  tensorrt: [['tensorrt', 'cuda', 'cpu'], ['cuda', 'cpu'], ['cpu']],
  cuda: [['cuda', 'cpu'], ['cpu']],
  cpu: [['cpu']],
};

/**
 * Session options for small shared CPUs (inference.md): `threads` intra-op threads, one inter-op thread,
 * sequential execution and no spinning, so ORT leaves sharp and the event loops room to run.
 */
export function sessionOptions(
  providers: readonly ExecutionProvider[],
  threads: number,
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers.map((p) => (p === 'cpu' ? 'cpu' : { name: p, deviceId: 0 })),
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ORT's own warnings (unused initializers in the face models) are noise on a user's terminal; errors remain.
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The provider that actually runs it. */
  provider: ExecutionProvider;
}

/**
 * Opens an ONNX file on the preferred provider, falling back towards CPU with one warning when a GPU provider
 * cannot start (a CPU-only onnxruntime-node build, no CUDA libraries). A file the CPU provider cannot load
 * either is 'model.invalid'.
 */
export async function openSession(
  path: string,
  settings: { provider: ExecutionProvider; threads: number; logger?: Logger },
): Promise<OpenedSession> {
  const logger = settings.logger ?? silentLogger;
  const attempts = ATTEMPTS[settings.provider];
  let lastError: unknown;
  for (const providers of attempts) {
    try {
      const session = await ort.InferenceSession.create(path, sessionOptions(providers, settings.threads));
      const provider = providers[0] ?? 'cpu';
      // The folder too: every file of a diffusion pack is called model.onnx.
      const model = `${basename(dirname(path))}/${basename(path)}`;
      // One line per model saying which provider runs it and why: the configured one, or the fallback and the
      // reason the preferred one could not start.
      if (provider !== settings.provider) {
        logger.warn(
          { model, wanted: settings.provider, using: provider, reason: errorText(lastError) },
          `execution provider ${settings.provider} is unavailable for ${model}; running on ${provider}`,
        );
      } else {
        logger.info(
          { model, provider },
          `execution provider ${provider} runs ${model} (PORTRAIT_EXECUTION_PROVIDER=${settings.provider})`,
        );
      }
      return { session, provider };
    } catch (err) {
      lastError = err;
    }
  }
  throw new PortraitError(
    'model.invalid',
    `onnxruntime cannot load ${path}: ${errorText(lastError)}`,
    {},
    {
      cause: lastError,
    },
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One registry and one set of ORT sessions per process (per worker thread): sessions are created on first use
 * and reused, because creating and releasing them repeatedly leaks memory (inference.md).
 */
class ModelRuntime {
  readonly registry: ModelRegistry;
  readonly #config: SessionConfig;
  readonly #logger: Logger;
  readonly #sessions = new Map<string, Promise<OpenedSession>>();

  constructor(config: SessionConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.registry = new ModelRegistry(config, logger);
  }

  session(key: string, path: () => Promise<string>): Promise<OpenedSession> {
    let opened = this.#sessions.get(key);
    if (!opened) {
      opened = path().then((p) =>
        openSession(p, {
          provider: this.#config.PORTRAIT_EXECUTION_PROVIDER,
          threads: this.#config.PORTRAIT_ORT_THREADS,
          logger: this.#logger,
        }),
      );
      // A failed open is not cached: the next call tries again (a download may succeed later).
      opened.catch(() => this.#sessions.delete(key));
      this.#sessions.set(key, opened);
    }
    return opened;
  }

  async dispose(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(all.map((p) => p.then((o) => o.session.release()).catch(() => {})));
  }
}

let runtime: ModelRuntime | undefined;

function current(): ModelRuntime {
  runtime ??= new ModelRuntime(getConfig(), silentLogger);
  return runtime;
}

/**
 * Sets the configuration and logger models are resolved and opened with (the worker calls this once at start;
 * without it the process config is used). Sessions opened under a previous configuration are released.
 */
export async function configureModels(config: SessionConfig, logger: Logger = silentLogger): Promise<void> {
  const previous = runtime;
  runtime = new ModelRuntime(config, logger);
  await previous?.dispose();
}

/** The process's model registry (for `portrait models ...` and callers that need a file path). */
export function modelRegistry(): ModelRegistry {
  return current().registry;
}

/** The shared ORT session for a registered model, resolving (and if needed downloading) its file first. */
export async function getSession(id: ModelId): Promise<ort.InferenceSession> {
  const rt = current();
  return (await rt.session(`model:${id}`, () => rt.registry.resolve(id))).session;
}

/**
 * The shared ORT session for an ONNX file outside the registry (an operator's identity model, a diffusion pack
 * part), with the same options and provider fallback. No checksum: the operator chose the file.
 */
export async function getSessionForFile(path: string): Promise<ort.InferenceSession> {
  return (await current().session(`file:${path}`, async () => path)).session;
}

/** Releases every cached session (worker shutdown, tests). Later calls open fresh ones. */
export async function disposeSessions(): Promise<void> {
  await runtime?.dispose();
}
