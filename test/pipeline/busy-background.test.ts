import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busyBackground } from '../../src/pipeline/compose/busy-background.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/** A 256 x 256 photo: a head and shoulders (the member's alpha) before a background `wall(x, y)` paints. */
const N = 256;
const face = { x: 96, y: 60, width: 64, height: 80 };

function scene(wall: (x: number, y: number) => [number, number, number]): { image: RgbImage; alpha: Float32Array } {
  const data = new Uint8Array(N * N * 3);
  const alpha = new Float32Array(N * N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const person = Math.hypot((x - 128) / 40, (y - 100) / 55) < 1 || (y > 170 && Math.abs(x - 128) < 90);
      const i = y * N + x;
      if (person) alpha[i] = 1;
      data.set(person ? [90, 60, 40] : wall(x, y), i * 3);
    }
  }
  return { image: { data, width: N, height: N, channels: 3 }, alpha };
}

describe('busyBackground: how busy the background round the head is', () => {
  it('is near 0 before a plain wall or a smooth gradient', () => {
    const plain = scene(() => [200, 205, 210]);
    assert.ok(busyBackground(plain.image, plain.alpha, face) < 1);
    const sky = scene((_x, y) => [120 + (y >> 2), 160 + (y >> 3), 230]);
    assert.ok(busyBackground(sky.image, sky.alpha, face) < 3);
  });

  it('is high before bokeh lights or leaves', () => {
    // Blobs of light and shade a few cells across, as a café's lights or foliage out of focus.
    const bokeh = scene((x, y) => {
      const v = Math.sin(x / 5) * Math.cos(y / 6) > 0.2 ? 230 : 60;
      return [v, Math.round(v * 0.8), Math.round(v * 0.5)];
    });
    assert.ok(busyBackground(bokeh.image, bokeh.alpha, face) > 30);
  });
});
