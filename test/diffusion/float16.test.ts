import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float16ToFloat32, float32ToFloat16, fromHalf, toHalf } from '../../src/pipeline/diffusion/float16.js';

describe('float16 conversion', () => {
  it('encodes known bit patterns (IEEE 754 binary16)', () => {
    const known: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest half
      [65520, 0x7c00], // rounds up to infinity
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -14, 0x0400], // smallest normal
      [1 / 3, 0x3555],
      [Number.POSITIVE_INFINITY, 0x7c00],
    ];
    for (const [value, bits] of known) {
      assert.equal(toHalf(value), bits, `toHalf(${value})`);
      assert.equal(float32ToFloat16(Float32Array.of(value))[0], bits, `array ${value}`);
    }
    assert.ok(Number.isNaN(fromHalf(toHalf(Number.NaN))));
  });

  it('rounds to nearest even and round-trips every half value', () => {
    // 1 + 2^-11 is exactly between 1 and the next half (1 + 2^-10): ties go to the even mantissa (1).
    assert.equal(toHalf(1 + 2 ** -11), 0x3c00);
    assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02);
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i).filter(
      (h) => (h & 0x7c00) !== 0x7c00 || (h & 0x3ff) === 0,
    );
    const back = float32ToFloat16(float16ToFloat32(all));
    for (let i = 0; i < all.length; i++) {
      if (all[i] === 0x8000) continue; // -0 survives as -0: same bits
      assert.equal(back[i], all[i], `half 0x${all[i]!.toString(16)}`);
    }
    // The array fast path agrees with the scalar one on arbitrary values.
    const values = Float32Array.from({ length: 10_000 }, (_, i) => Math.sin(i) * 10 ** ((i % 12) - 6));
    const fast = float32ToFloat16(values);
    for (let i = 0; i < values.length; i++) assert.equal(fast[i], toHalf(values[i]!), `value ${values[i]}`);
  });
});
