import assert from 'node:assert/strict';
import { it } from 'node:test';
import { composePortrait } from '../../src/pipeline/compose/compose.js';
import type { HeadWarp } from '../../src/pipeline/geometry/head-warp.js';
import type { PersonLight } from '../../src/pipeline/lighting/person-relight.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/** Standard deviation of the green channel over columns x0..x1 and rows y0..y1. */
function spread(image: RgbImage, x0: number, x1: number, y0: number, y1: number): number {
  const values: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) values.push(image.data[(y * image.width + x) * 3 + 1]!);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

it("flattens the photo's highlights in a shadow only where the light says (the head), keeping a wall's texture", () => {
  // A textured surface (bright and dark specks) under a deep shadow, flattening asked for on the left half only:
  // there its bright specks go toward their surround, on the right (a wall beside the head) they stay as they were.
  const size = 160;
  const cell = 8;
  const gw = size / cell;
  const data = new Uint8Array(size * size * 3);
  let seed = 11;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let o = 0; o < size * size; o++) {
    const v = random() < 0.3 ? 230 : 120;
    data.set([v, v, v], o * 3);
  }
  const image: RgbImage = { data, width: size, height: size, channels: 3 };
  const person: HeadWarp = {
    image,
    alpha: new Float32Array(size * size).fill(1),
    inverse: new Float32Array(gw * gw * 2),
    grid: { width: gw, height: gw, cell },
    maxShift: 0,
  };
  const where = new Float32Array(gw * gw);
  for (let gy = 0; gy < gw; gy++) for (let gx = 0; gx < gw / 2; gx++) where[gy * gw + gx] = 1;
  const light = (flattenWhere?: Float32Array): PersonLight => ({
    gain: new Float32Array(gw * gw * 3).fill(0.2),
    width: gw,
    height: gw,
    cell,
    meanGain: 0.2,
    flattenShadow: 0.8,
    ...(flattenWhere ? { flattenWhere } : {}),
  });
  const background = { image, factor: 1 };
  const none: PersonLight = { ...light(), flattenShadow: 0 };
  const plain = composePortrait(person, none, background, { knee: 0.6 });
  const everywhere = composePortrait(person, light(), background, { knee: 0.6 });
  const head = composePortrait(person, light(where), background, { knee: 0.6 });
  const left = (img: RgbImage) => spread(img, 10, 60, 10, 150);
  const right = (img: RgbImage) => spread(img, 100, 150, 10, 150);
  // Flattening works where it applies: the left's speckle well under the unflattened shadow's.
  assert.ok(left(head) < 0.9 * left(plain), `left: ${left(head).toFixed(1)} against ${left(plain).toFixed(1)}`);
  assert.ok(right(everywhere) < 0.9 * right(plain), 'flattened everywhere, the right loses its speckle too');
  // Where the light says no, the texture is the unflattened shadow's.
  assert.ok(
    Math.abs(right(head) - right(plain)) < 0.05 * right(plain),
    `right: ${right(head).toFixed(1)} against ${right(plain).toFixed(1)}`,
  );
});
