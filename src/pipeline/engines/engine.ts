import type { EngineName, OutputFormat } from '../../core/request.js';
import type { ErrorDetails } from '../../errors.js';
import type { Face, ProgressFn, RgbImage } from '../types.js';

/** One selfie after ingest and detection: the pixels, every face found, and the main face chosen. */
export interface PreparedSelfie {
  image: RgbImage;
  faces: Face[];
  mainFace: Face;
  /** 1-based position in the request, for error sentences ("selfie 2"). */
  index: number;
}

export interface EngineRequest {
  selfies: PreparedSelfie[];
  pose: string;
  lighting: string;
  style: string;
  seed: number;
  variations: number;
  outputSize: number;
  outputFormat: OutputFormat;
  debug: boolean;
  signal?: AbortSignal;
}

export interface EngineResult {
  /** Raw RGB images, one per variation, outputSize x outputSize. The pipeline encodes them. */
  images: RgbImage[];
  report: ErrorDetails;
  /** Milliseconds per stage the engine ran (mesh, warp, relight, stitch, generate). */
  timings: Record<string, number>;
  /** Named intermediate images for the debug sheet, when `debug` was asked. */
  debugImages?: Array<{ label: string; image: RgbImage }>;
}

/**
 * A portrait generator. Engines are created once per worker (they hold ORT sessions) and disposed on shutdown.
 * `crop` is the walking skeleton's, `compositor` the CPU default (warp + relight), `diffusion` the IC-Portrait UNet.
 */
export interface Engine {
  readonly name: EngineName;
  generate(request: EngineRequest, onProgress: ProgressFn): Promise<EngineResult>;
  dispose(): Promise<void>;
}
