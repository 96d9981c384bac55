/**
 * Loads and validates an ONNX diffusion pack: the diffusers/Optimum Stable Diffusion layout, optionally made an
 * IC-Portrait pack by a `portrait-pack.json`. Everything is checked at load, so a wrong pack is refused when the
 * worker starts (with the file and tensor at fault), never in the middle of a job:
 *   model.missing  a required file is absent          details: file
 *   model.invalid  a file cannot be used as it is     details: file, tensor or field, expected, got
 *
 * The UNet variant comes from its `sample` input channels; where the exporter left that dimension symbolic,
 * from unet/config.json `in_channels`, else from model_index.json's pipeline class.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { PortraitError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { type CanvasLayout, type ChannelGroup, type PortraitPackManifest, parseManifest } from './manifest.js';
import {
  type PredictionType,
  parseSchedulerConfig,
  type SchedulerConfig,
  type SchedulerName,
  schedulerForClass,
} from './scheduler-config.js';
import { type ExecutionProvider, type ModelSession, openSession, type SessionSettings } from './session.js';
import { FLOAT_TYPES, fixedDim, INT_TYPES, type TensorSpec } from './tensors.js';
import { ClipTokenizer, type TokenizerConfig } from './tokenizer.js';

/** SD VAEs downsample by 8. */
export const LATENT_FACTOR = 8;

export type UnetVariant = 'text-to-image' | 'inpainting' | 'instruct-pix2pix' | 'ic-portrait';

export const PACK_FILES = {
  modelIndex: 'model_index.json',
  scheduler: 'scheduler/scheduler_config.json',
  vocab: 'tokenizer/vocab.json',
  merges: 'tokenizer/merges.txt',
  tokenizerConfig: 'tokenizer/tokenizer_config.json',
  specialTokens: 'tokenizer/special_tokens_map.json',
  textEncoder: 'text_encoder/model.onnx',
  unet: 'unet/model.onnx',
  unetConfig: 'unet/config.json',
  vaeEncoder: 'vae_encoder/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
  vaeConfig: 'vae_decoder/config.json',
  manifest: 'portrait-pack.json',
} as const;

export interface PackIo {
  textEncoder: { inputIds: TensorSpec; hidden: TensorSpec };
  unet: { sample: TensorSpec; timestep: TensorSpec; hidden: TensorSpec; output: TensorSpec };
  vaeEncoder: { sample: TensorSpec; output: TensorSpec; parameters: boolean };
  vaeDecoder: { latent: TensorSpec; output: TensorSpec };
}

export interface PackDefaults {
  steps: number;
  guidance: number;
  /** img2img / in-context strength: 1 starts from pure noise. */
  strength: number;
  /** Prompt template with {style}, {pose}, {lighting}. */
  prompt: string;
  negativePrompt: string;
}

export interface PackInfo {
  dir: string;
  format: 'diffusers' | 'ic-portrait';
  variant: UnetVariant;
  /** Where the variant came from: the UNet's metadata, unet/config.json, model_index.json or portrait-pack.json. */
  variantSource: 'onnx' | 'unet-config' | 'model-index';
  /** UNet `sample` channels: the latent plus every extra group. */
  unetChannels: number;
  latentChannels: number;
  /** The UNet's extra input channels after the latent, in order. */
  extraChannels: ChannelGroup[];
  layout: CanvasLayout;
  /** Pixels per side of one view (the canvas is resolution x 2*resolution side by side). */
  resolution: number;
  latentScale: number;
  predictionType: PredictionType;
  scheduler: SchedulerName;
  karras: boolean;
  schedulerConfig: SchedulerConfig;
  defaults: PackDefaults;
  io: PackIo;
}

export interface DiffusionPack {
  readonly info: PackInfo;
  readonly tokenizer: ClipTokenizer;
  readonly sessions: {
    textEncoder: ModelSession;
    unet: ModelSession;
    vaeEncoder: ModelSession;
    vaeDecoder: ModelSession;
  };
  /** The provider each session runs on. */
  readonly providers: Readonly<Record<'textEncoder' | 'unet' | 'vaeEncoder' | 'vaeDecoder', ExecutionProvider>>;
  dispose(): Promise<void>;
}

export interface LoadPackOptions extends SessionSettings {
  /** Overrides the pack's resolution (pixels per view, a multiple of 64). */
  resolution?: number;
  /** Opens a session (tests wrap the real one to watch feeds); defaults to onnxruntime-node. */
  open?: typeof openSession;
}

