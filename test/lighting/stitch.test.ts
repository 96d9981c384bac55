import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildStitch, latentMask, patchMask, stitchDebugImages } from '../../src/pipeline/incontext/stitch.js';
import type { RgbImage } from '../../src/pipeline/types.js';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height, channels: 3 };
}

test('stitch: shapes, layout and value ranges as documented for the diffusion engine', async () => {
  const ref = solid(300, 300, [255, 0, 0]);
  const tgt = solid(128, 128, [0, 0, 255]);
  const c = await buildStitch(ref, tgt, { size: 128, seed: 7 });
  assert.equal(c.width, 256);
  assert.equal(c.height, 128);
  assert.equal(c.canvas.length, 3 * 128 * 256);
  assert.equal(c.maskedCanvas.length, 3 * 128 * 256);
  assert.equal(c.mask.length, 128 * 256);
  assert.equal(c.warpedTarget.length, 3 * 128 * 128);
  const plane = 128 * 256;
  // Reference (red) on the left, target (blue) on the right, in [-1, 1].
  assert.equal(c.canvas[10 * 256 + 5], 1);
  assert.equal(c.canvas[2 * plane + 10 * 256 + 5], -1);
  assert.equal(c.canvas[10 * 256 + 200], -1);
  assert.equal(c.canvas[2 * plane + 10 * 256 + 200], 1);
  for (const v of c.canvas) assert.ok(v >= -1 && v <= 1);
  // The left half is never masked; masked pixels are zero in maskedCanvas and only there.
  for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) assert.equal(c.mask[y * 256 + x], 0);
  for (let i = 0; i < plane; i++) {
    const m = c.mask[i] ?? 0;
    assert.ok(m === 0 || m === 1);
    for (let k = 0; k < 3; k++) assert.equal(c.maskedCanvas[k * plane + i], m ? 0 : c.canvas[k * plane + i]);
  }
  assert.equal(c.warpedTarget[0], -1);
  assert.equal(c.reference.length, 3 * 128 * 128);
  assert.equal(c.reference[0], 1);
  assert.equal(c.warpedTarget[2 * 128 * 128], 1);
});

test('stitch mask: seeded, deterministic, patch-based and at the asked ratio', () => {
  const a = patchMask(512, 0.8, 32, 42);
  const b = patchMask(512, 0.8, 32, 42);
  const other = patchMask(512, 0.8, 32, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, other);
  const share = a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(share - 0.8) < 1 / 256 + 1e-9, `share ${share}`);
  // Constant within each 32x32 patch.
  for (let py = 0; py < 16; py++) {
    for (let px = 0; px < 16; px++) {
      const v = a[py * 32 * 512 + px * 32];
      for (const [dx, dy] of [
        [31, 0],
        [0, 31],
        [31, 31],
        [13, 17],
      ] as const) {
        assert.equal(a[(py * 32 + dy) * 512 + px * 32 + dx], v);
      }
    }
  }
  for (const ratio of [0, 0.25, 0.5, 1]) {
    const m = patchMask(256, ratio, 32, 1);
    assert.equal(m.reduce((s, v) => s + v, 0) / m.length, ratio);
  }
  assert.throws(() => patchMask(256, 1.5, 32, 1), RangeError);
});

test('stitch: configurable ratio, latent mask and debug images', async () => {
  const ref = solid(64, 64, [128, 128, 128]);
  const c = await buildStitch(ref, ref, { size: 64, seed: 3, maskRatio: 0.5, patch: 16 });
  assert.equal(c.maskRatio, 0.5);
  const lm = latentMask(c);
  assert.equal(lm.length, 8 * 16);
  assert.equal(
    lm.reduce((s, v) => s + v, 0),
    (8 * 8) / 2,
  );
  const { canvas, masked } = stitchDebugImages(c);
  assert.equal(canvas.width, 128);
  assert.equal(masked.height, 64);
  assert.equal(canvas.data[0], 128);
  await assert.rejects(buildStitch(ref, ref, { size: 60, seed: 1 }), RangeError);
});
