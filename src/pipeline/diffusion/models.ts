/**
 * The four networks of a pack, each called with feeds built from its own metadata. Batches are split into
 * single calls where an exporter fixed the batch dimension (classifier-free guidance then costs two UNet calls
 * instead of one batch-2 call).
 */
import type * as ort from 'onnxruntime-node';
import type { Random } from './noise.js';
import type { DiffusionPack } from './pack.js';
import { fixedDim, floatTensor, numericTensor, readFloats, type TensorSpec, timestepTensor } from './tensors.js';

/** How many items one call takes: the fixed batch dimension, or all of them when it is symbolic. */
function chunkSize(spec: TensorSpec, batch: number): number {
  return fixedDim(spec, 0) ?? batch;
}

/**
 * Runs `call` over a batch of `batch` items of `itemSize` floats each, `chunk` items at a time; the last chunk is
 * padded by repeating its final item when a fixed batch dimension demands more items than remain.
 */
async function inChunks(
  input: Float32Array,
  batch: number,
  chunk: number,
  call: (data: Float32Array, n: number, offset: number) => Promise<Float32Array>,
): Promise<Float32Array> {
  if (chunk === batch) return call(input, batch, 0);
  const itemSize = input.length / batch;
  const parts: Float32Array[] = [];
  for (let start = 0; start < batch; start += chunk) {
    const take = Math.min(chunk, batch - start);
    const data = new Float32Array(chunk * itemSize);
    data.set(input.subarray(start * itemSize, (start + take) * itemSize));
    for (let k = take; k < chunk; k++) data.copyWithin(k * itemSize, (take - 1) * itemSize, take * itemSize);
    const out = await call(data, chunk, start);
    parts.push(out.subarray(0, (out.length / chunk) * take));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface TextEmbeddings {
  /** [n, sequence, hidden] float32. */
  data: Float32Array;
  count: number;
  sequence: number;
  hidden: number;
}

/** CLIP text embeddings (last_hidden_state) for each prompt, in order. */
export async function encodeText(pack: DiffusionPack, prompts: readonly string[]): Promise<TextEmbeddings> {
  const { inputIds, hidden } = pack.info.io.textEncoder;
  const seq = pack.tokenizer.maxLength;
  const ids = prompts.flatMap((p) => pack.tokenizer.encode(p));
  const chunk = chunkSize(inputIds, prompts.length);
  const outs: Float32Array[] = [];
  for (let start = 0; start < prompts.length; start += chunk) {
    const take = Math.min(chunk, prompts.length - start);
    const slice = ids.slice(start * seq, (start + take) * seq);
    while (slice.length < chunk * seq) slice.push(...slice.slice(-seq));
    const result = await pack.sessions.textEncoder.run({
      [inputIds.name]: numericTensor(inputIds, slice, [chunk, seq]),
    });
    const data = readFloats(result[hidden.name], 'text_encoder/model.onnx last_hidden_state');
    outs.push(data.subarray(0, (data.length / chunk) * take));
  }
  const data = new Float32Array(outs.reduce((n, o) => n + o.length, 0));
  let o = 0;
  for (const part of outs) {
    data.set(part, o);
    o += part.length;
  }
  return { data, count: prompts.length, sequence: seq, hidden: data.length / (prompts.length * seq) };
}

/** Evaluates the UNet on [batch, channels, h, w] samples at timestep t; returns out_sample as float32. */
export type UnetCall = (sample: Float32Array, t: number) => Promise<Float32Array>;

/**
 * A UNet caller for one generation: the text embeddings (item k of the batch uses embedding k) are turned into
 * tensors once, so a step only converts the sample and the timestep.
 */
export function unetCaller(
  pack: DiffusionPack,
  text: TextEmbeddings,
  batch: number,
  channels: number,
  height: number,
  width: number,
): UnetCall {
  const io = pack.info.io.unet;
  const chunk = chunkSize(io.sample, batch);
  const textItem = text.sequence * text.hidden;
  const hiddenTensors = new Map<number, ort.Tensor>();
  const hiddenFor = (offset: number): ort.Tensor => {
    let tensor = hiddenTensors.get(offset);
    if (!tensor) {
      const data = new Float32Array(chunk * textItem);
      for (let k = 0; k < chunk; k++) {
        const src = Math.min(offset + k, batch - 1);
        data.set(text.data.subarray(src * textItem, (src + 1) * textItem), k * textItem);
      }
      tensor = floatTensor(io.hidden, data, [chunk, text.sequence, text.hidden]);
      hiddenTensors.set(offset, tensor);
    }
    return tensor;
  };
  return (sample, t) =>
    inChunks(sample, batch, chunk, async (data, n, offset) => {
      const result = await pack.sessions.unet.run({
        [io.sample.name]: floatTensor(io.sample, data, [n, channels, height, width]),
        [io.timestep.name]: timestepTensor(io.timestep, t, n),
        [io.hidden.name]: hiddenFor(offset),
      });
      return readFloats(result[io.output.name], 'unet/model.onnx out_sample');
    });
}

/**
 * VAE encoding of one image NCHW [1, 3, H, W] in [-1, 1], scaled by the pack's latent scale. Exports that
 * return the distribution (`latent_parameters`: mean and log-variance) are sampled with `rng`, as diffusers
 * samples `latent_dist`; older exports already return a sample.
 */
export async function encodeImage(
  pack: DiffusionPack,
  image: Float32Array,
  height: number,
  width: number,
  rng: Random,
): Promise<Float32Array> {
  const io = pack.info.io.vaeEncoder;
  const result = await pack.sessions.vaeEncoder.run({
    [io.sample.name]: floatTensor(io.sample, image, [1, 3, height, width]),
  });
  const out = readFloats(result[io.output.name], `vae_encoder/model.onnx ${io.output.name}`);
  const scale = pack.info.latentScale;
  if (!io.parameters) return Float32Array.from(out, (v) => v * scale);
  const half = out.length / 2;
  const latents = new Float32Array(half);
  for (let k = 0; k < half; k++) {
    const logvar = Math.min(Math.max(out[half + k]!, -30), 20);
    latents[k] = (out[k]! + Math.exp(0.5 * logvar) * rng.normal()) * scale;
  }
  return latents;
}

/** VAE decoding of latents [1, c, h, w] (scaled) to an image NCHW [1, 3, 8h, 8w] in [-1, 1]. */
export async function decodeLatents(
  pack: DiffusionPack,
  latents: Float32Array,
  height: number,
  width: number,
): Promise<Float32Array> {
  const io = pack.info.io.vaeDecoder;
  const scale = pack.info.latentScale;
  const scaled = Float32Array.from(latents, (v) => v / scale);
  const channels = latents.length / (height * width);
  const result = await pack.sessions.vaeDecoder.run({
    [io.latent.name]: floatTensor(io.latent, scaled, [1, channels, height, width]),
  });
  return readFloats(result[io.output.name], 'vae_decoder/model.onnx sample');
}
