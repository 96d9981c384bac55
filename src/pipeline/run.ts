import type { Config } from '../config.js';
import { ENGINE_NAMES, type EngineName } from '../core/request.js';
import { PortraitError } from '../errors.js';
import type { Logger } from '../log.js';
import { createLogger } from '../log.js';
import { renderDebugSheet } from './debug-sheet.js';
import type { Engine, PreparedSelfie } from './engines/engine.js';
import { createEngine, isEngineRegistered } from './engines/index.js';
import { findMainFace } from './face/detect.js';
import { decodeImage, encodeImage, installLoaderAllowlist } from './image.js';
import { configureModels, disposeSessions, getSession } from './models/index.js';
import { type PipelineInput, type PipelineOutput, type ProgressFn, STAGES, type Stage } from './types.js';

/**
 * The portrait pipeline as one worker runs it: ingest every selfie, detect faces and pick the main one, hand
 * them to an engine, encode what it returns. Created once per worker thread (it owns the ORT sessions and the
 * engines), used for many jobs, disposed on shutdown. Knows nothing about queues: bytes in, bytes out.
 */
export interface Pipeline {
  /** The engine used when a job names none or names one this build does not know. */
  readonly defaultEngine: EngineName;
  run(input: PipelineInput, onProgress?: ProgressFn, signal?: AbortSignal): Promise<PipelineOutput>;
  dispose(): Promise<void>;
}

export interface PipelineDeps {
  /** Where warnings go (provider and engine fallbacks, a failed debug sheet). @defaultValue a logger from config */
  logger?: Logger;
}

const STAGE_SET: ReadonlySet<string> = new Set(STAGES);
const isStage = (s: string): s is Stage => STAGE_SET.has(s);

/**
 * Builds the pipeline for a worker: points the model registry at the config, opens the detector (so a missing or
 * damaged model fails the worker's start, not the first job) and creates the default engine. When the configured
 * default engine cannot run (not part of this build, or diffusion without a pack), the compositor is the default
 * instead, with one warning.
 */
export async function createPipeline(config: Config, deps: PipelineDeps = {}): Promise<Pipeline> {
  const logger = deps.logger ?? createLogger(config, 'pipeline');
  installLoaderAllowlist();
  await configureModels(config, logger);
  await getSession('yunet');

  const defaultEngine = chooseDefaultEngine(config, logger);
  const engines = new Map<EngineName, Promise<Engine>>();
  const engineFor = (name: EngineName): Promise<Engine> => {
    let engine = engines.get(name);
    if (!engine) {
      engine = createEngine(name, config, { logger });
      // A refused or failed creation is not remembered: configuration can be fixed without a restart of jobs.
      engine.catch(() => engines.delete(name));
      engines.set(name, engine);
    }
    return engine;
  };
  await engineFor(defaultEngine);

  const limits = { maxBytes: config.PORTRAIT_MAX_INPUT_BYTES, maxPixels: config.PORTRAIT_MAX_INPUT_PIXELS };

  async function run(
    input: PipelineInput,
    onProgress: ProgressFn = () => {},
    signal?: AbortSignal,
  ): Promise<PipelineOutput> {
    if (input.selfies.length === 0) throw new PortraitError('request.no_selfie', 'no selfie in the request');
    const timings: Partial<Record<Stage, number>> = {};
    const time = async <T>(stage: Stage, work: () => Promise<T>): Promise<T> => {
      signal?.throwIfAborted();
      onProgress({ stage });
      const started = performance.now();
      try {
        return await work();
      } finally {
        timings[stage] = (timings[stage] ?? 0) + (performance.now() - started);
      }
    };

    // Unknown names (an older producer, a typo in a hand-made job) use the default; known but unconfigured
    // engines are the requester's to change, so they are refused with a sentence.
    const known = (ENGINE_NAMES as readonly string[]).includes(input.engine);
    const requested = input.engineDefaulted || !known ? defaultEngine : input.engine;
    if (!known) logger.warn({ engine: input.engine }, 'unknown engine requested; using default');
    const enginePromise = engineFor(requested);
    enginePromise.catch(() => {}); // awaited below; avoid an unhandled rejection while ingest runs

    // Selfies one at a time: each decode can take hundreds of MB at the pixel cap.
    const images = await time('ingest', async () => {
      const out = [];
      for (const [i, bytes] of input.selfies.entries()) {
        out.push((await decodeImage(bytes, { ...limits, selfie: i + 1 })).image);
        signal?.throwIfAborted();
      }
      return out;
    });
    const selfies = await time('detect', async () => {
      const out: PreparedSelfie[] = [];
      for (const [i, image] of images.entries()) {
        const { faces, mainFace } = await findMainFace(image, i + 1);
        out.push({ image, faces, mainFace, index: i + 1 });
      }
      return out;
    });

    const engine = await enginePromise;
    signal?.throwIfAborted();
    const generated = await engine.generate(
      {
        selfies,
        pose: input.pose,
        lighting: input.lighting,
        style: input.style,
        seed: input.seed,
        variations: input.variations,
        outputSize: input.outputSize,
        outputFormat: input.outputFormat,
        debug: input.debug,
        ...(signal ? { signal } : {}),
      },
      onProgress,
    );
    for (const [stage, ms] of Object.entries(generated.timings)) {
      if (isStage(stage)) timings[stage] = (timings[stage] ?? 0) + ms;
    }
    for (const img of generated.images) {
      if (img.width !== input.outputSize || img.height !== input.outputSize) {
        throw new Error(`engine ${engine.name} returned ${img.width}x${img.height}, expected ${input.outputSize}`);
      }
    }
    const encoded = await time('encode', () =>
      Promise.all(generated.images.map((img) => encodeImage(img, input.outputFormat))),
    );

    const output: PipelineOutput = {
      images: encoded,
      format: input.outputFormat,
      width: input.outputSize,
      height: input.outputSize,
      engine: engine.name,
      facesPerSelfie: selfies.map((s) => s.faces.length),
      timings,
      report: { ...generated.report, engine: engine.name },
    };
    if (input.debug && generated.debugImages && generated.debugImages.length > 0) {
      try {
        output.debugSheet = await renderDebugSheet(generated.debugImages);
      } catch (err) {
        // The sheet is a diagnostic: a failure to draw it must not cost the user their portrait.
        logger.warn({ err }, 'could not render the debug sheet');
      }
    }
    return output;
  }

  return {
    defaultEngine,
    run,
    async dispose() {
      const all = [...engines.values()];
      engines.clear();
      await Promise.all(all.map((e) => e.then((engine) => engine.dispose()).catch(() => {})));
      await disposeSessions();
    },
  };
}

/**
 * The engine jobs that name none get. The operator's PORTRAIT_ENGINE, unless it cannot run here: then the
 * compositor (CPU, no extra weights), said once at start so an operator sees why portraits are not diffused.
 */
function chooseDefaultEngine(config: Config, logger: Logger): EngineName {
  const wanted = config.PORTRAIT_ENGINE;
  if (!isEngineRegistered(wanted)) {
    logger.warn({ engine: wanted }, `engine ${wanted} is not part of this build; using the compositor`);
    return 'compositor';
  }
  if (wanted === 'diffusion' && !config.PORTRAIT_DIFFUSION_PACK) {
    logger.warn(
      { engine: wanted, fallback: 'compositor' },
      'PORTRAIT_ENGINE is diffusion but PORTRAIT_DIFFUSION_PACK is not set: using the compositor; ' +
        'jobs that ask for diffusion by name are refused until a pack is configured (see models/README.md)',
    );
    return 'compositor';
  }
  return wanted;
}
