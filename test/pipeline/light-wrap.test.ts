import assert from 'node:assert/strict';
import { it } from 'node:test';
import { wrapLight } from '../../src/pipeline/compose/light-wrap.js';
import type { RgbImage } from '../../src/pipeline/types.js';

it("light wrap tints the person's rim toward the backdrop and leaves their middle alone", () => {
  const size = 200;
  const n = size * size;
  const fill = (c: [number, number, number]): RgbImage => {
    const data = new Uint8Array(n * 3);
    for (let o = 0; o < n; o++) data.set(c, o * 3);
    return { data, width: size, height: size, channels: 3 };
  };
  // A red person filling the left half over a blue backdrop.
  const person = fill([200, 40, 40]);
  const backdrop = fill([20, 40, 160]);
  const alpha = new Float32Array(n);
  for (let o = 0; o < n; o++) alpha[o] = o % size < 100 ? 1 : 0;
  const out = wrapLight(person, alpha, backdrop);
  const blue = (x: number) => out.data[(100 * size + x) * 3 + 2] ?? 0;
  // Just inside the outline the blue rises; well inside it does not.
  assert.ok(blue(99) > 50, `rim blue ${blue(99)}`);
  assert.equal(blue(20), 40);
});
