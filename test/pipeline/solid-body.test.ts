import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { solidBody } from '../../src/pipeline/segment/body.js';
import type { Plane } from '../../src/pipeline/segment/plane.js';

/**
 * A 64 x 64 coarse mask: a head (face box 24..40 x 20..40) on a torso the selfie model is sure of, and a shoulder
 * to its right (x 54..64, below row 46) it gave a probability near a half, as against a pale wall.
 */
const N = 64;
const face = { x: 24, y: 20, width: 16, height: 20 };

function planes(shoulder: number, shoulderSkin: number): { coarse: Plane; skin: Plane } {
  const coarse = new Float32Array(N * N);
  const skin = new Float32Array(N * N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const o = y * N + x;
      const head = Math.hypot((x - 32) / 12, (y - 28) / 16) < 1;
      if (head || (y >= 46 && x >= 10 && x < 54)) coarse[o] = 1;
      if (y >= 46 && x >= 54) {
        coarse[o] = shoulder;
        skin[o] = shoulderSkin;
      }
      // Beside the cheek, above the chin: a half-sure patch the parts model calls skin (an ear's business, not this).
      if (y >= 26 && y < 34 && x >= 44 && x < 50) {
        coarse[o] = 0.45;
        skin[o] = 0.9;
      }
    }
  }
  return { coarse: { width: N, height: N, data: coarse }, skin: { width: N, height: N, data: skin } };
}

const at = (p: Plane, x: number, y: number) => p.data[y * N + x] ?? Number.NaN;

describe('solidBody: skin below the shoulders the selfie model was unsure of', () => {
  it('makes a half-sure shoulder the parts model is sure is skin opaque', () => {
    const { coarse, skin } = planes(0.45, 0.9);
    const rose = solidBody(coarse, skin, face);
    assert.ok(rose >= 10 * 18, `rose ${rose}`);
    assert.equal(at(coarse, 60, 55), 1);
    assert.equal(at(coarse, 63, 63), 1);
  });

  it('leaves a half-sure patch the parts model does not call skin (wall, or clothes it may confuse with wall)', () => {
    const { coarse, skin } = planes(0.45, 0.2);
    assert.equal(solidBody(coarse, skin, face), 0);
    assert.ok(Math.abs(at(coarse, 60, 55) - 0.45) < 1e-6);
  });

  it('leaves skin the selfie model saw nothing of, and anything above the chin', () => {
    const { coarse, skin } = planes(0.02, 0.9);
    solidBody(coarse, skin, face);
    assert.ok(Math.abs(at(coarse, 60, 55) - 0.02) < 1e-6);
    assert.ok(Math.abs(at(coarse, 46, 30) - 0.45) < 1e-6);
  });

  it("leaves skin beside the neck, above the shoulders: a blurred neighbour's face there is not the member's", () => {
    const { coarse, skin } = planes(0.45, 0.9);
    // Beside the neck, between the chin (row 40) and the shoulders (row 45), joined to the torso below it.
    for (let y = 40; y < 46; y++) {
      for (let x = 54; x < N; x++) {
        coarse.data[y * N + x] = 0.45;
        skin.data[y * N + x] = 0.9;
      }
    }
    solidBody(coarse, skin, face);
    assert.ok(Math.abs(at(coarse, 60, 42) - 0.45) < 1e-6);
    assert.equal(at(coarse, 60, 55), 1);
  });

  it('only what is joined to the sure person: a skin-coloured patch apart from the body stays as it was', () => {
    const { coarse, skin } = planes(0.45, 0.9);
    // Cut the shoulder off from the torso with a column the selfie model calls background.
    for (let y = 46; y < N; y++) coarse.data[y * N + 53] = 0;
    assert.equal(solidBody(coarse, skin, face), 0);
    assert.ok(Math.abs(at(coarse, 60, 55) - 0.45) < 1e-6);
  });
});
