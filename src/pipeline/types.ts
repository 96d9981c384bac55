import type { EngineName, OutputFormat } from '../core/request.js';
import type { ErrorDetails } from '../errors.js';

/** Decoded pixels, interleaved RGB (3 channels) unless `channels` says otherwise. Row-major, no padding. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
}

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A detected face in image pixels. Landmarks are the subject's right eye, left eye, nose, right and left mouth corner. */
export interface Face {
  box: Box;
  score: number;
  landmarks: [Point, Point, Point, Point, Point];
}

/** The stages a job reports progress for, in order. Adapters show them to the user. */
export const STAGES = [
  'download',
  'ingest',
  'detect',
  'mesh',
  'warp',
  'relight',
  'stitch',
  'generate',
  'encode',
] as const;
export type Stage = (typeof STAGES)[number];

export interface Progress {
  stage: Stage;
  /** Steps within the stage (diffusion steps), when it has them. */
  step?: number;
  steps?: number;
  /**
   * A small preview of the image forming (diffusion steps; the engine throttles how often it makes one). Raw RGB
   * at latent resolution: the worker encodes and stores it, the chat adapters show it in their status message.
   */
  preview?: RgbImage;
}
export type ProgressFn = (p: Progress) => void;

/** What the worker hands the pipeline (bytes already fetched from the blob store). */
export interface PipelineInput {
  selfies: Uint8Array[];
  pose: string;
  lighting: string;
  style: string;
  seed: number;
  variations: number;
  engine: EngineName;
  /**
   * The request named no engine, so `engine` is only the operator's default: the pipeline may use its fallback
   * instead (the compositor when the default is diffusion and no pack is configured). A named engine never falls back.
   */
  engineDefaulted?: boolean;
  outputSize: number;
  outputFormat: OutputFormat;
  /** When set, the pipeline writes a debug contact sheet into the result (`debugSheet`). */
  debug: boolean;
}

export interface PipelineOutput {
  /** Encoded images (outputFormat), one per variation. */
  images: Uint8Array[];
  format: OutputFormat;
  width: number;
  height: number;
  engine: EngineName;
  /** Faces found in each selfie, in order. */
  facesPerSelfie: number[];
  /** Milliseconds per stage. */
  timings: Partial<Record<Stage, number>>;
  /** Facts worth showing: estimated pose, chosen reference, identity score ... */
  report: ErrorDetails;
  /** PNG contact sheet explaining the result, when `debug` was asked. */
  debugSheet?: Uint8Array;
}
