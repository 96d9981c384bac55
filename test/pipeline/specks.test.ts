import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillSpecks } from '../../src/pipeline/compose/specks.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/**
 * A member (white shirt, rows 100 down) before a pale grey wall, 512 px square; the limit for a speck is 0.03% of
 * the frame, 78 px here.
 */
const S = 512;
const SHIRT = [245, 245, 245];
const WALL = [190, 195, 200];

function scene(): { alpha: Float32Array; image: RgbImage; plate: RgbImage } {
  const alpha = new Float32Array(S * S);
  const image = new Uint8Array(S * S * 3);
  const plate = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const o = y * S + x;
      const member = y >= 100;
      alpha[o] = member ? 1 : 0;
      for (let c = 0; c < 3; c++) {
        image[o * 3 + c] = member ? SHIRT[c]! : WALL[c]!;
        plate[o * 3 + c] = WALL[c]!;
      }
    }
  }
  return {
    alpha,
    image: { data: image, width: S, height: S, channels: 3 },
    plate: { data: plate, width: S, height: S, channels: 3 },
  };
}

/** Cuts a side x side hole at (x0, y0), soft over its outer pixel; `seen` colours the photo inside it. */
function hole(s: ReturnType<typeof scene>, x0: number, y0: number, side: number, seen?: readonly number[]): void {
  for (let y = y0 - 1; y < y0 + side + 1; y++) {
    for (let x = x0 - 1; x < x0 + side + 1; x++) {
      const inner = x >= x0 && y >= y0 && x < x0 + side && y < y0 + side;
      s.alpha[y * S + x] = inner ? 0 : 0.6;
      if (inner && seen) for (let c = 0; c < 3; c++) s.image.data[(y * S + x) * 3 + c] = seen[c]!;
    }
  }
}

describe('fillSpecks', () => {
  it('fills a small hole whose photo shows the member, not one that shows the wall, nor a larger one', () => {
    const s = scene();
    hole(s, 300, 300, 6); // the shirt seen through it: a speck of the refinement
    hole(s, 200, 300, 6, WALL); // the wall seen through it: an earring's ring, a gap between curls
    hole(s, 100, 300, 20); // 484 px: a lens, the gap between an arm and the body
    fillSpecks(s.alpha, s.image, s.plate);
    for (const [x, y] of [
      [303, 303],
      [299, 299],
    ] as const) {
      assert.equal(s.alpha[y * S + x], 1, `the speck at ${x},${y}`);
    }
    assert.equal(s.alpha[303 * S + 203], 0, 'the see-through hole stays');
    assert.equal(s.alpha[310 * S + 110], 0, 'the larger hole stays');
  });

  it('leaves the outline and what touches the frame alone', () => {
    const s = scene();
    // A pocket along the outline opens onto the background; a hole cut by the frame's side is not enclosed.
    for (let y = 100; y < 104; y++) for (let x = 250; x < 254; x++) s.alpha[y * S + x] = 0;
    hole(s, 1, 400, 5);
    const before = s.alpha.slice();
    fillSpecks(s.alpha, s.image, s.plate);
    assert.deepEqual(s.alpha, before);
  });
});
