import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decontaminateEdges } from '../../src/pipeline/compose/plate.js';
import { faceOvalMask } from '../../src/pipeline/geometry/face-oval.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/**
 * A 256 x 256 photo with the person (`person`) left of x = 128 and the wall (`wall`) right of it, the plate
 * `plate` everywhere, and a mask ramping from 1 at `from` to 0 at `to`.
 */
function edgeScene(person: number[], wall: number[], plateColour: number[], from: number, to: number) {
  const size = 256;
  const n = size * size;
  const image = new Uint8Array(n * 3);
  const plate = new Uint8Array(n * 3);
  const alpha = new Float32Array(n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = y * size + x;
      image.set(x < 128 ? person : wall, o * 3);
      plate.set(plateColour, o * 3);
      alpha[o] = Math.min(1, Math.max(0, (to - x) / (to - from)));
    }
  }
  const rgb = (data: Uint8Array): RgbImage => ({ data, width: size, height: size, channels: 3 });
  return { size, alpha, out: decontaminateEdges(rgb(image), alpha, rgb(plate)) };
}

it("the person's edge colours stay the person's where the mask's ramp and the plate are off", () => {
  const skin = [180, 120, 100];
  // The true edge at x = 128; the mask ramps from 1 at 124 to 0 at 140 (it spills onto the wall), and the plate
  // (the wall filled in) is a little brighter than the wall really is by the edge.
  const { size, alpha, out: unmixed } = edgeScene(skin, [205, 205, 205], [228, 228, 228], 124, 140);
  const out = unmixed.image;
  for (let x = 124; x < 140; x++) {
    const o = (100 * size + x) * 3;
    const d = Math.hypot(...[0, 1, 2].map((c) => (out.data[o + c] ?? 0) - (skin[c] ?? 0)));
    // Unmixing alone gave 130 grey (dark line) to white (pale rim) here.
    assert.ok(
      d < 45,
      `at x ${x} (alpha ${alpha[100 * size + x]?.toFixed(2)}) the colour is ${d.toFixed(0)} off the skin`,
    );
  }
});

it('the face oval covers the face inside its outline, not the corners of its box', () => {
  const size = 200;
  const points = new Float32Array(468 * 3);
  // Every mesh point on a circle of radius 60 round (100, 100): the oval indices then trace that circle.
  for (let i = 0; i < 468; i++) {
    points[i * 3] = 100 + 60 * Math.cos((i / 468) * 2 * Math.PI);
    points[i * 3 + 1] = 100 + 60 * Math.sin((i / 468) * 2 * Math.PI);
  }
  const oval = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150,
    136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
  ];
  // In the ring's own order, so the polygon is a circle.
  oval.forEach((idx, k) => {
    points[idx * 3] = 100 + 60 * Math.cos((k / oval.length) * 2 * Math.PI);
    points[idx * 3 + 1] = 100 + 60 * Math.sin((k / oval.length) * 2 * Math.PI);
  });
  const mask = faceOvalMask(points, size, size);
  assert.equal(mask[100 * size + 100], 1);
  assert.equal(mask[100 * size + 155], 1);
  assert.equal(mask[45 * size + 45], 0, 'the corner of the box round the circle');
  const shrunk = faceOvalMask(points, size, size, 0.8);
  assert.equal(shrunk[100 * size + 155], 0, 'a band inside the outline is left free');
  assert.equal(shrunk[100 * size + 140], 1);
});

it("a mask ramp past the person's edge keeps no more alpha than the photo shows of them", () => {
  // A grey jacket's edge at x = 128 before a dark wall; the mask ramps from 1 at 120 to 0 at 144, over the wall.
  const wall = [30, 26, 24];
  const { size, alpha, out } = edgeScene([120, 124, 130], wall, wall, 120, 144);
  // The wall there carried the jacket's colour at the ramp's alpha: a pale glow round the shoulders. The ramp's low
  // part goes, its middle is cut (its top, nearly sure person, is left: a print the wall's colour lies there).
  for (let x = 134; x < 144; x++) {
    const o = 100 * size + x;
    const limit = x >= 137 ? 0.02 : 0.5 * (alpha[o] ?? 0);
    assert.ok((out.alpha[o] ?? 1) < limit, `at x ${x} alpha ${out.alpha[o]?.toFixed(2)} over the wall`);
  }
  for (let x = 110; x < 128; x++) {
    const o = 100 * size + x;
    assert.ok(Math.abs((out.alpha[o] ?? 0) - (alpha[o] ?? 0)) < 1e-6, `at x ${x} the jacket's alpha changed`);
  }
});
