import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { putBackLostHair } from '../../src/pipeline/segment/lost-hair.js';
import type { Plane } from '../../src/pipeline/segment/plane.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/**
 * A 64 x 64 coarse mask: a head (face box 24..40 x 20..40) with a hat the selfie model kept, except the brim's tip
 * sticking out to the right, which only the parts model's hair plane has.
 */
const N = 64;
const face = { x: 24, y: 20, width: 16, height: 20 };

type Rgb = readonly [number, number, number];

function planes(
  extraHair: (x: number, y: number) => boolean,
  wall = 235,
  extra: Rgb | ((x: number, y: number) => Rgb) = [40, 40, 40],
  hatGrey = 40,
): { coarse: Plane; hair: Plane; photo: RgbImage } {
  const coarse = new Float32Array(N * N);
  const hair = new Float32Array(N * N);
  // The hat and the extra hair are dark; the wall is pale unless asked (a black wall).
  const data = new Uint8Array(N * N * 3).fill(wall);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const head = Math.hypot((x - 32) / 12, (y - 28) / 16) < 1;
      const hat = y >= 10 && y < 18 && x >= 20 && x < 44;
      const body = y >= 46 && x >= 10 && x < 54;
      coarse[y * N + x] = head || hat || body ? 1 : 0;
      hair[y * N + x] = hat || extraHair(x, y) ? 0.9 : 0;
      if (hat) data.fill(hatGrey, (y * N + x) * 3, (y * N + x) * 3 + 3);
      else if (extraHair(x, y)) data.set(typeof extra === 'function' ? extra(x, y) : extra, (y * N + x) * 3);
    }
  }
  return {
    coarse: { width: N, height: N, data: coarse },
    hair: { width: N, height: N, data: hair },
    photo: { data, width: N, height: N, channels: 3 },
  };
}

const brimTip = (x: number, y: number) => y >= 15 && y < 18 && x >= 44 && x < 52;
const at = (p: Plane, x: number, y: number) => p.data[y * N + x]!;

describe('hair the selfie model lost (putBackLostHair)', () => {
  it("a brim's tip joined to the hat comes in, with a ring for the refinement to place the edge", () => {
    const { coarse, hair, photo } = planes(brimTip);
    const share = putBackLostHair(coarse, hair, face, photo);
    assert.ok(share > 0 && share < 0.2, `share ${share}`);
    assert.ok(at(coarse, 50, 16) > 0.9, 'the tip is the member');
    assert.ok(at(coarse, 53, 16) >= 0.5 && at(coarse, 53, 16) < 0.9, 'the ring is just over the line');
    assert.equal(at(coarse, 58, 16), 0, 'beyond the ring nothing');
  });

  it('hair apart from the person, below the mouth or far beside the face stays out', () => {
    const apart = (x: number, y: number) => y >= 12 && y < 16 && x >= 50 && x < 58;
    const low = (x: number, y: number) => y >= 38 && y < 46 && x >= 44 && x < 50;
    const far = (x: number, y: number) => y >= 15 && y < 18 && x >= 44 && x < 64;
    for (const [what, extra] of [
      ['apart', apart],
      ['below the mouth', low],
    ] as const) {
      const { coarse, hair, photo } = planes(extra);
      const before = coarse.data.slice();
      assert.equal(putBackLostHair(coarse, hair, face, photo), 0, what);
      assert.deepEqual(coarse.data, before, what);
    }
    const { coarse, hair, photo } = planes(far);
    putBackLostHair(coarse, hair, face, photo);
    assert.ok(at(coarse, 50, 16) > 0.9, 'near the face it comes');
    assert.ok(at(coarse, 62, 16) < 0.5, 'past 1.6 face widths from its centre it does not');
  });

  it("a piece of the wall's own colour (a black wall the parts model calls hair) stays out", () => {
    const { coarse, hair, photo } = planes(brimTip, 40);
    const before = coarse.data.slice();
    assert.equal(putBackLostHair(coarse, hair, face, photo), 0);
    assert.deepEqual(coarse.data, before);
  });

  it('a piece unlike the hair it joins (dark foliage above auburn hair) stays out', () => {
    const { coarse, hair, photo } = planes(brimTip, 235, [40, 120, 40]);
    const before = coarse.data.slice();
    assert.equal(putBackLostHair(coarse, hair, face, photo), 0);
    assert.deepEqual(coarse.data, before);
  });

  it('wisps with the wall between them (a strong edge, but nearly the wall on average) stay out', () => {
    // A grey felt hat; beside it a piece whose rim is strands a little darker than the pale wall and whose inside
    // is the wall itself: every edge shows, the colour is like the hat's, but the piece is not solid.
    const wisps = (x: number, y: number) => y >= 10 && y < 24 && x >= 44 && x < 54;
    const rim = (x: number, y: number): Rgb =>
      x === 44 || x === 53 || y === 10 || y === 23 ? [170, 170, 170] : [235, 235, 235];
    const { coarse, hair, photo } = planes(wisps, 235, rim, 200);
    const before = coarse.data.slice();
    assert.equal(putBackLostHair(coarse, hair, face, photo), 0);
    assert.deepEqual(coarse.data, before);
  });

  it('a large sheet of "hair" (the parts model spread over a dark wall) changes nothing', () => {
    const wall = (x: number, y: number) => y < 40 && x >= 44;
    const { coarse, hair, photo } = planes(wall);
    const before = coarse.data.slice();
    assert.equal(putBackLostHair(coarse, hair, face, photo), 0);
    assert.deepEqual(coarse.data, before);
  });
});
