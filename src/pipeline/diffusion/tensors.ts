/**
 * Tensors built to a session's own input metadata: float32 or float16 latents, int32 or int64 token ids, and a
 * timestep that is a scalar, [1] or [B] of whatever type the exporter chose. Outputs come back as float32.
 */
import * as ort from 'onnxruntime-node';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';

/** A tensor input or output as a session declares it (numbers are fixed dims, strings symbolic). */
export interface TensorSpec {
  readonly name: string;
  readonly type: ort.Tensor.Type;
  readonly shape: readonly (number | string)[];
}

export const FLOAT_TYPES: readonly ort.Tensor.Type[] = ['float32', 'float16'];
export const INT_TYPES: readonly ort.Tensor.Type[] = ['int32', 'int64'];

/** A fixed dimension, or undefined when the exporter left it symbolic. */
export function fixedDim(spec: TensorSpec, axis: number): number | undefined {
  const d = spec.shape[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** float32 data as the spec's float type (float16 converted to its bit patterns). */
export function floatTensor(spec: TensorSpec, data: Float32Array, dims: readonly number[]): ort.Tensor {
  if (spec.type === 'float16') return new ort.Tensor('float16', float32ToFloat16(data), dims);
  return new ort.Tensor('float32', data, dims);
}

/** Integer (or float) values in the spec's type, e.g. token ids as int32 or int64. */
export function numericTensor(spec: TensorSpec, values: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  switch (spec.type) {
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values, Math.trunc), dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToFloat16(Float32Array.from(values)), dims);
    default:
      return new ort.Tensor('float32', Float32Array.from(values), dims);
  }
}

/**
 * The UNet timestep as declared: a scalar when the shape is [], [n] for a fixed n, else [batch]. Integer types
 * truncate fractional timesteps, as numpy's astype does in the diffusers ONNX pipeline.
 */
export function timestepTensor(spec: TensorSpec, t: number, batch: number): ort.Tensor {
  if (spec.shape.length === 0) return numericTensor(spec, [t], []);
  const n = fixedDim(spec, 0) ?? batch;
  return numericTensor(spec, new Array<number>(n).fill(t), [n]);
}

/** An output tensor's values as float32 (float16 decoded). */
export function readFloats(value: ort.OnnxValue | undefined, what: string): Float32Array {
  if (!value || !(value instanceof ort.Tensor)) throw new Error(`${what}: no tensor output`);
  if (value.type === 'float32') return value.data as Float32Array;
  if (value.type === 'float16') return float16ToFloat32(value.data as Uint16Array);
  throw new Error(`${what}: expected a float output, got ${value.type}`);
}
