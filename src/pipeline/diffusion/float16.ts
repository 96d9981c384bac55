/**
 * IEEE 754 half precision <-> float32, for fp16 exports (onnxruntime-node takes and returns float16 tensors as
 * Uint16Array bit patterns; Node 20 has no Float16Array). Round-to-nearest-even, subnormals, inf and NaN kept.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(value: number): number {
  f32[0] = value;
  return halfBits(u32[0]!);
}

/** float32 bit pattern -> float16 bit pattern, round to nearest even. */
function halfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000; // implicit leading 1, then shift into the subnormal range
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent: still correct
  return sign | Math.min(half, 0x7c00);
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function float32ToFloat16(src: ArrayLike<number>, out = new Uint16Array(src.length)): Uint16Array {
  if (src instanceof Float32Array) {
    // Read the bit patterns directly: no per-element round trip through a scratch Float32Array.
    const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
    for (let i = 0; i < bits.length; i++) {
      const x = bits[i]!;
      const exp = (x >>> 23) & 0xff;
      // The common case, a normal half: exponent 113..142. Round to nearest even on the 13 dropped bits.
      if (exp > 112 && exp < 143) {
        const half = ((exp - 112) << 10) | ((x >>> 13) & 0x3ff);
        const rem = x & 0x1fff;
        const up = rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0;
        out[i] = ((x >>> 16) & 0x8000) | Math.min(half + up, 0x7c00);
      } else {
        out[i] = halfBits(x);
      }
    }
    return out;
  }
  for (let i = 0; i < src.length; i++) out[i] = toHalf(src[i]!);
  return out;
}

/** Table of all 65536 half values, built on first use: decoding an output is then one lookup per element. */
let table: Float32Array | undefined;

export function float16ToFloat32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = fromHalf(i);
  }
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
  return out;
}
