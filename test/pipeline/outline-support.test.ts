import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsupportedOutline } from '../../src/pipeline/compose/outline-support.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/**
 * A head (a warm disc) on a blue-grey wall, 512 px, and masks that follow its edge or do not: a mask that also
 * takes in a block of wall, or one that cuts the head in two, has an outline the photo does not show.
 */
const SIZE = 512;
const WALL = [90, 105, 130] as const;
const SKIN = [205, 150, 120] as const;
const face = { x: 196, y: 200, width: 120, height: 150 };

function photo(inHead: (x: number, y: number) => boolean): RgbImage {
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const c = inHead(x, y) ? SKIN : WALL;
      // A little texture, so neither side is perfectly flat.
      const n = ((x * 7 + y * 13) % 9) - 4;
      for (let k = 0; k < 3; k++) data[(y * SIZE + x) * 3 + k] = (c[k] ?? 0) + n;
    }
  }
  return { data, width: SIZE, height: SIZE, channels: 3 };
}

function mask(inside: (x: number, y: number) => boolean): Float32Array {
  const a = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) a[y * SIZE + x] = inside(x, y) ? 1 : 0;
  return a;
}

const head = (x: number, y: number) => Math.hypot(x - 256, y - 270) < 110;

describe('the outline the photo shows (unsupportedOutline)', () => {
  it('a mask along the head’s edge is supported all round', () => {
    assert.ok(unsupportedOutline(photo(head), mask(head), face) < 0.05);
  });

  it('a block of wall taken in beside the head leaves most of its outline unsupported', () => {
    const withWall = (x: number, y: number) => head(x, y) || (x > 330 && x < 470 && y > 120 && y < 330);
    const share = unsupportedOutline(photo(head), mask(withWall), face);
    assert.ok(share > 0.3, `share ${share}`);
  });

  it('a head cut in two (half of the hair lost) is unsupported along the cut', () => {
    const half = (x: number, y: number) => head(x, y) && x < 300;
    const share = unsupportedOutline(photo(head), mask(half), face);
    assert.ok(share > 0.2, `share ${share}`);
  });

  it('the frame’s border is no outline: a head cut by the top of the picture is supported', () => {
    const high = (x: number, y: number) => Math.hypot(x - 256, y - 120) < 180;
    assert.ok(unsupportedOutline(photo(high), mask(high), { ...face, y: 60 }) < 0.05);
  });

  it('below the shoulders nothing is counted (a white collar on a white wall is common)', () => {
    const body = (x: number, y: number) => head(x, y) || y > 480;
    const shirtOnWall = (x: number, y: number) => head(x, y) || (y > 480 && x > 100 && x < 420);
    assert.ok(unsupportedOutline(photo(head), mask(body), face) < 0.05);
    assert.ok(unsupportedOutline(photo(head), mask(shirtOnWall), face) < 0.05);
  });
});
