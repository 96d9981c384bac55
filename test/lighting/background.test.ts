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

it("a darker treatment darkens a near-white wall's bright rim round the member with the wall, not into a white outline", () => {
  // A studio wall at 242 with the 3 px rim at 249 a photo's sharpening leaves beside an ear (dark, 60). Read pixel by
  // pixel the rim counted as more burnt than the wall and stayed bright while the wall darkened: a white outline.
  const w = 1000;
  const h = 20;
  const data = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const x = p % w;
    const v = x >= 500 ? 60 : x >= 497 ? 249 : 242;
    data.set([v, v, v], p * 3);
  }
  const plate: RgbImage = { data, width: w, height: h, channels: 3 };
  const out = treatedBackground(plate, {
    treatment: { blur: 0, brightness: 0.55, saturation: 1, tone: 0 },
    rigColour: [1, 1, 1],
  });
  const at = (x: number) => out.image.data[(10 * w + x) * 3 + 1]!;
  assert.ok(at(20) < 225, `the wall darkened to ${at(20)}`);
  // The photo's rim is 7 levels over the wall; after the treatment about that (18 read pixel by pixel).
  assert.ok(at(498) - at(20) <= 9, `the rim stands ${at(498) - at(20)} levels over the wall`);
  // The wall right beside the ear darkens no more than the wall far off: averaged with the ear's dark pixels it
  // kept less and showed as a grey haze round the member.
  assert.ok(Math.abs(at(490) - at(20)) <= 2, `the wall by the ear is ${at(490)}, far off ${at(20)}`);
});
