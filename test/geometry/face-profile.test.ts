import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eyesAndMouthMask, faceOvalMask, faceProfileMask } from '../../src/pipeline/geometry/face-oval.js';
import { apply3, rotationFromEuler } from '../../src/pipeline/geometry/linalg.js';
import { REFERENCE_FACE } from '../../src/pipeline/geometry/reference.js';

const SIDE = 400;
const NOSE_TIP = 1;

/** The reference face turned by `yaw` degrees, projected into a SIDE x SIDE frame (about 200 px tall). */
function turnedFace(yaw: number): Float32Array {
  const r = rotationFromEuler({ yaw, pitch: 0, roll: 0 });
  const out = new Float32Array(REFERENCE_FACE.length);
  for (let i = 0; i < REFERENCE_FACE.length; i += 3) {
    const [x, y, z] = apply3(r, REFERENCE_FACE[i] ?? 0, REFERENCE_FACE[i + 1] ?? 0, REFERENCE_FACE[i + 2] ?? 0);
    out[i] = SIDE / 2 + x * 1.2;
    out[i + 1] = SIDE / 2 + y * 1.2;
    out[i + 2] = z * 1.2;
  }
  return out;
}

const count = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);
const at = (m: Uint8Array, points: Float32Array, i: number) =>
  m[Math.round(points[i * 3 + 1] ?? 0) * SIDE + Math.round(points[i * 3] ?? 0)];

describe("the face's profile past its oval (faceProfileMask)", () => {
  it('is about empty on a face that looks ahead', () => {
    const face = turnedFace(0);
    const profile = faceProfileMask(face, SIDE, SIDE);
    assert.ok(count(profile) < 0.01 * count(faceOvalMask(face, SIDE, SIDE)), `${count(profile)} px`);
  });

  it('holds the nose tip of a face turned aside, where the oval does not reach, and nothing of the oval', () => {
    for (const yaw of [40, -40]) {
      const face = turnedFace(yaw);
      const profile = faceProfileMask(face, SIDE, SIDE);
      const oval = faceOvalMask(face, SIDE, SIDE);
      assert.equal(at(oval, face, NOSE_TIP), 0, `yaw ${yaw}: the nose tip lies past the oval`);
      assert.equal(at(profile, face, NOSE_TIP), 1, `yaw ${yaw}: the profile holds the nose tip`);
      for (let i = 0; i < oval.length; i++) if (oval[i]) assert.equal(profile[i], 0);
    }
  });
});

describe('the eyes and the open mouth (eyesAndMouthMask)', () => {
  it('holds the whites of both eyes and the mouth, and no cheek, nose or forehead', () => {
    const face = turnedFace(0);
    const mask = eyesAndMouthMask(face, SIDE, SIDE);
    const between = (a: number, b: number) =>
      mask[
        Math.round(((face[a * 3 + 1] ?? 0) + (face[b * 3 + 1] ?? 0)) / 2) * SIDE +
          Math.round(((face[a * 3] ?? 0) + (face[b * 3] ?? 0)) / 2)
      ];
    // Each eye between its corners, the mouth between its lips' inner middles.
    assert.equal(between(33, 133), 1, "the subject's right eye");
    assert.equal(between(263, 362), 1, "the subject's left eye");
    assert.equal(between(13, 14), 1, 'the mouth');
    // The nose tip, both cheekbones, the forehead's middle.
    for (const i of [NOSE_TIP, 50, 280, 151]) assert.equal(at(mask, face, i), 0, `mesh point ${i}`);
    // Small beside the face: under a tenth of the oval.
    assert.ok(count(mask) < 0.1 * count(faceOvalMask(face, SIDE, SIDE)), `${count(mask)} px`);
  });
});