const missing = (dir: string, file: string): PortraitError =>
  new PortraitError('model.missing', `diffusion pack ${dir}: ${file} is missing`, { file });

function invalid(file: string, where: { tensor?: string; field?: string }, message: string, extra = {}): PortraitError {
  const at = where.tensor ? ` input/output "${where.tensor}"` : where.field ? ` field "${where.field}"` : '';
  return new PortraitError('model.invalid', `${file}${at}: ${message}`, {
    file,
    ...(where.tensor ? { tensor: where.tensor } : {}),
    ...(where.field ? { field: where.field } : {}),
    ...extra,
  });
}

function readJson(dir: string, file: string, required: true): unknown;
function readJson(dir: string, file: string, required: false): unknown | undefined;
function readJson(dir: string, file: string, required: boolean): unknown {
  const path = join(dir, file);
  if (!existsSync(path)) {
    if (required) throw missing(dir, file);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalid(file, {}, `not valid JSON (${(err as Error).message})`);
  }
}

const asRecord = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function tensorSpecs(metadata: readonly ort.InferenceSession.ValueMetadata[]): Map<string, TensorSpec> {
  const out = new Map<string, TensorSpec>();
  for (const m of metadata) if (m.isTensor) out.set(m.name, { name: m.name, type: m.type, shape: m.shape });
  return out;
}

/** Checks a session's declared inputs and outputs and returns the specs the engine feeds. */
class IoChecker {
  readonly inputs: Map<string, TensorSpec>;
  readonly outputs: Map<string, TensorSpec>;
  constructor(
    readonly file: string,
    session: ModelSession,
  ) {
    this.inputs = tensorSpecs(session.inputMetadata);
    this.outputs = tensorSpecs(session.outputMetadata);
    for (const name of session.inputNames) {
      if (!this.inputs.has(name)) throw invalid(file, { tensor: name }, 'input is not a tensor');
    }
  }

  input(name: string, types: readonly ort.Tensor.Type[], ranks: readonly number[]): TensorSpec {
    const spec = this.inputs.get(name);
    if (!spec) {
      throw invalid(
        this.file,
        { tensor: name },
        `required input is missing (inputs: ${[...this.inputs.keys()].join(', ')})`,
      );
    }
    return this.check(spec, types, ranks);
  }

  output(names: readonly string[], types: readonly ort.Tensor.Type[], ranks: readonly number[]): TensorSpec {
    const spec = names.map((n) => this.outputs.get(n)).find((s) => s !== undefined);
    if (!spec) {
      throw invalid(
        this.file,
        { tensor: names.join(' or ') },
        `required output is missing (outputs: ${[...this.outputs.keys()].join(', ')})`,
      );
    }
    return this.check(spec, types, ranks);
  }

  /** Every input must be one we feed: ORT requires all of them. */
  onlyInputs(known: readonly string[]): void {
    for (const name of this.inputs.keys()) {
      if (!known.includes(name)) {
        throw invalid(this.file, { tensor: name }, `unsupported input (this engine feeds ${known.join(', ')})`);
      }
    }
  }

  /** A fixed dimension must equal `expected`; symbolic ones pass. */
  dim(spec: TensorSpec, axis: number, expected: number, what: string): void {
    const d = fixedDim(spec, axis);
    if (d !== undefined && d !== expected) {
      throw invalid(this.file, { tensor: spec.name }, `${what} is ${d}, expected ${expected}`, { expected, got: d });
    }
  }

  private check(spec: TensorSpec, types: readonly ort.Tensor.Type[], ranks: readonly number[]): TensorSpec {
    if (!types.includes(spec.type)) {
      throw invalid(this.file, { tensor: spec.name }, `type ${spec.type}, expected ${types.join(' or ')}`, {
        expected: types.join(' or '),
        got: spec.type,
      });
    }
    // An empty shape from ORT is a scalar or an undeclared shape; accept it wherever a scalar is allowed.
    if (!ranks.includes(spec.shape.length) && !(spec.shape.length === 0 && ranks.includes(0))) {
      throw invalid(this.file, { tensor: spec.name }, `rank ${spec.shape.length}, expected ${ranks.join(' or ')}`, {
        expected: ranks.join(' or '),
        got: spec.shape.length,
      });
    }
    return spec;
  }
}

const CLASS_CHANNELS: Readonly<Record<string, number>> = {
  OnnxStableDiffusionInpaintPipeline: 9,
  OnnxStableDiffusionInpaintPipelineLegacy: 4,
  ORTStableDiffusionInpaintPipeline: 9,
  StableDiffusionInpaintPipeline: 9,
  OnnxStableDiffusionInstructPix2PixPipeline: 8,
  StableDiffusionInstructPix2PixPipeline: 8,
};

