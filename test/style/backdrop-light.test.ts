import assert from 'node:assert/strict';
import { it } from 'node:test';
import { lightBackdropLikePlate } from '../../src/pipeline/style/index.js';
import type { RgbImage } from '../../src/pipeline/types.js';

it("a studio backdrop takes the photo background's light: darker where the old wall was dark, flat at strength 0", () => {
  const size = 64;
  const fill = (f: (x: number) => [number, number, number]): RgbImage => {
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.set(f(x), (y * size + x) * 3);
    return { data, width: size, height: size, channels: 3 };
  };
  const backdrop = fill(() => [40, 70, 140]);
  // The old background: a dark studio wall on the left, a bright window on the right.
  const plate = fill((x) => (x < size / 2 ? [30, 30, 30] : [200, 200, 200]));
  const lit = lightBackdropLikePlate(backdrop, { image: plate, factor: 1 }, 0.5);
  const blue = (img: RgbImage, x: number) => img.data[(32 * size + x) * 3 + 2] ?? 0;
  assert.ok(blue(lit, 8) < 140 && blue(lit, 56) > 140, `left ${blue(lit, 8)} right ${blue(lit, 56)}`);
  // Held within its bounds: still the backdrop's blue, not black or white.
  assert.ok(blue(lit, 8) > 80 && blue(lit, 56) < 200);
  const flat = lightBackdropLikePlate(backdrop, { image: plate, factor: 1 }, 0);
  assert.deepEqual([...flat.data.subarray(0, 3)], [40, 70, 140]);
});
