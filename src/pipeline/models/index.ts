/**
 * Model registry and ORT session cache. `getSession('yunet')` is what pipeline stages call; the CLI's
 * `portrait models list|fetch|verify` calls listModels / fetchModels / verifyModels and prints what they return.
 */
import type { ModelId } from './cards.js';
import type { FetchResult, ModelStatus, ResolveOptions, VerifyResult } from './registry.js';
import { modelRegistry } from './sessions.js';

export {
  isModelId,
  MODEL_CARDS,
  MODEL_IDS,
  type ModelCard,
  type ModelId,
  modelCard,
  type TensorSpec,
} from './cards.js';
export { type DownloadOptions, type DownloadProgress, sha256File } from './download.js';
export {
  type FetchResult,
  type ModelConfig,
  type ModelLocation,
  ModelRegistry,
  type ModelStatus,
  type ResolveOptions,
  type VerifyResult,
} from './registry.js';
export {
  configureModels,
  disposeSessions,
  type ExecutionProvider,
  getSession,
  getSessionForFile,
  type OpenedSession,
  openSession,
  type SessionConfig,
} from './sessions.js';

/** `portrait models list`. */
export function listModels(): ModelStatus[] {
  return modelRegistry().list();
}

/** `portrait models fetch [id ...]`: default every required model; shows a progress bar on a terminal. */
export function fetchModels(ids?: readonly ModelId[], options?: ResolveOptions): Promise<FetchResult[]> {
  return modelRegistry().fetch(ids, options);
}

/** `portrait models verify`: sha256 of every present file against its card. */
export function verifyModels(): Promise<VerifyResult[]> {
  return modelRegistry().verify();
}
