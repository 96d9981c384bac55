import type { Config } from '../../config.js';
import type { EngineName } from '../../core/request.js';
import { PortraitError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { compositorConditions, createCompositorEngine } from './compositor.js';
import { createCropEngine } from './crop.js';
import { createDiffusionEngine } from './diffusion.js';
import type { Engine } from './engine.js';

export type { Engine, EngineRequest, EngineResult, PreparedSelfie } from './engine.js';

/** What engine factories may use besides the config. */
export interface EngineDeps {
  logger: Logger;
}

/**
 * Builds one engine. A factory that cannot run under this config (the diffusion engine without
 * PORTRAIT_DIFFUSION_PACK) throws PortraitError 'request.engine_unavailable' with `{ engine }`.
 */
export type EngineFactory = (config: Config, deps: EngineDeps) => Engine | Promise<Engine>;

/**
 * The engines this build knows, one line each. Engines are created lazily by the pipeline the first time a job
 * asks for them, then kept for the worker's life (they hold ORT sessions).
 */
const FACTORIES: Partial<Record<EngineName, EngineFactory>> = {
  compositor: (config, deps) => createCompositorEngine(config, deps),
  crop: () => createCropEngine(),
  diffusion: (config, deps) => {
    if (!config.PORTRAIT_DIFFUSION_PACK) {
      throw new PortraitError('request.engine_unavailable', 'PORTRAIT_DIFFUSION_PACK is not set', {
        engine: 'diffusion',
      });
    }
    return createDiffusionEngine({
      packDir: config.PORTRAIT_DIFFUSION_PACK,
      provider: config.PORTRAIT_EXECUTION_PROVIDER,
      threads: config.PORTRAIT_ORT_THREADS,
      logger: deps.logger,
      // The IC-Portrait conditions: the reference warped to the target pose and relit, stitched in context.
      conditions: compositorConditions(),
      previewIntervalMs: config.PORTRAIT_PREVIEW_INTERVAL_MS,
    });
  },
};

/** Engine names with a factory in this build (a factory may still refuse for lack of config). */
export function registeredEngines(): EngineName[] {
  return Object.keys(FACTORIES) as EngineName[];
}

export function isEngineRegistered(name: string): boolean {
  return Object.hasOwn(FACTORIES, name);
}

/** Creates the named engine, or throws 'request.engine_unavailable' when this build or config has none. */
export async function createEngine(name: EngineName, config: Config, deps: Partial<EngineDeps> = {}): Promise<Engine> {
  const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name] : undefined;
  if (!factory) {
    throw new PortraitError('request.engine_unavailable', `the ${name} engine is not part of this build`, {
      engine: name,
    });
  }
  return factory(config, { logger: deps.logger ?? silentLogger });
}
