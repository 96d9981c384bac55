import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backgroundPlate, mirrorIntoHole } from '../../src/pipeline/compose/plate.js';
import type { RgbImage } from '../../src/pipeline/types.js';

it('what a turn uncovers before window slats continues the slats, not a smooth pale ghost of the head', () => {
  // Horizontal slats (6 px dark, 6 px light) behind an elliptical person. A blind panel saw the smooth fill where a
  // turned head had been as a pale ghost of its outline breaking the slats.
  const w = 512;
  const h = 512;
  const data = new Uint8Array(w * h * 3);
  const alpha = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const inside = ((x - 256) / 110) ** 2 + ((y - 280) / 170) ** 2 < 1;
      alpha[p] = inside ? 1 : 0;
      data.fill(inside ? 200 : Math.floor(y / 6) % 2 ? 210 : 70, p * 3, p * 3 + 1);
      data[p * 3 + 1] = inside ? 150 : data[p * 3]!;
      data[p * 3 + 2] = inside ? 120 : data[p * 3]!;
    }
  }
  const image: RgbImage = { data, width: w, height: h, channels: 3 };
  const plate = backgroundPlate(image, alpha);
  const scenery = mirrorIntoHole(plate, image, alpha);
  /** Mean step between rows half a slat apart, over the hole's side bands (10 to 30 px inside its edge). */
  const slats = (img: RgbImage) => {
    let s = 0;
    let n = 0;
    for (let y = 200; y < 360; y++) {
      for (const x of [146 + 10, 146 + 20, 146 + 30, 366 - 10, 366 - 20, 366 - 30]) {
        s += Math.abs(img.data[(y * w + x) * 3]! - img.data[((y + 6) * w + x) * 3]!);
        n++;
      }
    }
    return s / n;
  };
  const photo = 140;
  assert.ok(slats(plate) < 0.2 * photo, `the smooth fill keeps ${slats(plate).toFixed(1)} of ${photo}`);
  assert.ok(slats(scenery) > 0.6 * photo, `the mirrored fill keeps ${slats(scenery).toFixed(1)} of ${photo}`);
  // Away from the hole the plate is the photo.
  for (const p of [0, 10 * w + 10, 500 * w + 20]) assert.equal(scenery.data[p * 3], data[p * 3]);
});
