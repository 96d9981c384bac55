import assert from 'node:assert/strict';
import { it } from 'node:test';
import { treatedBackground } from '../../src/pipeline/lighting/background.js';
import type { RgbImage } from '../../src/pipeline/types.js';

it('a darker background treatment keeps a burnt-white sky bright while it darkens the rest', () => {
  // Left half a blown sky (255), right half foliage (90, 120, 70). Under rembrandt's half brightness the sky went
  // flat mid grey and read as a studio backdrop pasted in beside the scene (a blind panel).
  const w = 64;
  const h = 16;
  const data = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) data.set(p % w < 32 ? [255, 255, 255] : [90, 120, 70], p * 3);
  const plate: RgbImage = { data, width: w, height: h, channels: 3 };
  const out = treatedBackground(plate, {
    treatment: { blur: 0, brightness: 0.5, saturation: 1, tone: 0 },
    rigColour: [1, 1, 1],
  });
  const at = (x: number) => out.image.data[(8 * w + x) * 3 + 1]!;
  assert.ok(at(5) > 230, `the sky went to ${at(5)}`);
  assert.ok(at(60) < 100, `the foliage stayed at ${at(60)}`);
});