const VARIANT_EXTRAS: Readonly<Record<number, { variant: UnetVariant; extra: ChannelGroup[]; layout: CanvasLayout }>> =
  {
    4: { variant: 'text-to-image', extra: [], layout: 'single' },
    // diffusers inpainting: [noisy latent | mask | masked-image latent]; run in context on the side-by-side canvas.
    9: {
      variant: 'inpainting',
      extra: [
        { source: 'stitch_mask', channels: 1 },
        { source: 'masked_stitch_latent', channels: 4 },
      ],
      layout: 'side-by-side',
    },
    // InstructPix2Pix: [noisy latent | image latent]; the image is the warped, relit target view.
    8: { variant: 'instruct-pix2pix', extra: [{ source: 'warped_view_latent', channels: 4 }], layout: 'single' },
  };

const DEFAULT_PROMPT = 'a portrait photo of a person, {style}, {pose}, {lighting} lighting, detailed face';

/** Reads, validates and opens a pack. Throws PortraitError model.missing / model.invalid naming the culprit. */
export async function loadPack(dir: string, options: LoadPackOptions): Promise<DiffusionPack> {
  const logger: Logger = options.logger ?? silentLogger;
  if (!existsSync(dir)) throw new PortraitError('model.missing', `diffusion pack ${dir} does not exist`, { file: dir });
  const modelIndex = asRecord(readJson(dir, PACK_FILES.modelIndex, true));
  for (const f of [PACK_FILES.textEncoder, PACK_FILES.unet, PACK_FILES.vaeEncoder, PACK_FILES.vaeDecoder]) {
    if (!existsSync(join(dir, f))) throw missing(dir, f);
  }

  const schedulerJson = readJson(dir, PACK_FILES.scheduler, true);
  const scheduler = parseSchedulerConfig(schedulerJson);
  if (!scheduler.ok) throw invalid(PACK_FILES.scheduler, { field: scheduler.error.split(':')[0]! }, scheduler.error);

  const tokenizer = loadTokenizer(dir);
  const unetConfig = asRecord(readJson(dir, PACK_FILES.unetConfig, false));
  const vaeConfig = asRecord(readJson(dir, PACK_FILES.vaeConfig, false));
  const manifestJson = readJson(dir, PACK_FILES.manifest, false);
  let manifest: PortraitPackManifest | undefined;
  if (manifestJson !== undefined) {
    const parsed = parseManifest(manifestJson);
    if (!parsed.ok) throw invalid(PACK_FILES.manifest, { field: parsed.field }, parsed.error);
    manifest = parsed.manifest;
  }

  const open = options.open ?? openSession;
  const opened: Array<{ session: ModelSession; provider: ExecutionProvider }> = [];
  const openOne = async (file: string) => {
    try {
      const s = await open(join(dir, file), options);
      opened.push(s);
      return s;
    } catch (err) {
      throw invalid(file, {}, `ONNX Runtime cannot load it: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  try {
    const te = await openOne(PACK_FILES.textEncoder);
    const unet = await openOne(PACK_FILES.unet);
    const ve = await openOne(PACK_FILES.vaeEncoder);
    const vd = await openOne(PACK_FILES.vaeDecoder);
    const info = describePack(dir, {
      sessions: { textEncoder: te.session, unet: unet.session, vaeEncoder: ve.session, vaeDecoder: vd.session },
      tokenizer,
      schedulerConfig: scheduler.config,
      modelIndex,
      unetConfig,
      vaeConfig,
      manifest,
      resolution: options.resolution,
    });
    logger.info(
      {
        pack: dir,
        format: info.format,
        variant: info.variant,
        channels: info.unetChannels,
        resolution: info.resolution,
        scheduler: info.scheduler,
        provider: unet.provider,
      },
      `diffusion pack loaded: ${info.variant} UNet (${info.unetChannels} channels) on ${unet.provider}`,
    );
    const sessions = { textEncoder: te.session, unet: unet.session, vaeEncoder: ve.session, vaeDecoder: vd.session };
    return {
      info,
      tokenizer,
      sessions,
      providers: {
        textEncoder: te.provider,
        unet: unet.provider,
        vaeEncoder: ve.provider,
        vaeDecoder: vd.provider,
      },
      dispose: async () => {
        await Promise.all(Object.values(sessions).map((s) => s.release()));
      },
    };
  } catch (err) {
    await Promise.all(opened.map((o) => o.session.release().catch(() => undefined)));
    throw err;
  }
}

function loadTokenizer(dir: string): ClipTokenizer {
  const vocab = readJson(dir, PACK_FILES.vocab, true);
  const mergesPath = join(dir, PACK_FILES.merges);
  if (!existsSync(mergesPath)) throw missing(dir, PACK_FILES.merges);
  const config = {
    ...asRecord(readJson(dir, PACK_FILES.specialTokens, false)),
    ...asRecord(readJson(dir, PACK_FILES.tokenizerConfig, false)),
  } as TokenizerConfig;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw invalid(PACK_FILES.vocab, {}, 'expected an object of token -> id');
  }
  const result = ClipTokenizer.create({
    vocab: vocab as Record<string, number>,
    merges: readFileSync(mergesPath, 'utf8'),
    config,
  });
  if (!result.ok) {
    const file = result.error.startsWith('merges.txt') ? PACK_FILES.merges : PACK_FILES.vocab;
    throw invalid(file, {}, result.error);
  }
  return result.tokenizer;
}

interface DescribeInput {
  sessions: { textEncoder: ModelSession; unet: ModelSession; vaeEncoder: ModelSession; vaeDecoder: ModelSession };
  tokenizer: ClipTokenizer;
  schedulerConfig: SchedulerConfig;
  modelIndex: Record<string, unknown>;
  unetConfig: Record<string, unknown>;
  /** vae_decoder/config.json, whose `scaling_factor` (SD 1.x/2.x 0.18215) scales the latents. */
  vaeConfig?: Record<string, unknown>;
  manifest: PortraitPackManifest | undefined;
  resolution: number | undefined;
}

/** Validates every session's I/O against the layout and works out the variant, sizes and defaults. */
export function describePack(dir: string, input: DescribeInput): PackInfo {
  const { sessions, manifest } = input;
  const FLOAT = FLOAT_TYPES;
  const NUMERIC: readonly ort.Tensor.Type[] = ['int64', 'int32', 'float32', 'float16'];

  const te = new IoChecker(PACK_FILES.textEncoder, sessions.textEncoder);
  const inputIds = te.input('input_ids', INT_TYPES, [2]);
  te.onlyInputs(['input_ids']);
  te.dim(inputIds, 1, input.tokenizer.maxLength, 'sequence length');
  const teHidden = te.output(['last_hidden_state'], FLOAT, [3]);

  const vd = new IoChecker(PACK_FILES.vaeDecoder, sessions.vaeDecoder);
  const vdLatent = vd.input('latent_sample', FLOAT, [4]);
  vd.onlyInputs(['latent_sample']);
  const latentChannels = fixedDim(vdLatent, 1) ?? 4;
  const vdOut = vd.output(['sample'], FLOAT, [4]);
  vd.dim(vdOut, 1, 3, 'output channels');

  const ve = new IoChecker(PACK_FILES.vaeEncoder, sessions.vaeEncoder);
  const veSample = ve.input('sample', FLOAT, [4]);
  ve.onlyInputs(['sample']);
  ve.dim(veSample, 1, 3, 'image channels');
  const veOut = ve.output(['latent_sample', 'latent_parameters'], FLOAT, [4]);
  const parameters = veOut.name === 'latent_parameters';
  ve.dim(veOut, 1, parameters ? 2 * latentChannels : latentChannels, 'latent channels');

  const un = new IoChecker(PACK_FILES.unet, sessions.unet);
  const sample = un.input('sample', FLOAT, [4]);
  const timestep = un.input('timestep', NUMERIC, [0, 1]);
  const unHidden = un.input('encoder_hidden_states', FLOAT, [3]);
  un.onlyInputs(['sample', 'timestep', 'encoder_hidden_states']);
  const unOut = un.output(['out_sample'], FLOAT, [4]);
  un.dim(unOut, 1, latentChannels, 'output channels');
  un.dim(unHidden, 1, input.tokenizer.maxLength, 'sequence length');
  const hidden = fixedDim(teHidden, 2);
  if (hidden !== undefined) un.dim(unHidden, 2, hidden, 'text embedding size (text_encoder last_hidden_state)');
  const crossDim = input.unetConfig['cross_attention_dim'];
  if (typeof crossDim === 'number') un.dim(unHidden, 2, crossDim, 'text embedding size (unet/config.json)');

  // The variant: the ONNX metadata first, then unet/config.json, then the pipeline class.
  let channels = fixedDim(sample, 1);
  let variantSource: PackInfo['variantSource'] = 'onnx';
  const configured = input.unetConfig['in_channels'];
  if (channels === undefined && typeof configured === 'number') {
    channels = configured;
    variantSource = 'unet-config';
  } else if (channels !== undefined && typeof configured === 'number' && configured !== channels) {
    throw invalid(
      PACK_FILES.unetConfig,
      { field: 'in_channels' },
      `says ${configured}, unet/model.onnx has ${channels}`,
    );
  }
  if (channels === undefined) {
    const cls = String(input.modelIndex['_class_name'] ?? '');
    channels = CLASS_CHANNELS[cls] ?? latentChannels;
    variantSource = 'model-index';
  }

  let variant: UnetVariant;
  let extraChannels: ChannelGroup[];
  let layout: CanvasLayout;
  if (manifest) {
    const declared = latentChannels + manifest.extraChannels.reduce((n, g) => n + g.channels, 0);
    if (declared !== channels) {
      throw invalid(
        PACK_FILES.unet,
        { tensor: 'sample' },
        `has ${channels} channels but portrait-pack.json declares ${declared} (${latentChannels} latent + extra)`,
        { expected: declared, got: channels },
      );
    }
    variant = 'ic-portrait';
    extraChannels = manifest.extraChannels;
    layout = manifest.layout;
  } else {
    const known = VARIANT_EXTRAS[channels];
    if (!known) {
      throw invalid(
        PACK_FILES.unet,
        { tensor: 'sample' },
        `has ${channels} input channels: 4, 8 or 9 run as they are; declare other layouts in portrait-pack.json`,
        { got: channels },
      );
    }
    ({ variant, extra: extraChannels, layout } = known);
  }

  const sampleSize = input.unetConfig['sample_size'];
  const resolution =
    input.resolution ??
    manifest?.resolution ??
    (typeof sampleSize === 'number' ? sampleSize * LATENT_FACTOR : undefined) ??
    (fixedDim(sample, 2) ?? 64) * LATENT_FACTOR;
  if (resolution % 64 !== 0 || resolution < 64) {
    throw invalid(
      manifest ? PACK_FILES.manifest : PACK_FILES.unetConfig,
      { field: 'resolution' },
      `${resolution} is not a multiple of 64`,
    );
  }
  const latentH = resolution / LATENT_FACTOR;
  const latentW = (layout === 'side-by-side' ? 2 : 1) * latentH;
  un.dim(sample, 2, latentH, `latent height for ${layout} at ${resolution}px`);
  un.dim(sample, 3, latentW, `latent width for ${layout} at ${resolution}px`);
  ve.dim(veSample, 2, resolution, 'image height');
  ve.dim(veSample, 3, (layout === 'side-by-side' ? 2 : 1) * resolution, 'image width');
  vd.dim(vdLatent, 2, latentH, 'latent height');
  vd.dim(vdLatent, 3, latentW, 'latent width');

  const sc = input.schedulerConfig;
  const schedulerName = manifest?.scheduler ?? schedulerForClass(sc.className) ?? 'ddim';
  const isLcm = schedulerName === 'lcm';
  const defaults: PackDefaults = {
    steps: manifest?.steps ?? (isLcm ? 4 : 30),
    guidance: manifest?.guidance ?? (isLcm ? 1 : 7.5),
    // Plain SD repaints the warped view partly; in-context and image-conditioned UNets start from noise.
    strength: manifest?.strength ?? (variant === 'text-to-image' ? 0.6 : 1),
    prompt: manifest?.prompt ?? DEFAULT_PROMPT,
    negativePrompt: manifest?.negativePrompt ?? 'blurry, deformed face, low quality',
  };

  return {
    dir,
    format: manifest ? 'ic-portrait' : 'diffusers',
    variant,
    variantSource,
    unetChannels: channels,
    latentChannels,
    extraChannels,
    layout,
    resolution,
    latentScale:
      manifest?.latentScale ??
      (typeof input.vaeConfig?.['scaling_factor'] === 'number' ? input.vaeConfig['scaling_factor'] : 0.18215),
    predictionType: manifest?.predictionType ?? sc.predictionType,
    scheduler: schedulerName,
    karras: manifest?.karras ?? sc.karras,
    schedulerConfig: sc,
    defaults,
    io: {
      textEncoder: { inputIds, hidden: teHidden },
      unet: { sample, timestep, hidden: unHidden, output: unOut },
      vaeEncoder: { sample: veSample, output: veOut, parameters },
      vaeDecoder: { latent: vdLatent, output: vdOut },
    },
  };
}
