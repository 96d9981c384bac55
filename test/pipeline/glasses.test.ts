import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME, glassesBeyondFace, SEE_THROUGH } from '../../src/pipeline/compose/glasses.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/**
 * A 200 x 200 grey wall with a face (an ellipse, the member) whose eyes' outer corners lie at (85, 90) and
 * (155, 90): the left eye's corner is 10 px inside the face's edge, where a far lens reaches past the cheek.
 */
const N = 200;
const WALL = 110;
const DARK = 20;

function scene(draw: (x: number, y: number) => boolean): {
  image: RgbImage;
  person: Float32Array;
  points: Float32Array;
} {
  const data = new Uint8Array(N * N * 3);
  const person = new Float32Array(N * N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const face = Math.hypot((x - 120) / 45, (y - 100) / 60) < 1;
      const v = draw(x, y) ? DARK : face ? 200 : WALL;
      data.fill(v, (y * N + x) * 3, (y * N + x) * 3 + 3);
      if (face) person[y * N + x] = 1;
    }
  }
  const points = new Float32Array(468 * 3);
  points.set([85, 90, 0], 33 * 3);
  points.set([155, 90, 0], 263 * 3);
  return { image: { data, width: N, height: N, channels: 3 }, person, points };
}

const noOval = new Uint8Array(N * N);

/** A lens's rim, 3 px thick, from x 62 into the face and over rows 80..100. */
const rim = (x: number, y: number) =>
  x >= 62 && x <= 90 && y >= 80 && y <= 100 && (x < 65 || y < 83 || y > 97 || x > 87);

describe('glassesBeyondFace: a lens past the cheek is the member', () => {
  it("puts the frame's end and the lens it closes into the member", () => {
    const { image, person, points } = scene(rim);
    const out = glassesBeyondFace(person, image, points, noOval);
    assert.equal(person[90 * N + 63], 0, 'the scene leaves the rim outside the mask');
    assert.equal(out[90 * N + 100], 0, 'only what lies outside the mask');
    assert.equal(out[90 * N + 63], FRAME, 'the rim beyond the cheek');
    assert.equal(out[81 * N + 70], FRAME, "the rim's top");
    assert.equal(out[90 * N + 70], FRAME, 'the lens inside the rim');
    assert.equal(out[90 * N + 58], 0, 'the wall beyond the rim');
    assert.equal(out[110 * N + 66], 0, 'the wall below the lens');
  });

  it('leaves a line that runs on beyond a lens (a window frame, a strand) outside', () => {
    // A bar from the cheek across the whole reach, and a post from top to bottom touching the cheek.
    const bar = (x: number, y: number) => y >= 88 && y <= 91 && x < 80;
    const post = (x: number) => x >= 72 && x <= 76;
    for (const draw of [bar, post]) {
      const { image, person, points } = scene(draw);
      assert.ok(glassesBeyondFace(person, image, points, noOval).every((v) => v === 0));
    }
  });

  it('puts nothing in beside the eye before a busy wall (graffiti flecks touching a temple)', () => {
    // Dark flecks 5 px across every 8 px over the zone beside the left eye; the nearest touch the cheek, as a
    // frame's end would, and each alone would be taken for one.
    const flecks = (x: number, y: number) =>
      x >= 57 && x < 80 && y >= 70 && y < 115 && (x - 57) % 8 < 5 && (y - 70) % 8 < 5;
    const { image, person, points } = scene((x, y) => flecks(x, y) && y >= 86 && y < 91);
    assert.ok(
      glassesBeyondFace(person, image, points, noOval).some((v) => v === FRAME),
      "one row of them is a frame's end",
    );
    const busy = scene(flecks);
    assert.ok(glassesBeyondFace(busy.person, busy.image, busy.points, noOval).every((v) => v !== FRAME));
  });

  it('changes nothing without glasses', () => {
    const { image, person, points } = scene(() => false);
    assert.ok(glassesBeyondFace(person, image, points, noOval).every((v) => v === 0));
  });

  it("takes out what a lens inside the mask shows of the wall, not wall-coloured hair at the mask's edge", () => {
    const { image, person, points } = scene(rim);
    // The selfie model took the rim and the lens in; a grey lock the wall's colour hangs at the face's edge below.
    for (let y = 78; y <= 102; y++) for (let x = 60; x <= 90; x++) person[y * N + x] = 1;
    for (let y = 104; y <= 114; y++) for (let x = 70; x <= 78; x++) person[y * N + x] = 1;
    const out = glassesBeyondFace(person, image, points, noOval);
    assert.equal(out[90 * N + 70], SEE_THROUGH, 'the wall seen through the lens');
    assert.equal(out[90 * N + 63], 0, 'the rim stays');
    assert.equal(out[110 * N + 72], 0, 'the lock at the edge stays');
  });
});
